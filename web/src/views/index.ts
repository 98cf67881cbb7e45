// The views, in navigation order. Each view owns its module; the shell only
// knows this list.
import type { FunctionComponent } from 'preact';
import type { Route } from '../router';
import type { Scope } from '../session';
import { AlertsView } from './alerts';
import { EventView } from './event';
import { PatternsView } from './patterns';
import { SavedView } from './saved';
import { SearchView } from './search';
import { SourcesView } from './sources';
import { TailView } from './tail';
import { TrendsView } from './trends';

export interface ViewProps {
  readonly route: Route;
  readonly scope: Scope;
}

export interface ViewEntry {
  readonly path: string;
  readonly title: string;
  readonly component: FunctionComponent<ViewProps>;
  readonly admin?: boolean;
  readonly hidden?: boolean;
}

export const VIEWS: readonly ViewEntry[] = [
  { path: '/tail', title: 'Live tail', component: TailView },
  { path: '/search', title: 'Search', component: SearchView },
  { path: '/patterns', title: 'Patterns', component: PatternsView },
  { path: '/trends', title: 'Trends', component: TrendsView },
  { path: '/alerts', title: 'Alerts', component: AlertsView },
  { path: '/saved', title: 'Saved', component: SavedView },
  { path: '/sources', title: 'Sources', component: SourcesView, admin: true },
  { path: '/event', title: 'Event', component: EventView, hidden: true },
];

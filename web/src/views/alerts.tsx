import { NotYet } from './placeholder';
import type { ViewProps } from './index';

export function AlertsView(_props: ViewProps) {
  return <NotYet name="Alerts" />;
}

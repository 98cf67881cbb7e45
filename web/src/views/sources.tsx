import { NotYet } from './placeholder';
import type { ViewProps } from './index';

export function SourcesView(_props: ViewProps) {
  return <NotYet name="Sources" />;
}

import { NotYet } from './placeholder';
import type { ViewProps } from './index';

export function SavedView(_props: ViewProps) {
  return <NotYet name="Saved searches" />;
}

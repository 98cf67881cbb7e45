import { NotYet } from './placeholder';
import type { ViewProps } from './index';

export function TailView(_props: ViewProps) {
  return <NotYet name="Live tail" />;
}

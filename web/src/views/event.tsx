import { NotYet } from './placeholder';
import type { ViewProps } from './index';

export function EventView(_props: ViewProps) {
  return <NotYet name="Event" />;
}

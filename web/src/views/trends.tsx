import { NotYet } from './placeholder';
import type { ViewProps } from './index';

export function TrendsView(_props: ViewProps) {
  return <NotYet name="Trends" />;
}

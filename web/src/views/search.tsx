import { NotYet } from './placeholder';
import type { ViewProps } from './index';

export function SearchView(_props: ViewProps) {
  return <NotYet name="Search" />;
}

// Patterns: the shapes of the events a query matches in a range, loudest
// first (/api/v1/patterns). A pattern opens the search for its events: the
// query with pattern:<id> added, over the same range. The query and range
// are in the hash (#/patterns?q=…&from=6h) under the names search uses, so
// a view of patterns is a link too.
import { useState } from 'preact/hooks';
import { PatternResults, usePatterns } from '../components/pattern-list';
import { QueryBox } from '../components/query-box';
import { DEFAULT_RANGE, type Range, TimeRangePicker } from '../components/time-range';
import { navigate } from '../router';
import type { ViewProps } from './index';
import { addTerm, searchHref, searchState } from './search';
import './patterns.css';

function go(q: string, range: Range): void {
  // Defaults stay out of the hash so links stay short.
  navigate('/patterns', {
    q,
    from: range.from === DEFAULT_RANGE.from && range.to === 'now' ? undefined : range.from,
    to: range.to === 'now' ? undefined : range.to,
  });
}

export function PatternsView(props: ViewProps) {
  const { q, range } = searchState(props.route);
  // Enter on an unchanged query leaves the hash alone; this re-runs it anyway.
  const [reloads, setReloads] = useState(0);
  const state = usePatterns(q, range, reloads);
  return (
    <section class="view patterns-view" aria-labelledby="patterns-h">
      <h2 id="patterns-h">Patterns</h2>
      <div class="toolbar">
        <QueryBox
          value={q}
          error={state.queryError}
          label="Filter query"
          placeholder="service:sshd level:>=warn   (Enter to apply, / to focus)"
          onSubmit={(nq) => {
            go(nq, range);
            setReloads((n) => n + 1);
          }}
        />
        <TimeRangePicker value={range} onChange={(r) => go(q, r)} />
        <button type="button" class="secondary" onClick={() => setReloads((n) => n + 1)} disabled={state.busy}>
          Refresh
        </button>
      </div>
      <PatternResults state={state} q={q} range={range} linkOf={(p) => searchHref(addTerm(q, p.query), range)} />
    </section>
  );
}

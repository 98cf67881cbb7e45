// Trends: counts per step grouped by a field (/api/v1/trends), drawn as one
// line per group with the totals in a table. Everything the view shows is in
// the hash (#/trends?q=…&by=service&step=5m&from=6h), so it is linkable.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { errorText } from '../components/event-detail';
import { QueryBox, queryError, type QueryError } from '../components/query-box';
import { DEFAULT_RANGE, describe, TimeRangePicker, type Range } from '../components/time-range';
import { TrendChart, type TrendsAnswer } from '../components/trend-chart';
import { plural } from '../format';
import { navigate } from '../router';
import type { ViewProps } from './index';
import './admin.css';

const BY_CHOICES = ['level', 'service', 'host', 'source'] as const;
const STEPS = ['auto', '1m', '5m', '1h'] as const;
// The server's pattern for `by`: checked here too so a typo is caught before a round trip.
const FIELD = /^[A-Za-z_@][A-Za-z0-9_.@-]{0,127}$/;

interface TrendsState {
  q: string;
  range: Range;
  by: string;
  step: string;
}

function stateOf(params: URLSearchParams): TrendsState {
  return {
    q: params.get('q') ?? '',
    range: { from: params.get('from') || DEFAULT_RANGE.from, to: params.get('to') || DEFAULT_RANGE.to },
    by: params.get('by') || 'level',
    step: params.get('step') || 'auto',
  };
}

function go(s: TrendsState): void {
  // Defaults stay out of the hash so links stay short.
  navigate('/trends', {
    q: s.q,
    from: s.range.from === DEFAULT_RANGE.from && s.range.to === 'now' ? undefined : s.range.from,
    to: s.range.to === 'now' ? undefined : s.range.to,
    by: s.by === 'level' ? undefined : s.by,
    step: s.step === 'auto' ? undefined : s.step,
  });
}

function BySelector(props: { by: string; onChange: (by: string) => void }) {
  const known = (BY_CHOICES as readonly string[]).includes(props.by);
  const [typing, setTyping] = useState(!known);
  const [field, setField] = useState(known ? '' : props.by);
  useEffect(() => {
    const k = (BY_CHOICES as readonly string[]).includes(props.by);
    setTyping(!k);
    setField(k ? '' : props.by);
  }, [props.by]);
  const bad = field !== '' && !FIELD.test(field);
  return (
    <div class="adm-inline">
      <label for="trends-by">by</label>
      <select
        id="trends-by"
        value={typing ? 'field' : props.by}
        onChange={(e) => {
          const v = (e.target as HTMLSelectElement).value;
          // Back to a named grouping: the field box goes, even when that grouping is already in force (no new route to reset it).
          setTyping(v === 'field');
          if (v !== 'field') props.onChange(v);
        }}
      >
        {BY_CHOICES.map((b) => (
          <option key={b} value={b}>
            {b}
          </option>
        ))}
        <option value="field">a field…</option>
      </select>
      {typing && (
        <form
          class="adm-inline"
          onSubmit={(e) => {
            e.preventDefault();
            if (field && !bad) props.onChange(field);
          }}
        >
          <label for="trends-field">Field name</label>
          <input
            id="trends-field"
            class={bad ? 'invalid mono' : 'mono'}
            size={14}
            value={field}
            placeholder="status"
            aria-invalid={bad ? 'true' : 'false'}
            onInput={(e) => setField((e.target as HTMLInputElement).value.trim())}
          />
          <button type="submit" class="secondary" disabled={!field || bad}>
            Group
          </button>
        </form>
      )}
    </div>
  );
}

export function TrendsView(props: ViewProps) {
  const s = stateOf(props.route.params);
  const [answer, setAnswer] = useState<TrendsAnswer | null>(null);
  const [qError, setQError] = useState<QueryError | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    const ac = new AbortController();
    setBusy(true);
    api<TrendsAnswer>('/api/v1/trends', { query: { q: s.q, from: s.range.from, to: s.range.to, by: s.by, step: s.step }, signal: ac.signal })
      .then((a) => {
        setAnswer(a);
        setQError(null);
        setError(null);
      })
      .catch((err: unknown) => {
        if ((err as Error).name === 'AbortError') return;
        // No stale chart beside an error: the numbers would not match the form.
        setAnswer(null);
        const qe = queryError(err);
        setQError(qe);
        setError(qe ? null : errorText(err));
      })
      .finally(() => {
        if (!ac.signal.aborted) setBusy(false);
      });
    return () => ac.abort();
  }, [s.q, s.range.from, s.range.to, s.by, s.step, reloads]);

  return (
    <section class="view adm" aria-labelledby="trends-h">
      <h2 id="trends-h">Trends</h2>
      <div class="toolbar">
        <QueryBox value={s.q} error={qError} label="Filter query" placeholder="level:>=warn service:api   (Enter to apply, / to focus)" onSubmit={(q) => go({ ...s, q })} />
        <TimeRangePicker value={s.range} onChange={(range) => go({ ...s, range })} />
        <BySelector by={s.by} onChange={(by) => go({ ...s, by })} />
        <div class="adm-inline">
          <label for="trends-step">step</label>
          <select id="trends-step" value={s.step} onChange={(e) => go({ ...s, step: (e.target as HTMLSelectElement).value })}>
            {STEPS.map((st) => (
              <option key={st} value={st}>
                {st}
              </option>
            ))}
          </select>
        </div>
        <button type="button" class="secondary" onClick={() => setReloads((n) => n + 1)} disabled={busy}>
          Refresh
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div aria-live="polite" aria-busy={busy ? 'true' : 'false'}>
        {answer && (
          <p class="hint">
            {describe(s.range)}: {plural(answer.buckets.length, 'step')} of {answer.step}
            {s.step === 'auto' ? ' (auto)' : ''}, by {answer.by}
          </p>
        )}
        {answer && answer.series.length === 0 && <p class="muted">No events match in this range.</p>}
        {answer && answer.series.length > 0 && <TrendChart trends={answer} />}
        {!answer && busy && <p class="muted">Loading…</p>}
      </div>
    </section>
  );
}

// Search: query + time range (both in the hash, so a search is a link),
// a histogram of the matching events by level (drag to zoom), the events
// newest first with "Older events" paging by the API's cursor, and a
// sidebar of fields whose top values add a filter when clicked. A Patterns
// tab beside the events lists their patterns (#/search?…&tab=patterns).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, type LogEvent } from '../api';
import { errorText, EventDetail, EventLine } from '../components/event-detail';
import { Histogram, type TrendsAnswer } from '../components/histogram';
import { PatternResults, usePatterns } from '../components/pattern-list';
import { QueryBox, queryError } from '../components/query-box';
import { Tabs, tabId } from '../components/tabs';
import { DEFAULT_RANGE, type Range, rangeText, TimeRangePicker } from '../components/time-range';
import { fieldTerm, plural } from '../format';
import { href, navigate, type Route } from '../router';
import type { ViewProps } from './index';
import './search.css';

const PAGE = 50;

type ResultTab = 'events' | 'patterns';
const RESULT_TABS = [
  { id: 'events', title: 'Events' },
  { id: 'patterns', title: 'Patterns' },
] as const;
const PANEL = 'search-panel';

interface SearchAnswer {
  events: LogEvent[];
  cursor: string | null;
}

interface Filter {
  q: string;
  from: string;
  to: string | undefined;
}

export function searchState(route: Route): { q: string; range: Range } {
  return { q: route.params.get('q') ?? '', range: { from: route.params.get('from') || DEFAULT_RANGE.from, to: route.params.get('to') || DEFAULT_RANGE.to } };
}

/** The hash of a search; `to` is left out while it is "now" so the link stays relative. */
export function searchHref(q: string, range: Range): string {
  return href('/search', searchParams(q, range));
}

function searchParams(q: string, range: Range): Record<string, string | undefined> {
  return { q: q || undefined, from: range.from, to: range.to === 'now' ? undefined : range.to };
}

/** Adds a term to a query; a query with OR is bracketed first, since AND binds tighter. */
export function addTerm(q: string, term: string): string {
  const t = q.trim();
  if (!t) return term;
  if (` ${t} `.includes(` ${term} `)) return t;
  return /\bOR\b/.test(t) ? `(${t}) ${term}` : `${t} ${term}`;
}

const isAbort = (err: unknown) => (err as Error)?.name === 'AbortError';

export function SearchView(props: ViewProps) {
  const { q, range } = searchState(props.route);
  const tab: ResultTab = props.route.params.get('tab') === 'patterns' ? 'patterns' : 'events';
  // The events tab is the default, so it stays out of the hash.
  const show = (nq: string, r: Range, t: ResultTab) => navigate('/search', { ...searchParams(nq, r), tab: t === 'events' ? undefined : t });
  const filter: Filter = useMemo(() => ({ q, from: range.from, to: range.to === 'now' ? undefined : range.to }), [q, range.from, range.to]);
  // Enter on an unchanged query leaves the hash alone; this re-runs it anyway.
  const [runs, setRuns] = useState(0);
  const [answer, setAnswer] = useState<SearchAnswer | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [trends, setTrends] = useState<TrendsAnswer | null>(null);
  // How many match, from this search's histogram (the search API gives pages, not a count).
  const [total, setTotal] = useState<number | null>(null);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const [moreBusy, setMoreBusy] = useState(false);
  const run = useRef(0);

  useEffect(() => {
    const ac = new AbortController();
    run.current++;
    setBusy(true);
    setError(null);
    setOpen(new Set());
    setTotal(null);
    api<SearchAnswer>('/api/v1/search', { query: { ...filter, limit: PAGE }, signal: ac.signal }).then(
      (a) => {
        setAnswer(a);
        setBusy(false);
      },
      (err: unknown) => {
        if (isAbort(err)) return;
        setAnswer(null);
        setError(err);
        setBusy(false);
      },
    );
    api<TrendsAnswer>('/api/v1/trends', { query: { ...filter, step: 'auto', by: 'level' }, signal: ac.signal }).then(
      (t) => {
        setTrends(t);
        setTotal(t.series.reduce((a, x) => a + x.total, 0));
      },
      (err: unknown) => {
        if (!isAbort(err)) setTrends(null);
      },
    );
    return () => ac.abort();
  }, [filter, runs]);

  const go = (nq: string, r: Range) => {
    show(nq, r, tab);
    setRuns((n) => n + 1);
  };

  const older = async () => {
    if (!answer?.cursor) return;
    const mine = run.current;
    setMoreBusy(true);
    try {
      const next = await api<SearchAnswer>('/api/v1/search', { query: { ...filter, limit: PAGE, cursor: answer.cursor } });
      // A new search started meanwhile: its page wins.
      if (run.current === mine) setAnswer({ events: [...answer.events, ...next.events], cursor: next.cursor });
    } catch (err) {
      if (run.current === mine) setError(err);
    } finally {
      setMoreBusy(false);
    }
  };

  const qErr = queryError(error);
  const events = answer?.events ?? [];
  const where = `in ${rangeText(range)}`;
  let status: string;
  if (busy) status = `Searching ${rangeText(range)}${q ? ` for ${q}` : ''}…`;
  else if (error) status = qErr ? 'The query does not parse.' : 'The search failed.';
  else if (!events.length) status = q ? `No events ${where} match ${q}.` : `No events ${where}.`;
  else if (!answer?.cursor) status = `${plural(events.length, 'event')} ${where}, newest first.`;
  // The histogram counts whole steps, so at the range's edges it may hold a
  // few events the search does not: "about".
  else if (total !== null && total > events.length) status = `Newest ${events.length.toLocaleString()} of about ${plural(total, 'event')} ${where}; older ones follow.`;
  else status = `Newest ${plural(events.length, 'event')} ${where}; older ones follow.`;

  return (
    <section class="view search-view">
      <div class="toolbar">
        <QueryBox value={q} error={qErr} onSubmit={(nq) => go(nq, range)} />
        <TimeRangePicker value={range} onChange={(r) => go(q, r)} />
        <SaveSearch q={q} range={range} />
      </div>
      {trends && <Histogram trends={trends} onZoom={(f, t) => go(q, { from: new Date(f).toISOString(), to: new Date(t).toISOString() })} />}
      <div class="search-body">
        <FieldsPanel filter={filter} runs={runs} onPick={(term) => go(addTerm(q, term), range)} />
        <div class="search-main">
          <Tabs label="Results" panel={PANEL} tabs={RESULT_TABS} selected={tab} onSelect={(t) => show(q, range, t)} />
          {tab === 'patterns' ? (
            <div class="search-results" id={PANEL} role="tabpanel" aria-labelledby={tabId(PANEL, tab)}>
              <PatternsTab q={q} range={range} runs={runs} />
            </div>
          ) : (
            <div class="search-results" id={PANEL} role="tabpanel" aria-labelledby={tabId(PANEL, tab)}>
              <p role="status" class={busy ? 'hint busy' : 'hint'}>
                {status}
              </p>
              {error !== null && !qErr && (
                <p class="error" role="alert">
                  {errorText(error)}
                </p>
              )}
              <ol class={busy ? 'results stale' : 'results'} aria-label="Events">
                {events.map((e) => {
                  const isOpen = open.has(e.id);
                  return (
                    <li key={e.id} class={isOpen ? 'open' : undefined}>
                      <button
                        type="button"
                        class="ev row"
                        aria-expanded={isOpen}
                        onClick={() => {
                          const s = new Set(open);
                          if (isOpen) s.delete(e.id);
                          else s.add(e.id);
                          setOpen(s);
                        }}
                      >
                        <EventLine event={e} />
                      </button>
                      {isOpen && <EventDetail event={e} />}
                    </li>
                  );
                })}
              </ol>
              {answer?.cursor && !busy && (
                <button type="button" class="secondary older" disabled={moreBusy} onClick={() => void older()}>
                  {moreBusy ? 'Loading older events…' : 'Older events'}
                </button>
              )}
              {answer && !answer.cursor && events.length > 0 && <p class="hint">No older events {where}.</p>}
            </div>
          )}
        </div>
      </div>
    </section>
  );
}

/** The patterns of the search's events; one opens the search for its events alone. */
function PatternsTab(props: { q: string; range: Range; runs: number }) {
  const state = usePatterns(props.q, props.range, props.runs);
  return <PatternResults state={state} q={props.q} range={props.range} linkOf={(p) => searchHref(addTerm(props.q, p.query), props.range)} />;
}

interface FieldsAnswer {
  sampled: number;
  fields: Array<{ name: string; count: number }>;
}

interface ValuesAnswer {
  values: Array<{ value: string; count: number }>;
}

/** The fields of the newest matching events; expanding one loads its top values. */
function FieldsPanel(props: { filter: Filter; runs: number; onPick: (term: string) => void }) {
  const [fields, setFields] = useState<FieldsAnswer | null>(null);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  // Narrow screens hide the panel behind a button.
  const [shown, setShown] = useState(false);
  useEffect(() => {
    const ac = new AbortController();
    setFields(null);
    api<FieldsAnswer>('/api/v1/fields', { query: { ...props.filter }, signal: ac.signal }).then(setFields, (err: unknown) => {
      if (!isAbort(err)) setFields({ sampled: 0, fields: [] });
    });
    return () => ac.abort();
  }, [props.filter, props.runs]);

  const list = fields?.fields.filter((f) => f.count > 0) ?? [];
  return (
    <aside class={shown ? 'fields-panel shown' : 'fields-panel'} aria-label="Fields">
      <button type="button" class="secondary fields-toggle" aria-expanded={shown} onClick={() => setShown(!shown)}>
        Fields
      </button>
      <div class="fields-list">
        <h3>Fields</h3>
        {!fields ? (
          <p class="hint">Loading fields…</p>
        ) : list.length === 0 ? (
          <p class="hint">No fields: no events match.</p>
        ) : (
          <>
            <p class="hint">in the newest {plural(fields.sampled, 'matching event')}</p>
            <ul>
              {list.map((f) => {
                const isOpen = expanded.has(f.name);
                return (
                  <li key={f.name}>
                    <button
                      type="button"
                      class="field-name"
                      aria-expanded={isOpen}
                      onClick={() => {
                        const s = new Set(expanded);
                        if (isOpen) s.delete(f.name);
                        else s.add(f.name);
                        setExpanded(s);
                      }}
                    >
                      <span>{f.name}</span> <span class="count">{f.count}</span>
                    </button>
                    {isOpen && <FieldValues name={f.name} filter={props.filter} onPick={props.onPick} />}
                  </li>
                );
              })}
            </ul>
          </>
        )}
      </div>
    </aside>
  );
}

function FieldValues(props: { name: string; filter: Filter; onPick: (term: string) => void }) {
  const [values, setValues] = useState<ValuesAnswer['values'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ac = new AbortController();
    api<ValuesAnswer>(`/api/v1/fields/${encodeURIComponent(props.name)}/values`, { query: { ...props.filter, limit: 10 }, signal: ac.signal }).then(
      (a) => setValues(a.values),
      (err: unknown) => {
        if (!isAbort(err)) setError(errorText(err));
      },
    );
    return () => ac.abort();
  }, [props.name, props.filter]);
  if (error) return <p class="error">{error}</p>;
  if (!values) return <p class="hint">Loading values…</p>;
  // An attribute's empty values come back only for the columns (service, host,
  // source), where `host:""` matches exactly; an attribute with no values here
  // was empty or absent in every sampled event.
  if (values.length === 0) return <p class="hint">Only empty values in the sampled events.</p>;
  return (
    <ul class="field-values" aria-label={`Top values of ${props.name}`}>
      {values.map((v) => (
        <li key={v.value}>
          <button type="button" class="link" title={`Add ${fieldTerm(props.name, v.value)} to the query`} onClick={() => props.onPick(fieldTerm(props.name, v.value))}>
            {v.value === '' ? <span class="value muted">(empty)</span> : <span class="value">{v.value}</span>} <span class="count">{v.count}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

interface SavedSearch {
  id: string;
  name: string;
}

/** "Save": names the current query and range and stores them (POST /api/v1/searches). */
function SaveSearch(props: { q: string; range: Range }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  if (!open)
    return (
      <div class="save-search">
        <button
          type="button"
          class="secondary"
          onClick={() => {
            setName(props.q);
            setMessage(null);
            setOpen(true);
          }}
        >
          Save
        </button>
        {message && (
          <span role="status" class="hint">
            {message.text} <a href={href('/saved')}>Saved searches</a>
          </span>
        )}
      </div>
    );
  return (
    <form
      class="save-search"
      onSubmit={async (e) => {
        e.preventDefault();
        const n = name.trim();
        if (!n) return;
        try {
          const s = await api<SavedSearch>('/api/v1/searches', { method: 'POST', body: { name: n, ...searchParams('', props.range), q: props.q } });
          setOpen(false);
          setMessage({ text: `Saved as “${s.name}”.`, error: false });
        } catch (err) {
          setMessage({ text: errorText(err), error: true });
        }
      }}
    >
      <label>
        Name <input value={name} required maxLength={200} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit">Save search</button>
      <button type="button" class="secondary" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {message?.error && (
        <span class="error" role="alert">
          {message.text}
        </span>
      )}
    </form>
  );
}

// The patterns of a query and range (GET /api/v1/patterns), loudest first:
// each template with its variables marked, bars of its counts per step, its
// levels, count and first and last time, and a link to its events. The
// Patterns view and the search view's Patterns tab both show this; the
// caller says where a pattern links, so this module knows no view.
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, LEVELS, type Level, type LogEvent } from '../api';
import { clock, dateTime, epochMs, levelClass, plural } from '../format';
import { errorText } from './event-detail';
import { queryError, type QueryError } from './query-box';
import { Sparkline } from './sparkline';
import { type Range, rangeText } from './time-range';
import '../views/patterns.css';

export interface Pattern {
  id: string;
  template: string;
  /** The search term that finds its events: pattern:<id>. */
  query: string;
  count: number;
  levels: Partial<Record<Level, number>>;
  first_seen: string;
  last_seen: string;
  counts: number[];
  sample: LogEvent | null;
}

export interface PatternsAnswer {
  from: string;
  to: string;
  step: string;
  step_seconds: number;
  buckets: string[];
  total: number;
  unmined: number;
  patterns: Pattern[];
}

export interface PatternsState {
  answer: PatternsAnswer | null;
  queryError: QueryError | null;
  error: string | null;
  busy: boolean;
}

/** How many patterns a list asks for: the API's default. */
export const PATTERN_LIMIT = 50;
// The server's mark for a variable (src/patterns/mask.ts).
const WILDCARD = '<*>';
// Most severe first: an error among a pattern's events is what to see first.
const BY_SEVERITY = [...LEVELS].reverse();

/** Loads the patterns of q in range; again when `reloads` changes. */
export function usePatterns(q: string, range: Range, reloads = 0): PatternsState {
  const [state, setState] = useState<PatternsState>({ answer: null, queryError: null, error: null, busy: true });
  useEffect(() => {
    const ac = new AbortController();
    setState((s) => ({ ...s, busy: true }));
    api<PatternsAnswer>('/api/v1/patterns', { query: { q, from: range.from, to: range.to, limit: PATTERN_LIMIT }, signal: ac.signal }).then(
      (answer) => setState({ answer, queryError: null, error: null, busy: false }),
      (err: unknown) => {
        if ((err as Error).name === 'AbortError') return;
        // No stale list beside an error: its counts would not match the form.
        const qe = queryError(err);
        setState({ answer: null, queryError: qe, error: qe ? null : errorText(err), busy: false });
      },
    );
    return () => ac.abort();
  }, [q, range.from, range.to, reloads]);
  return state;
}

/** A template with each `<*>` marked, so the variable parts stand out from the words that are always there. */
export function Template(props: { text: string }) {
  const parts = props.text.split(WILDCARD);
  return (
    <>
      {parts.map((part, i) => (
        <Fragment key={i}>
          {part}
          {i < parts.length - 1 && <mark class="pat-var">{WILDCARD}</mark>}
        </Fragment>
      ))}
    </>
  );
}

/** Time of day for today, the date too for another day. */
function shortTime(iso: string): string {
  const day = new Date(epochMs(iso)).toDateString();
  return day === new Date().toDateString() ? clock(iso).slice(0, 8) : dateTime(iso).slice(0, 16);
}

function worstLevel(p: Pattern): Level | undefined {
  return BY_SEVERITY.find((l) => p.levels[l]);
}

function PatternRow(props: { pattern: Pattern; step: string; href: string }) {
  const p = props.pattern;
  const worst = worstLevel(p);
  const most = Math.max(0, ...p.counts);
  return (
    <li class="pattern">
      <span class="pat-count">
        {p.count.toLocaleString()}
        <span class="visually-hidden"> {p.count === 1 ? 'event' : 'events'}</span>
      </span>
      <div class="pat-main">
        {/* The link covers the row (CSS), so anywhere on it opens the events. */}
        <a class="pat-template" href={props.href}>
          <Template text={p.template} />
        </a>
        {p.sample && <span class="pat-sample">e.g. {p.sample.message}</span>}
      </div>
      <div class="pat-meta">
        <Sparkline
          counts={p.counts}
          // Warnings and worse in their level's colour, the rest in the accent.
          class={worst && LEVELS.indexOf(worst) >= LEVELS.indexOf('warn') ? `pat-spark lvl-${worst}` : 'pat-spark'}
          label={`${plural(p.count, 'event')}, at most ${most.toLocaleString()} in a step of ${props.step}`}
        />
        <ul class="pat-levels" aria-label="Levels">
          {BY_SEVERITY.filter((l) => p.levels[l]).map((l) => (
            <li key={l} class={levelClass(l)} data-level={l}>
              {l} {p.levels[l]!.toLocaleString()}
            </li>
          ))}
        </ul>
        <span class="pat-seen">
          <span>
            first <time dateTime={p.first_seen} title={dateTime(p.first_seen)}>{shortTime(p.first_seen)}</time>
          </span>
          <span>
            last <time dateTime={p.last_seen} title={dateTime(p.last_seen)}>{shortTime(p.last_seen)}</time>
          </span>
        </span>
      </div>
    </li>
  );
}

/**
 * A pattern listing with its states: loading, an error (one that is about
 * the query is shown by the query box, so only named here), no events,
 * events without a pattern, and the list.
 */
export function PatternResults(props: { state: PatternsState; q: string; range: Range; linkOf: (p: Pattern) => string }) {
  const { answer, busy, error } = props.state;
  const where = `in ${rangeText(props.range)}`;
  let status: string;
  if (busy) status = `Finding the patterns of the events ${where}…`;
  else if (props.state.queryError) status = 'The query does not parse.';
  else if (error || !answer) status = 'The patterns could not be listed.';
  else if (answer.total === 0) status = props.q ? `No events ${where} match ${props.q}.` : `No events ${where}.`;
  else {
    const shown = answer.patterns.length;
    const cut = shown === PATTERN_LIMIT ? `, the loudest ${shown} shown` : '';
    status = `${plural(answer.total, 'event')} ${where}, ${plural(shown, 'pattern')}${cut}; bars per ${answer.step}.`;
  }
  return (
    <div class="pattern-results" aria-busy={busy ? 'true' : 'false'}>
      <p role="status" class={busy ? 'hint busy' : 'hint'}>
        {status}
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {answer && answer.unmined > 0 && (
        <p class="hint pat-unmined">
          {plural(answer.unmined, 'event')} {answer.unmined === 1 ? 'has' : 'have'} no pattern: the range holds more shapes than one listing mines. A narrower query or
          range mines them.
        </p>
      )}
      {answer && answer.patterns.length > 0 && (
        <ol class={busy ? 'patterns stale' : 'patterns'} aria-label="Patterns">
          {answer.patterns.map((p) => (
            <PatternRow key={p.id} pattern={p} step={answer.step} href={props.linkOf(p)} />
          ))}
        </ol>
      )}
    </div>
  );
}

// Runs a parsed LogQL query (./parse.ts) against the logs table and shapes
// the answer as Loki does. Every user value is a query parameter; the SQL
// is fixed fragments and column names from the label table.
//
// A stream's labels are service_name, host and level (the columns a Loki
// push maps its labels to; src/ingest/loki); a selector's other labels are
// attributes. Log queries read the newest (or oldest) `limit` lines.
// Range aggregations count in the store: each event is counted at every
// step whose window (t - range, t] holds it (ARRAY JOIN over those steps),
// per stream; vector aggregations and arithmetic then work on those series.
import type { AppContext } from '../../context.js';
import { formatClickHouse } from '../../model/time.js';
import { readCompactRows } from '../../query/read.js';
import { LABEL_COLUMNS } from '../labels.js';
import { type LineFilter, type LogQuery, logqlError, type Matcher, type MetricQuery } from './parse.js';

export interface Stream {
  stream: Record<string, string>;
  values: Array<[string, string]>;
}

/** The steps a metric query is evaluated at: start + i·step for i < n (ns). */
export interface Steps {
  readonly startNs: bigint;
  readonly stepNs: bigint;
  readonly n: number;
}

export interface Series {
  labels: Record<string, string>;
  values: Array<number | undefined>;
}

export type MetricValue = { type: 'scalar'; values: number[] } | { type: 'vector'; series: Series[] };

/** Loki's limit on points per series. */
export const MAX_STEPS = 11_000;
/** Series a range aggregation may make before its vector aggregation (Loki's max_query_series is 500). */
export const MAX_SERIES = 2000;

class Params {
  readonly values: Record<string, unknown> = {};
  #n = 0;
  add(type: string, value: unknown): string {
    const name = `l${this.#n++}`;
    this.values[name] = value;
    return `{${name}:${type}}`;
  }
}

function labelSql(name: string, p: Params): string {
  const column = LABEL_COLUMNS.get(name);
  return column ?? `attributes[${p.add('String', name)}]`;
}

function matcherSql(m: Matcher, p: Params): string {
  const x = labelSql(m.name, p);
  switch (m.op) {
    case '=':
      return `${x} = ${p.add('String', m.value)}`;
    case '!=':
      return `${x} != ${p.add('String', m.value)}`;
    // Loki's regex matchers match the whole value.
    case '=~':
      return `match(${x}, ${p.add('String', `^(?:${m.value})$`)})`;
    case '!~':
      return `NOT match(${x}, ${p.add('String', `^(?:${m.value})$`)})`;
  }
}

function filterSql(f: LineFilter, p: Params): string {
  // Loki's |= is a case-sensitive substring; `or` alternatives any of them.
  const any = (one: (v: string) => string): string => (f.values.length === 1 ? one(f.values[0]!) : `(${f.values.map(one).join(' OR ')})`);
  switch (f.op) {
    case '|=':
      return any((v) => `position(message, ${p.add('String', v)}) > 0`);
    case '!=':
      return `NOT ${any((v) => `position(message, ${p.add('String', v)}) > 0`)}`;
    case '|~':
      return any((v) => `match(message, ${p.add('String', v)})`);
    case '!~':
      return `NOT ${any((v) => `match(message, ${p.add('String', v)})`)}`;
  }
}

function whereOf(log: LogQuery, p: Params): string[] {
  return [...log.matchers.map((m) => matcherSql(m, p)), ...log.filters.map((f) => filterSql(f, p))];
}

/** A stream's labels after the query's drop/keep stages, and a key for them. */
export function streamLabels(log: LogQuery, service: string, host: string, level: string): [Record<string, string>, string] {
  let out: Record<string, string> = { service_name: service };
  if (host) out.host = host;
  if (level) out.level = level;
  for (const stage of log.labels) {
    out = Object.fromEntries(Object.entries(out).filter(([k]) => stage.names.includes(k) === (stage.mode === 'keep')));
  }
  return [out, JSON.stringify(Object.entries(out))];
}

/** The time range [start, end) and a log query's conditions on logs, with their parameters. */
function rangeWhere(log: LogQuery, startNs: bigint, endNs: bigint, p: Params): string[] {
  return [`time >= ${p.add('DateTime64(9)', formatClickHouse(startNs))}`, `time < ${p.add('DateTime64(9)', formatClickHouse(endNs))}`, ...whereOf(log, p)];
}

/** A log query's events in [start, end) as SQL conditions on logs and their parameters (named l0, l1, …). */
export function logWhere(log: LogQuery, startNs: bigint, endNs: bigint): { where: string[]; params: Record<string, unknown> } {
  const p = new Params();
  return { where: rangeWhere(log, startNs, endNs, p), params: p.values };
}

/** A stored line as a Loki answer needs it. */
export interface Line {
  readonly id?: string;
  readonly ns: string;
  readonly service: string;
  readonly host: string;
  readonly level: string;
  readonly message: string;
}

/** A log query's lines in [start, end), the newest `limit` (backward) or the oldest. */
export async function readLines(ctx: AppContext, log: LogQuery, r: { startNs: bigint; endNs: bigint; limit: number; direction: 'forward' | 'backward' }): Promise<Line[]> {
  const p = new Params();
  const where = rangeWhere(log, r.startNs, r.endNs, p);
  const order = r.direction === 'forward' ? 'ASC' : 'DESC';
  const rows = await readCompactRows<[id: string, ns: string, service: string, host: string, level: string, message: string]>(
    ctx,
    `SELECT toString(id), toString(toUnixTimestamp64Nano(time)), service, host, level, message FROM logs WHERE ${where.join(' AND ')} ORDER BY time ${order}, id ${order} LIMIT ${p.add('UInt32', r.limit)}`,
    p.values,
  );
  return rows.map(([id, ns, service, host, level, message]) => ({ id, ns, service, host, level, message }));
}

/** Lines into Loki's streams: one per label set (after drop/keep), lines in the order given. */
export function groupStreams(log: LogQuery, lines: Iterable<Line>): Stream[] {
  const streams = new Map<string, Stream>();
  for (const l of lines) {
    const [labels, key] = streamLabels(log, l.service, l.host, l.level);
    let s = streams.get(key);
    if (!s) streams.set(key, (s = { stream: labels, values: [] }));
    s.values.push([l.ns, l.message]);
  }
  return [...streams.values()];
}

/** A log query's lines in [start, end), newest first (backward) or oldest first, grouped into streams. */
export async function logLines(ctx: AppContext, log: LogQuery, r: { startNs: bigint; endNs: bigint; limit: number; direction: 'forward' | 'backward' }): Promise<Stream[]> {
  return groupStreams(log, await readLines(ctx, log, r));
}

/** The distinct stream label sets of events any of `selectors` matches in [start, end), at most `max` of them. */
export async function seriesOf(ctx: AppContext, selectors: readonly LogQuery[], r: { startNs: bigint; endNs: bigint; max: number }): Promise<Array<Record<string, string>>> {
  const p = new Params();
  const any = selectors.map((log) => `(${['1', ...whereOf(log, p)].join(' AND ')})`).join(' OR ');
  const rows = await readCompactRows<[service: string, host: string, level: string]>(
    ctx,
    `SELECT DISTINCT service, host, level FROM logs WHERE time >= ${p.add('DateTime64(9)', formatClickHouse(r.startNs))} AND time < ${p.add('DateTime64(9)', formatClickHouse(r.endNs))} AND (${any}) ORDER BY service, host, level LIMIT ${p.add('UInt32', r.max)}`,
    p.values,
  );
  return rows.map(([service, host, level]) => streamLabels({ kind: 'log', matchers: [], filters: [], labels: [] }, service, host, level)[0]);
}

/** Loki's index/stats for a log query over [start, end): streams, entries and bytes (chunks: Sluice has none; it reports the streams). */
export async function statsOf(ctx: AppContext, log: LogQuery, r: { startNs: bigint; endNs: bigint }): Promise<{ streams: number; chunks: number; entries: number; bytes: number }> {
  const p = new Params();
  const where = rangeWhere(log, r.startNs, r.endNs, p);
  const rows = await readCompactRows<[streams: number | string, entries: number | string, bytes: number | string]>(
    ctx,
    `SELECT uniqExact(service, host, level), count(), sum(length(message)) FROM logs WHERE ${where.join(' AND ')}`,
    p.values,
  );
  const [streams = 0, entries = 0, bytes = 0] = rows[0] ?? [];
  return { streams: Number(streams), chunks: Number(streams), entries: Number(entries), bytes: Number(bytes) };
}

/**
 * Loki's index/volume: bytes of the query's events in [start, end), per
 * series of `labels` (by default the labels its selector names; with
 * `byLabel`, per label name instead: the bytes of the events that have it),
 * loudest first, at most `limit`.
 */
export async function volumeOf(
  ctx: AppContext,
  log: LogQuery,
  r: { startNs: bigint; endNs: bigint; labels: readonly string[]; byLabel: boolean; limit: number },
): Promise<Array<{ metric: Record<string, string>; bytes: number }>> {
  const p = new Params();
  const where = rangeWhere(log, r.startNs, r.endNs, p);
  const names = r.labels.length > 0 ? [...new Set(r.labels)] : [...new Set(log.matchers.map((m) => m.name))];
  const exprs = names.map((n) => labelSql(n, p));
  if (r.byLabel) {
    const sums = exprs.map((x) => `sumIf(length(message), ${x} != '')`).join(', ');
    const rows = await readCompactRows<Array<number | string>>(ctx, `SELECT ${sums} FROM logs WHERE ${where.join(' AND ')}`, p.values);
    return names.map((n, i) => ({ metric: { [n]: '' }, bytes: Number(rows[0]?.[i] ?? 0) })).filter((v) => v.bytes > 0).sort((a, b) => b.bytes - a.bytes).slice(0, r.limit);
  }
  const keys = exprs.map((x, i) => `${x} AS k${i}`);
  const rows = await readCompactRows<Array<number | string>>(
    ctx,
    `SELECT ${[...keys, 'sum(length(message)) AS bytes'].join(', ')} FROM logs WHERE ${where.join(' AND ')} GROUP BY ${names.map((_, i) => `k${i}`).join(', ') || 'tuple()'} ORDER BY bytes DESC LIMIT ${p.add('UInt32', r.limit)}`,
    p.values,
  );
  return rows.map((row) => ({ metric: Object.fromEntries(names.map((n, i) => [n, String(row[i])]).filter(([, v]) => v !== '')), bytes: Number(row[names.length]) }));
}

/** Evaluates a metric query at each of `steps`. */
export async function evaluateMetric(ctx: AppContext, q: MetricQuery, steps: Steps): Promise<MetricValue> {
  switch (q.kind) {
    case 'number':
      return { type: 'scalar', values: new Array<number>(steps.n).fill(q.value) };
    case 'vector':
      return { type: 'vector', series: [{ labels: {}, values: new Array<number>(steps.n).fill(q.value) }] };
    case 'range':
      return { type: 'vector', series: await rangeSeries(ctx, q, steps) };
    case 'aggregate': {
      const inner = await evaluateMetric(ctx, q.expr, steps);
      if (inner.type === 'scalar') throw logqlError(`${q.op} takes a vector, not a number`);
      return { type: 'vector', series: aggregate(q.op, q.grouping, inner.series, steps.n) };
    }
    case 'binary': {
      const [l, r] = await Promise.all([evaluateMetric(ctx, q.left, steps), evaluateMetric(ctx, q.right, steps)]);
      return binary(q.op, l, r);
    }
  }
}

async function rangeSeries(ctx: AppContext, q: Extract<MetricQuery, { kind: 'range' }>, steps: Steps): Promise<Series[]> {
  const p = new Params();
  // The window of step i is (t_i - range, t_i] with t_i = s + i·step, s the
  // start moved back by the offset; an event at x (a = x - s) is in the
  // windows of i from ceil(a/step) to floor((a + range - 1)/step).
  const s = steps.startNs - q.offsetNs;
  const S = p.add('Int64', s.toString());
  const STEP = p.add('Int64', steps.stepNs.toString());
  const R = p.add('Int64', q.rangeNs.toString());
  const LAST = p.add('Int64', String(steps.n - 1));
  const a = `(toUnixTimestamp64Nano(time) - ${S})`;
  const lo = `if(${a} <= 0, 0, intDiv(${a} + ${STEP} - 1, ${STEP}))`;
  const hi = `least(${LAST}, intDiv(${a} + ${R} - 1, ${STEP}))`;
  const where = [
    // Before 1970 nothing is stored, and DateTime64 has no text for it.
    `time > ${p.add('DateTime64(9)', formatClickHouse(s - q.rangeNs > 0n ? s - q.rangeNs : 0n))}`,
    `time <= ${p.add('DateTime64(9)', formatClickHouse(s + BigInt(steps.n - 1) * steps.stepNs))}`,
    ...whereOf(q.log, p),
  ];
  const rows = await readCompactRows<[i: number | string, service: string, host: string, level: string, n: number | string, bytes: number | string]>(
    ctx,
    `SELECT i, service, host, level, count(), sum(length(message)) FROM logs ARRAY JOIN range(toUInt32(${lo}), toUInt32(${hi} + 1)) AS i WHERE ${where.join(' AND ')} GROUP BY i, service, host, level`,
    p.values,
  );
  const seconds = Number(q.rangeNs) / 1e9;
  const series = new Map<string, Series>();
  for (const [i, service, host, level, n, bytes] of rows) {
    // Streams a drop or keep made alike are one series: their counts add.
    const [labels, key] = streamLabels(q.log, service, host, level);
    let one = series.get(key);
    if (!one) {
      if (series.size >= MAX_SERIES) throw logqlError(`the query makes more than ${MAX_SERIES} series; narrow the selector or drop labels (| drop host)`);
      series.set(key, (one = { labels, values: new Array<number | undefined>(steps.n).fill(undefined) }));
    }
    const v = q.fn === 'count_over_time' || q.fn === 'rate' ? Number(n) : Number(bytes);
    one.values[Number(i)] = (one.values[Number(i)] ?? 0) + (q.fn === 'rate' || q.fn === 'bytes_rate' ? v / seconds : v);
  }
  return [...series.values()];
}

function aggregate(op: string, grouping: Extract<MetricQuery, { kind: 'aggregate' }>['grouping'], input: Series[], n: number): Series[] {
  const groups = new Map<string, { labels: Record<string, string>; members: Series[] }>();
  for (const s of input) {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.labels)) {
      const keep = grouping === undefined ? false : grouping.mode === 'by' ? grouping.labels.includes(k) : !grouping.labels.includes(k);
      if (keep) labels[k] = v;
    }
    const key = JSON.stringify(Object.entries(labels).sort());
    const g = groups.get(key) ?? { labels, members: [] };
    g.members.push(s);
    groups.set(key, g);
  }
  const out: Series[] = [];
  for (const g of groups.values()) {
    const values = new Array<number | undefined>(n).fill(undefined);
    for (let i = 0; i < n; i++) {
      const xs = g.members.map((m) => m.values[i]).filter((v): v is number => v !== undefined);
      if (xs.length === 0) continue;
      values[i] = op === 'sum' ? xs.reduce((a, b) => a + b, 0)
        : op === 'count' ? xs.length
        : op === 'min' ? Math.min(...xs)
        : op === 'max' ? Math.max(...xs)
        : xs.reduce((a, b) => a + b, 0) / xs.length;
    }
    out.push({ labels: g.labels, values });
  }
  return out;
}

const ARITHMETIC: Readonly<Record<string, (a: number, b: number) => number>> = {
  '+': (a, b) => a + b, '-': (a, b) => a - b, '*': (a, b) => a * b, '/': (a, b) => a / b, '%': (a, b) => a % b, '^': (a, b) => a ** b,
};

function binary(op: string, l: MetricValue, r: MetricValue): MetricValue {
  const f = ARITHMETIC[op]!;
  if (l.type === 'scalar' && r.type === 'scalar') return { type: 'scalar', values: l.values.map((v, i) => f(v, r.values[i]!)) };
  const apply = (s: Series, other: (i: number) => number | undefined, flip: boolean): Series => ({
    labels: s.labels,
    values: s.values.map((v, i) => {
      const o = other(i);
      return v === undefined || o === undefined ? undefined : flip ? f(o, v) : f(v, o);
    }),
  });
  if (l.type === 'vector' && r.type === 'scalar') return { type: 'vector', series: l.series.map((s) => apply(s, (i) => r.values[i], false)) };
  if (l.type === 'scalar' && r.type === 'vector') return { type: 'vector', series: r.series.map((s) => apply(s, (i) => l.values[i], true)) };
  // Vector with vector: one-to-one on identical label sets, as PromQL matches by default.
  const lv = l as Extract<MetricValue, { type: 'vector' }>;
  const rv = r as Extract<MetricValue, { type: 'vector' }>;
  const key = (s: Series): string => JSON.stringify(Object.entries(s.labels).sort());
  const right = new Map(rv.series.map((s) => [key(s), s]));
  const out: Series[] = [];
  for (const s of lv.series) {
    const other = right.get(key(s));
    if (other) out.push(apply(s, (i) => other.values[i], false));
  }
  return { type: 'vector', series: out };
}


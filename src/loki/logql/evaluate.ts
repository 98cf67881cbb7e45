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
import { liveRegex } from '../../query/language/match.js';
import { type Binary, type Grouping, type LineFilter, type LogQuery, logqlError, type Matcher, type MetricQuery, type RangeAggregation } from './parse.js';
import { baseLabels, compilePipeline, needsPipeline, type PipelineInput } from './pipeline.js';
import { rollupSeries } from './rollup.js';

/** Loki's third element of a line when labels are categorized: its structured metadata and the labels its pipeline parsed. */
export interface Categories {
  structuredMetadata?: Record<string, string>;
  parsed?: Record<string, string>;
}

export interface Stream {
  stream: Record<string, string>;
  values: Array<[string, string] | [string, string, Categories]>;
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

/** The entry of `key` in a query's series, made by `make` when new: past MAX_SERIES series a 400. */
export function seriesEntry<T>(series: Map<string, T>, key: string, make: () => T): T {
  let one = series.get(key);
  if (one === undefined) {
    if (series.size >= MAX_SERIES) throw logqlError(`the query makes more than ${MAX_SERIES} series; narrow the selector or drop labels (| drop host)`);
    series.set(key, (one = make()));
  }
  return one;
}

/** A query's parameters as they are added, named prefix0, prefix1, …: the SQL holds only their names. */
export class Params {
  readonly values: Record<string, unknown> = {};
  #n = 0;
  constructor(private readonly prefix = 'l') {}
  add(type: string, value: unknown): string {
    const name = `${this.prefix}${this.#n++}`;
    this.values[name] = value;
    return `{${name}:${type}}`;
  }
}

function labelSql(name: string, p: Params): string {
  const column = LABEL_COLUMNS.get(name);
  return column ?? `attributes[${p.add('String', name)}]`;
}

/** A selector's matcher on logs: a column for a stream label (which logs_per_minute shares), else the attribute. */
export function matcherSql(m: Matcher, p: Params): string {
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

/** A stream's labels after the query's drop/keep-by-name stages (a query without other stages), and a key for them. */
export function streamLabels(log: LogQuery, service: string, host: string, level: string): [Record<string, string>, string] {
  let out = baseLabels(service, host, level);
  for (const stage of log.stages) {
    if (stage.kind !== 'drop' && stage.kind !== 'keep') continue;
    const names = stage.items.map((i) => i.name);
    out = Object.fromEntries(Object.entries(out).filter(([k]) => names.includes(k) === (stage.kind === 'keep')));
  }
  return [out, labelKey(out)];
}

/**
 * streamLabels for one query, made once per stream: the rows of a count
 * (steps × streams) and the lines of a log query repeat a few streams. The
 * label sets are shared, so they are read, never changed. A live tail keeps
 * its labeler for hours: it starts over past 10,000 streams rather than grow.
 */
export function streamLabeler(log: LogQuery): (service: string, host: string, level: string) => [Record<string, string>, string] {
  const sets = new Map<string, [Record<string, string>, string]>();
  return (service, host, level) => {
    const k = `${service}\u0000${host}\u0000${level}`;
    let set = sets.get(k);
    if (!set) {
      if (sets.size >= 10_000) sets.clear();
      sets.set(k, (set = streamLabels(log, service, host, level)));
    }
    return set;
  };
}

// Label sets are shared between the lines of a stream (streamLabeler), so
// groupStreams makes a set's key once, not once per line (7 ms of 1000 lines).
const labelKeys = new WeakMap<Record<string, string>, string>();
const labelKey = (labels: Record<string, string>): string => {
  let key = labelKeys.get(labels);
  if (key === undefined) {
    key = JSON.stringify(Object.entries(labels).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
    labelKeys.set(labels, key);
  }
  return key;
};

/** The time range [start, end) and a log query's conditions on logs, with their parameters. */
function rangeWhere(log: LogQuery, startNs: bigint, endNs: bigint, p: Params): string[] {
  return [`time >= ${p.add('DateTime64(9)', formatClickHouse(startNs))}`, `time < ${p.add('DateTime64(9)', formatClickHouse(endNs))}`, ...whereOf(log, p)];
}

/** A log query's events in [start, end) as SQL conditions on logs and their parameters (named l0, l1, …). */
export function logWhere(log: LogQuery, startNs: bigint, endNs: bigint): { where: string[]; params: Record<string, unknown> } {
  const p = new Params();
  return { where: rangeWhere(log, startNs, endNs, p), params: p.values };
}

/** A stored line as the pipeline reads it. */
export interface Line extends PipelineInput {
  readonly id?: string;
}

/** A line of an answer: its labels and its text after the query's pipeline. */
export interface Result {
  readonly id?: string;
  readonly ns: string;
  readonly labels: Record<string, string>;
  readonly line: string;
  /** The stored line's attributes: its structured metadata. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** What a query makes of one stored line: its result, or undefined when the pipeline drops it. */
export function processor(log: LogQuery): (l: Line) => Result | undefined {
  if (!needsPipeline(log)) {
    const labelsOf = streamLabeler(log);
    return (l) => ({ id: l.id, ns: l.ns, labels: labelsOf(l.service, l.host, l.level)[0], line: l.message, metadata: l.attributes });
  }
  const pipeline = compilePipeline(log);
  return (l) => {
    const out = pipeline(l);
    return out && { id: l.id, ns: l.ns, labels: out.labels, line: out.line, metadata: l.attributes };
  };
}

/** Lines a pipeline may read for one log query before Sluice gives up (a 400: narrow the query). */
export const MAX_PIPELINE_LINES = 1_000_000;

type LineRow = [id: string, ns: string, service: string, host: string, level: string, message: string, attributes: Record<string, string>];
const toLine = ([id, ns, service, host, level, message, attributes]: LineRow): Line => ({ id, ns, service, host, level, message, attributes });

/** One page of a log query's stored lines in [start, end): `limit` of them after the line `after`, in time order. */
export function compileLines(log: LogQuery, r: { startNs: bigint; endNs: bigint; limit: number; direction: 'forward' | 'backward'; after?: { ns: string; id: string } | undefined }): Compiled {
  const p = new Params();
  const where = rangeWhere(log, r.startNs, r.endNs, p);
  const order = r.direction === 'forward' ? 'ASC' : 'DESC';
  if (r.after) {
    // After the last line read: the order is (time, id), so ties in time are neither lost nor read twice.
    // The bare time bound beside it lets the store skip what is behind by the sorting key.
    const t = `fromUnixTimestamp64Nano(${p.add('Int64', r.after.ns)}, 'UTC')`;
    where.push(`time ${r.direction === 'forward' ? '>=' : '<='} ${t}`, `(time, id) ${r.direction === 'forward' ? '>' : '<'} (${t}, ${p.add('UUID', r.after.id)})`);
  }
  return {
    sql: `SELECT toString(id), toString(toUnixTimestamp64Nano(time)), service, host, level, message, attributes FROM logs WHERE ${where.join(' AND ')} ORDER BY time ${order}, id ${order} LIMIT ${p.add('UInt32', r.limit)}`,
    params: p.values,
  };
}

/**
 * A log query's results in [start, end), the newest `limit` (backward) or
 * the oldest. With a pipeline that can drop lines, the store is read page
 * by page in time order until `limit` lines pass it.
 */
export async function readLines(ctx: AppContext, log: LogQuery, r: { startNs: bigint; endNs: bigint; limit: number; direction: 'forward' | 'backward' }): Promise<Result[]> {
  const process = processor(log);
  const paged = needsPipeline(log);
  const page = paged ? Math.min(10_000, Math.max(1000, r.limit * 4)) : r.limit;
  const out: Result[] = [];
  let cursor: { ns: string; id: string } | undefined;
  for (let read = 0; out.length < r.limit; ) {
    const c = compileLines(log, { ...r, limit: page, after: cursor });
    const rows = await readCompactRows<LineRow>(ctx, c.sql, c.params);
    for (const row of rows) {
      const res = process(toLine(row));
      if (res) out.push(res);
      if (out.length >= r.limit) break;
    }
    read += rows.length;
    if (!paged || rows.length < page) break;
    if (read >= MAX_PIPELINE_LINES) throw logqlError(`the pipeline read ${MAX_PIPELINE_LINES} lines and found ${out.length} of the ${r.limit} asked for; narrow the selector, the line filters or the time range`);
    const last = rows[rows.length - 1]!;
    cursor = { ns: last[1], id: last[0] };
  }
  return out;
}

const STREAM_LABELS: ReadonlySet<string> = new Set(['service_name', 'host', 'level']);

/**
 * Results into Loki's streams: one per label set, lines in the order given.
 * With `categorize` (Grafana's X-Loki-Response-Encoding-Flags:
 * categorize-labels), a stream has only the stream labels, and each line
 * a third element with its structured metadata (Sluice's attributes) and
 * the labels its pipeline parsed, as Loki 3 answers.
 */
export function groupStreams(results: Iterable<Result>, categorize = false): Stream[] {
  const streams = new Map<string, Stream>();
  for (const r of results) {
    let labels = r.labels;
    let extra: Categories | undefined;
    if (categorize) {
      const parsed: Record<string, string> = {};
      if (Object.keys(r.labels).some((k) => !STREAM_LABELS.has(k))) {
        labels = {};
        for (const [k, v] of Object.entries(r.labels)) (STREAM_LABELS.has(k) ? labels : parsed)[k] = v;
      }
      const metadata = Object.fromEntries(Object.entries(r.metadata).filter(([, v]) => v !== ''));
      extra = {};
      if (Object.keys(metadata).length > 0) extra.structuredMetadata = metadata;
      if (Object.keys(parsed).length > 0) extra.parsed = parsed;
    }
    const key = labelKey(labels);
    let s = streams.get(key);
    if (!s) streams.set(key, (s = { stream: labels, values: [] }));
    s.values.push(extra ? [r.ns, r.line, extra] : [r.ns, r.line]);
  }
  return [...streams.values()];
}

/** A log query's lines in [start, end), newest first (backward) or oldest first, grouped into streams. */
export async function logLines(ctx: AppContext, log: LogQuery, r: { startNs: bigint; endNs: bigint; limit: number; direction: 'forward' | 'backward'; categorize: boolean }): Promise<Stream[]> {
  return groupStreams(await readLines(ctx, log, r), r.categorize);
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
  return rows.map(([service, host, level]) => baseLabels(service, host, level));
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
      return { type: 'vector', series: await rangeVector(ctx, q, steps) };
    case 'aggregate': {
      const inner = await evaluateMetric(ctx, pushDownGrouping(q), steps);
      if (inner.type === 'scalar') throw logqlError(`${q.op} takes a vector, not a number`);
      return { type: 'vector', series: aggregate(q, inner.series, steps.n) };
    }
    case 'binary': {
      const [l, r] = await Promise.all([evaluateMetric(ctx, q.left, steps), evaluateMetric(ctx, q.right, steps)]);
      return binary(q, l, r);
    }
    case 'label_replace': {
      const inner = await evaluateMetric(ctx, q.expr, steps);
      if (inner.type === 'scalar') throw logqlError('label_replace takes a vector, not a number');
      return { type: 'vector', series: labelReplace(q, inner.series) };
    }
  }
}

/**
 * A sum's grouping moved into the counting it sums: `sum by (level)
 * (count_over_time({…}[1m]))` is `count_over_time({…} | keep level [1m])`
 * summed, so the store counts per level instead of per stream (host and
 * all), which keeps the series few and lets the rollup, which has no host,
 * answer Grafana's logs-volume query. Only for counting functions (sums of
 * sums are sums) over a query without a pipeline.
 */
function pushDownGrouping(q: Extract<MetricQuery, { kind: 'aggregate' }>): MetricQuery {
  const inner = q.expr;
  if (q.op !== 'sum' || inner.kind !== 'range' || needsPipeline(inner.log)) return inner;
  if (!['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate'].includes(inner.fn)) return inner;
  const items = (q.grouping?.labels ?? []).map((name) => ({ name, matcher: undefined }));
  const stage = q.grouping?.mode === 'without' ? { kind: 'drop' as const, items } : { kind: 'keep' as const, items };
  return { ...inner, log: { ...inner.log, stages: [...inner.log.stages, stage] } };
}

/** PromQL's label_replace: where the source label's whole value matches, the destination gets the expanded replacement ("" removes it). */
function labelReplace(q: Extract<MetricQuery, { kind: 'label_replace' }>, series: Series[]): Series[] {
  const re = liveRegex(`^(?:${q.regex})$`, 0);
  return series.map((s) => {
    const m = re.match(s.labels[q.src] ?? '');
    if (!m) return s;
    // Go's Regexp.Expand: $1, ${1}, $name, ${name}; $$ is a dollar; an unknown group is empty.
    const value = q.replacement.replace(/\$(?:\$|\{(\w+)\}|(\w+))/g, (all, braced?: string, bare?: string) => {
      if (all === '$$') return '$';
      const ref = braced ?? bare!;
      try {
        return m.group(/^\d+$/.test(ref) ? Number(ref) : ref) ?? '';
      } catch {
        return '';
      }
    });
    const labels = { ...s.labels };
    if (value === '') delete labels[q.dst];
    else labels[q.dst] = value;
    return { labels, values: s.values };
  });
}

/** A range aggregation's series: from the rollups where they answer exactly, the store's counting, or the pipeline. */
async function rangeVector(ctx: AppContext, q: RangeAggregation, steps: Steps): Promise<Series[]> {
  if (q.fn === 'absent_over_time') return absent(q, await rangeVector(ctx, { ...q, fn: 'count_over_time' }, steps), steps.n);
  if (q.unwrap || needsPipeline(q.log)) return pipelineSeries(ctx, q, steps);
  return (await rollupSeries(ctx, q, steps)) ?? (await rangeSeries(ctx, q, steps));
}

/** SQL and parameters: what a query compiles to (golden-tested: test/loki/logql-compile.unit.test.ts). */
export interface Compiled {
  readonly sql: string;
  readonly params: Record<string, unknown>;
}

/**
 * A counting range aggregation as one store query: each event is counted
 * at every step whose window holds it, per stream.
 */
export function compileRange(q: RangeAggregation, steps: Steps): Compiled {
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
  return {
    sql: `SELECT i, service, host, level, count(), sum(length(message)) FROM logs ARRAY JOIN range(toUInt32(${lo}), toUInt32(${hi} + 1)) AS i WHERE ${where.join(' AND ')} GROUP BY i, service, host, level`,
    params: p.values,
  };
}

async function rangeSeries(ctx: AppContext, q: RangeAggregation, steps: Steps): Promise<Series[]> {
  const c = compileRange(q, steps);
  const rows = await readCompactRows<[i: number | string, service: string, host: string, level: string, n: number | string, bytes: number | string]>(ctx, c.sql, c.params);
  const seconds = Number(q.rangeNs) / 1e9;
  const series = new Map<string, Series>();
  const labelsOf = streamLabeler(q.log);
  for (const [i, service, host, level, n, bytes] of rows) {
    // Streams a drop or keep made alike are one series: their counts add.
    const [labels, key] = labelsOf(service, host, level);
    const one = seriesEntry(series, key, () => ({ labels, values: new Array<number | undefined>(steps.n).fill(undefined) }));
    const v = q.fn === 'count_over_time' || q.fn === 'rate' ? Number(n) : Number(bytes);
    one.values[Number(i)] = (one.values[Number(i)] ?? 0) + (q.fn === 'rate' || q.fn === 'bytes_rate' ? v / seconds : v);
  }
  return [...series.values()];
}

function grouped(labels: Record<string, string>, g: Grouping | undefined): Record<string, string> {
  if (!g) return labels;
  return Object.fromEntries(Object.entries(labels).filter(([k]) => g.labels.includes(k) === (g.mode === 'by')));
}

function pipelineSpan(q: RangeAggregation, steps: Steps): { from: bigint; to: bigint } {
  const s = steps.startNs - q.offsetNs;
  return { from: s - q.rangeNs > 0n ? s - q.rangeNs : 0n, to: s + BigInt(steps.n - 1) * steps.stepNs };
}

/** One page of the lines a range aggregation's pipeline reads, (first window start, last step], in time order, after the line `after`. */
export function compilePipelineRange(q: RangeAggregation, steps: Steps, after?: { ns: string; id: string }): Compiled {
  const { from, to } = pipelineSpan(q, steps);
  return compileLines(q.log, { startNs: from + 1n, endNs: to + 1n, limit: PIPELINE_PAGE, direction: 'forward', after });
}

/**
 * A range aggregation over a pipeline: the store selects the lines (the
 * selector and the line filters it can run) in time order, the pipeline
 * labels and filters each (./pipeline.ts), and each series' samples are
 * reduced per step window (t - range, t].
 */
async function pipelineSeries(ctx: AppContext, q: RangeAggregation, steps: Steps): Promise<Series[]> {
  const s = steps.startNs - q.offsetNs;
  const { from, to } = pipelineSpan(q, steps);
  // Sample times are kept as ns after `from` in doubles: exact below 2^53 ns (104 days).
  if (to - from >= 2n ** 53n) throw logqlError('a query with a pipeline or unwrap may span at most 104 days');
  const pipeline = compilePipeline(q.log, q.unwrap);
  const samples = new Map<string, { labels: Record<string, string>; at: number[]; v: number[] }>();
  // Page by page in time order (a page at a time in memory), each line
  // folded into its series' samples as it comes.
  let after: { ns: string; id: string } | undefined;
  for (let read = 0; ; ) {
    const c = compilePipelineRange(q, steps, after);
    const rows = await readCompactRows<LineRow>(ctx, c.sql, c.params);
    read += rows.length;
    if (read > MAX_PIPELINE_LINES) throw logqlError(`the query's pipeline would read more than ${MAX_PIPELINE_LINES} lines; narrow the selector, add line filters (|= "…") before the parser, or shorten the range`);
    for (const row of rows) {
      const out = pipeline(toLine(row));
      if (!out) continue;
      if (out.labels.__error__ !== undefined) {
        throw logqlError(`pipeline error: '${out.labels.__error__}' for series: '${JSON.stringify(out.labels)}'. Use a label filter to intentionally skip this error (e.g. | __error__!="${out.labels.__error__}"); to skip all errors use | __error__=""`);
      }
      const labels = grouped(out.labels, q.grouping);
      const one = seriesEntry(samples, labelKey(labels), () => ({ labels, at: [], v: [] }));
      one.at.push(Number(BigInt(row[1]) - from));
      one.v.push(q.unwrap ? out.value! : q.fn === 'bytes_over_time' || q.fn === 'bytes_rate' ? Buffer.byteLength(out.line) : 1);
    }
    if (rows.length < PIPELINE_PAGE) break;
    const last = rows[rows.length - 1]!;
    after = { ns: last[1], id: last[0] };
  }
  const seconds = Number(q.rangeNs) / 1e9;
  const budget = { left: MAX_WINDOW_WORK };
  const out: Series[] = [];
  for (const one of samples.values()) {
    const reduce = reducer(q, one.v, seconds, budget);
    const values = new Array<number | undefined>(steps.n).fill(undefined);
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < steps.n; i++) {
      const end = Number(s + BigInt(i) * steps.stepNs - from);
      const start = end - Number(q.rangeNs);
      while (lo < one.at.length && one.at[lo]! <= start) lo++;
      while (hi < one.at.length && one.at[hi]! <= end) hi++;
      if (hi > lo) values[i] = reduce(lo, hi, one.at);
    }
    out.push({ labels: one.labels, values });
  }
  return out;
}

/** Lines one page of a pipeline's reading holds. */
const PIPELINE_PAGE = 20_000;
/** Samples all the windows of one query may visit one by one (min, max, quantile, stddev, rate_counter); past it, a 400. */
const MAX_WINDOW_WORK = 50_000_000;

/**
 * A range function over the window [lo, hi) of one series' samples (never
 * empty). Counts and sums read prefix sums, so every step costs the same
 * whatever the window; the rest visit their window's samples, within the
 * query's budget.
 */
function reducer(q: RangeAggregation, v: readonly number[], seconds: number, budget: { left: number }): (lo: number, hi: number, at: readonly number[]) => number | undefined {
  const prefix = new Float64Array(v.length + 1);
  for (let i = 0; i < v.length; i++) prefix[i + 1] = prefix[i]! + v[i]!;
  const total = (lo: number, hi: number): number => prefix[hi]! - prefix[lo]!;
  const visit = (lo: number, hi: number): void => {
    budget.left -= hi - lo;
    if (budget.left < 0) throw logqlError(`the query's windows hold more than ${MAX_WINDOW_WORK} samples to visit; use a larger step, a shorter range or a narrower selector`);
  };
  switch (q.fn) {
    case 'count_over_time':
      return (lo, hi) => hi - lo;
    case 'bytes_over_time':
    case 'sum_over_time':
      return total;
    case 'rate':
    case 'bytes_rate':
      return (lo, hi) => total(lo, hi) / seconds;
    case 'avg_over_time':
      return (lo, hi) => total(lo, hi) / (hi - lo);
    case 'first_over_time':
      return (lo) => v[lo]!;
    case 'last_over_time':
      return (_lo, hi) => v[hi - 1]!;
    case 'min_over_time':
    case 'max_over_time': {
      const max = q.fn === 'max_over_time';
      return (lo, hi) => {
        visit(lo, hi);
        let m = v[lo]!;
        for (let i = lo + 1; i < hi; i++) if (max ? v[i]! > m || Number.isNaN(m) : v[i]! < m || Number.isNaN(m)) m = v[i]!;
        return m;
      };
    }
    case 'stddev_over_time':
    case 'stdvar_over_time':
      return (lo, hi) => {
        visit(lo, hi);
        // Welford's online variance, as Loki computes it.
        let mean = 0;
        let aux = 0;
        for (let i = lo; i < hi; i++) {
          const delta = v[i]! - mean;
          mean += delta / (i - lo + 1);
          aux += delta * (v[i]! - mean);
        }
        return q.fn === 'stdvar_over_time' ? aux / (hi - lo) : Math.sqrt(aux / (hi - lo));
      };
    case 'quantile_over_time':
      return (lo, hi) => {
        visit(lo, hi);
        return quantile(q.param!, v.slice(lo, hi));
      };
    case 'rate_counter':
      return (lo, hi, at) => {
        visit(lo, hi);
        return counterRate(v, at, lo, hi, q.rangeNs);
      };
    default:
      throw logqlError(`not supported yet: ${q.fn}`);
  }
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const variance = (xs: readonly number[]): number => {
  const mean = sum(xs) / xs.length;
  return sum(xs.map((x) => (x - mean) ** 2)) / xs.length;
};

/** Prometheus's quantile: linear between the closest ranks; φ outside [0, 1] is ∓Inf. */
export function quantile(phi: number, xs: readonly number[]): number {
  if (Number.isNaN(phi)) return NaN;
  if (phi < 0) return -Infinity;
  if (phi > 1) return Infinity;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = phi * (sorted.length - 1);
  const lo = Math.max(0, Math.floor(rank));
  const hi = Math.min(sorted.length - 1, lo + 1);
  const w = rank - Math.floor(rank);
  return sorted[lo]! * (1 - w) + sorted[hi]! * w;
}

/**
 * Loki's rate_counter (pkg/logql/range_vector.go, extrapolatedRate with
 * its own bounds): resets added back; the series taken to start a whole
 * range before its first sample (or where it would have been zero) and to
 * end at its last; extrapolated by at most half a sample spacing; per
 * second of the range. Fewer than two samples: 0, as Loki answers.
 */
function counterRate(v: readonly number[], at: readonly number[], lo: number, hi: number, rangeNs: bigint): number {
  if (hi - lo < 2) return 0;
  const seconds = Number(rangeNs) / 1e9;
  let result = v[hi - 1]! - v[lo]!;
  let lastValue = 0;
  for (let i = lo; i < hi; i++) {
    if (v[i]! < lastValue) result += lastValue;
    lastValue = v[i]!;
  }
  let toStart = seconds;
  const toEnd = 0;
  const sampled = (at[hi - 1]! - at[lo]!) / 1e9;
  const average = sampled / (hi - lo - 1);
  if (result > 0 && v[lo]! >= 0) toStart = Math.min(toStart, sampled * (v[lo]! / result));
  const threshold = average * 1.1;
  const interval = sampled + (toStart < threshold ? toStart : average / 2) + (toEnd < threshold ? toEnd : average / 2);
  return (result * (interval / sampled)) / seconds;
}

/** absent_over_time: 1 where no line matched, with the labels of the selector's equality matchers, as Loki gives. */
function absent(q: RangeAggregation, present: Series[], n: number): Series[] {
  const values = new Array<number | undefined>(n).fill(undefined);
  for (let i = 0; i < n; i++) if (!present.some((s) => s.values[i] !== undefined)) values[i] = 1;
  const labels: Record<string, string> = {};
  for (const m of q.log.matchers) if (m.op === '=') labels[m.name] = m.value;
  return values.some((v) => v !== undefined) ? [{ labels, values }] : [];
}

function aggregate(q: Extract<MetricQuery, { kind: 'aggregate' }>, input: Series[], n: number): Series[] {
  if (q.op === 'sort' || q.op === 'sort_desc') {
    // An order of series; a range query's matrix has none, an instant query's vector has.
    const first = (s: Series): number => s.values.find((v) => v !== undefined) ?? NaN;
    return [...input].sort((a, b) => (q.op === 'sort' ? first(a) - first(b) : first(b) - first(a)));
  }
  const groups = new Map<string, { labels: Record<string, string>; members: Series[] }>();
  for (const s of input) {
    const labels = q.grouping ? grouped(s.labels, q.grouping) : {};
    const key = labelKey(labels);
    const g = groups.get(key) ?? { labels, members: [] };
    g.members.push(s);
    groups.set(key, g);
  }
  if (q.op === 'topk' || q.op === 'bottomk') {
    // Per step and group, the k largest (smallest); each keeps its own labels.
    const k = q.param!;
    const kept = new Map<Series, Array<number | undefined>>();
    for (const g of groups.values()) {
      for (let i = 0; i < n; i++) {
        const present = g.members.filter((m) => m.values[i] !== undefined);
        present.sort((a, b) => (q.op === 'topk' ? b.values[i]! - a.values[i]! : a.values[i]! - b.values[i]!));
        for (const m of present.slice(0, k)) {
          let values = kept.get(m);
          if (!values) kept.set(m, (values = new Array<number | undefined>(n).fill(undefined)));
          values[i] = m.values[i];
        }
      }
    }
    return [...kept].map(([m, values]) => ({ labels: m.labels, values }));
  }
  const out: Series[] = [];
  for (const g of groups.values()) {
    const values = new Array<number | undefined>(n).fill(undefined);
    for (let i = 0; i < n; i++) {
      const xs = g.members.map((m) => m.values[i]).filter((v): v is number => v !== undefined);
      if (xs.length === 0) continue;
      values[i] = q.op === 'sum' ? sum(xs)
        : q.op === 'count' ? xs.length
        : q.op === 'min' ? Math.min(...xs)
        : q.op === 'max' ? Math.max(...xs)
        : q.op === 'avg' ? sum(xs) / xs.length
        : q.op === 'stddev' ? Math.sqrt(variance(xs))
        : variance(xs);
    }
    out.push({ labels: g.labels, values });
  }
  return out;
}

const OPERATORS: Readonly<Record<string, (a: number, b: number) => number>> = {
  '+': (a, b) => a + b, '-': (a, b) => a - b, '*': (a, b) => a * b, '/': (a, b) => a / b, '%': (a, b) => a % b, '^': (a, b) => a ** b,
  '==': (a, b) => Number(a === b), '!=': (a, b) => Number(a !== b), '>': (a, b) => Number(a > b), '>=': (a, b) => Number(a >= b), '<': (a, b) => Number(a < b), '<=': (a, b) => Number(a <= b),
};
const IS_COMPARISON = new Set(['==', '!=', '>', '>=', '<', '<=']);

/**
 * One step's operation on two samples, as PromQL does it: arithmetic gives
 * its value; a comparison keeps the vector side's value where true (or
 * gives 1/0 with bool).
 */
function combine(q: Binary, a: number, b: number, keep: number): number | undefined {
  const v = OPERATORS[q.op]!(a, b);
  if (!IS_COMPARISON.has(q.op)) return v;
  if (q.bool) return v;
  return v === 1 ? keep : undefined;
}

/** The labels two series are matched on: on (…) only those, ignoring (…) all but those. */
function signature(labels: Record<string, string>, m: Binary['matching']): string {
  if (!m) return labelKey(labels);
  return labelKey(Object.fromEntries(Object.entries(labels).filter(([k]) => m.labels.includes(k) === m.on)));
}

function binary(q: Binary, l: MetricValue, r: MetricValue): MetricValue {
  if (l.type === 'scalar' && r.type === 'scalar') return { type: 'scalar', values: l.values.map((v, i) => OPERATORS[q.op]!(v, r.values[i]!)) };
  const withScalar = (s: Series, other: (i: number) => number, scalarLeft: boolean): Series => ({
    labels: s.labels,
    values: s.values.map((v, i) => (v === undefined ? undefined : scalarLeft ? combine(q, other(i), v, v) : combine(q, v, other(i), v))),
  });
  if (l.type === 'vector' && r.type === 'scalar') return { type: 'vector', series: l.series.map((s) => withScalar(s, (i) => r.values[i]!, false)) };
  if (l.type === 'scalar' && r.type === 'vector') return { type: 'vector', series: r.series.map((s) => withScalar(s, (i) => l.values[i]!, true)) };
  const left = (l as Extract<MetricValue, { type: 'vector' }>).series;
  const right = (r as Extract<MetricValue, { type: 'vector' }>).series;
  if (q.op === 'and' || q.op === 'or' || q.op === 'unless') return { type: 'vector', series: setOperation(q, left, right) };
  return { type: 'vector', series: vectorMatch(q, left, right) };
}

/** and, or, unless: per step, by the series' signatures; values and labels from the side they come from. */
function setOperation(q: Binary, left: Series[], right: Series[]): Series[] {
  const n = left[0]?.values.length ?? right[0]?.values.length ?? 0;
  // Each series' signature once, not once per step.
  const sig = new Map<Series, string>([...left, ...right].map((x) => [x, signature(x.labels, q.matching)]));
  const present = (side: Series[], i: number): Set<string> => new Set(side.filter((s) => s.values[i] !== undefined).map((s) => sig.get(s)!));
  const rightAt = Array.from({ length: n }, (_, i) => present(right, i));
  if (q.op === 'and' || q.op === 'unless') {
    const want = q.op === 'and';
    return left.map((s) => ({ labels: s.labels, values: s.values.map((v, i) => (v !== undefined && rightAt[i]!.has(sig.get(s)!) === want ? v : undefined)) }));
  }
  // or: every left sample, and the right ones whose signature no left
  // sample has at that step; one label set is one series of the answer.
  const leftAt = Array.from({ length: n }, (_, i) => present(left, i));
  const out = new Map<string, Series>();
  const put = (s: Series, keep: (v: number | undefined, i: number) => boolean): void => {
    const key = labelKey(s.labels);
    let one = out.get(key);
    if (!one) out.set(key, (one = { labels: s.labels, values: new Array<number | undefined>(n).fill(undefined) }));
    s.values.forEach((v, i) => {
      if (v !== undefined && keep(v, i) && one.values[i] === undefined) one.values[i] = v;
    });
  };
  for (const s of left) put(s, () => true);
  for (const s of right) put(s, (_v, i) => !leftAt[i]!.has(sig.get(s)!));
  return [...out.values()];
}

/**
 * Arithmetic and comparisons between two vectors: one-to-one by signature,
 * or many-to-one with group_left (group_right: one-to-many), as PromQL
 * matches; more than one match where one is allowed is a 400.
 */
function vectorMatch(q: Binary, left: Series[], right: Series[]): Series[] {
  const many = q.group?.side === 'right' ? right : left;
  const one = q.group?.side === 'right' ? left : right;
  const n = many[0]?.values.length ?? one[0]?.values.length ?? 0;
  const out = new Map<string, Series>();
  // Each series' signature and result labels once, not once per step.
  const sigOf = new Map<Series, string>([...many, ...one].map((x) => [x, signature(x.labels, q.matching)]));
  const labelsOf = new Map<Series, Map<Series, { labels: Record<string, string>; key: string }>>();
  for (let i = 0; i < n; i++) {
    const bySig = new Map<string, Series>();
    for (const s of one) {
      if (s.values[i] === undefined) continue;
      const sig = sigOf.get(s)!;
      if (bySig.has(sig)) throw logqlError(`found duplicate series for the match group ${sig} on the ${q.group?.side === 'right' ? 'left' : 'right'} side of ${q.op}; many-to-many matching is not allowed: use group_left or group_right, or aggregate first`);
      bySig.set(sig, s);
    }
    const seen = new Set<string>();
    for (const s of many) {
      const v = s.values[i];
      if (v === undefined) continue;
      const sig = sigOf.get(s)!;
      const match = bySig.get(sig);
      if (!match) continue;
      if (!q.group) {
        if (seen.has(sig)) throw logqlError(`found duplicate series for the match group ${sig} on the left side of ${q.op}; many-to-many matching is not allowed: use group_left or group_right`);
        seen.add(sig);
      }
      const [a, b] = q.group?.side === 'right' ? [match.values[i]!, v] : [v, match.values[i]!];
      const value = combine(q, a, b, a);
      if (value === undefined) continue;
      let byMatch = labelsOf.get(s);
      if (!byMatch) labelsOf.set(s, (byMatch = new Map()));
      let result = byMatch.get(match);
      if (!result) {
        const labels = resultLabels(q, s.labels, match.labels);
        byMatch.set(match, (result = { labels, key: labelKey(labels) }));
      }
      const { labels, key } = result;
      let series = out.get(key);
      if (!series) out.set(key, (series = { labels, values: new Array<number | undefined>(n).fill(undefined) }));
      series.values[i] = value;
    }
  }
  return [...out.values()];
}

/** PromQL's (and Loki's) result labels: one-to-one keeps the on (…) labels or drops the ignoring (…) ones; group_x keeps the many side's, plus the named labels of the one side. */
function resultLabels(q: Binary, many: Record<string, string>, one: Record<string, string>): Record<string, string> {
  // Comparisons too, bool or not: Loki's vectorBinop labels every result alike.
  if (!q.group) {
    if (!q.matching) return many;
    return Object.fromEntries(Object.entries(many).filter(([k]) => q.matching!.labels.includes(k) === q.matching!.on));
  }
  const out = { ...many };
  for (const name of q.group.labels) {
    if (one[name] !== undefined) out[name] = one[name];
    else delete out[name];
  }
  return out;
}

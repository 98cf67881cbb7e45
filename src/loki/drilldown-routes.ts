// Logs Drilldown's calls beside the other Loki read routes (registered from
// ./read-routes.ts, so its error shape applies; scope read):
//   GET /loki/api/v1/index/volume_range              bytes per series or label, per step (matrix)
//   GET /loki/api/v1/detected_fields                 fields in a sample of the newest lines (./detected-fields.ts)
//   GET /loki/api/v1/detected_field/{name}/values    one field's values in that sample
// As Loki's query frontend answers them: pkg/querier/queryrange/volume.go,
// pkg/querier/queryrange/detected_fields.go, params in pkg/loghttp.
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth/plugin.js';
import type { AppContext } from '../context.js';
import { SluiceError } from '../errors.js';
import { readCompactRows } from '../query/read.js';
import { detectFields, detectFieldValues, type SampledLine } from './detected-fields.js';
import { LABEL_COLUMNS, lokiRange } from './labels.js';
import { logWhere, MAX_STEPS, readLines } from './logql/evaluate.js';
import { type LogQuery, logqlError, parseLogQuery } from './logql/parse.js';

const NS = 1_000_000_000n;
const MS = 1_000_000n;
const HOUR_NS = 3600n * NS;
const MAX_VOLUME_LIMIT = 5000; // as index/volume
const MAX_TARGET_LABELS = 50;
/** Rows (series × steps) a volume_range answer may hold. */
const MAX_POINTS = 200_000;
/** Loki's max_entries_limit_per_query default. */
const MAX_LINE_LIMIT = 5000;
const MAX_FIELD_LIMIT = 5000;

const str = { type: 'string', maxLength: 8192 } as const;
const timeProps = { start: str, end: str, since: str } as const;
// Each parameter once: a repeated one is a 400, not an array.
const volumeSchema = { querystring: { type: 'object', properties: { ...timeProps, query: str, step: str, limit: str, targetLabels: str, aggregateBy: str } } } as const;
const fieldsSchema = { querystring: { type: 'object', properties: { ...timeProps, query: str, step: str, line_limit: str, limit: str, field_limit: str } } } as const;
const valuesSchema = { ...fieldsSchema, params: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 256 } } } } as const;

interface VolumeQuery {
  query?: string;
  start?: string;
  end?: string;
  since?: string;
  step?: string;
  limit?: string;
  targetLabels?: string;
  aggregateBy?: string;
}

interface FieldsQuery {
  query?: string;
  start?: string;
  end?: string;
  since?: string;
  step?: string;
  line_limit?: string;
  limit?: string;
  field_limit?: string;
}

/** [start, end): Loki's times, by default the hour before end (now). */
function window(q: { start?: string; end?: string; since?: string }, nowNs: bigint): { startNs: bigint; endNs: bigint } {
  const r = lokiRange(q, nowNs, HOUR_NS);
  if (r.startNs > r.endNs) throw new SluiceError('SLUICE_ERR_INVALID_TIME_RANGE', 'start is after end');
  return r;
}

function logQuery(q: { query?: string }): LogQuery {
  if (!q.query) throw logqlError('query is required');
  return parseLogQuery(q.query);
}

/** A positive integer parameter (Loki's parseInt), `fallback` when absent; 0 reads as absent where Loki says so. */
function intParam(v: string | undefined, name: string, fallback: number, max: number, zeroIsDefault = false): number {
  if (v === undefined || v === '') return fallback;
  const n = /^[+-]?\d{1,12}$/.test(v) ? Number(v) : NaN;
  if (n === 0 && zeroIsDefault) return fallback;
  if (!Number.isInteger(n) || n < 1 || n > max) throw logqlError(`${name} must be an integer from 1 to ${max}`);
  return n;
}

const DURATION_UNITS: Readonly<Record<string, bigint>> = { ms: MS, s: NS, m: 60n * NS, h: HOUR_NS, d: 24n * HOUR_NS, w: 168n * HOUR_NS, y: 8760n * HOUR_NS };

/** Loki's step (parseSecondsOrDuration): float seconds or a Prometheus duration (`15s`, `1m30s`, `2000ms`); by default the range over 250, at least 1 s. */
export function stepParam(step: string | undefined, spanNs: bigint): bigint {
  if (step === undefined || step === '') {
    const s = spanNs / 250n / NS;
    return (s < 1n ? 1n : s) * NS;
  }
  let ns: bigint | undefined;
  if (/^\d{1,12}(\.\d{1,9})?$/.test(step)) ns = BigInt(Math.round(Number(step) * 1e9));
  else if (/^(\d{1,9}(ms|s|m|h|d|w|y))+$/.test(step)) {
    ns = 0n;
    for (const [, n, unit] of step.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) ns += BigInt(n!) * DURATION_UNITS[unit!]!;
  }
  if (ns === undefined || ns <= 0n) throw logqlError(`invalid step ${JSON.stringify(step)}: a positive duration (15s, 1m) or seconds`);
  return ns;
}

/** Loki's bound on points: at most MAX_STEPS steps in the range. */
function checkSteps(startNs: bigint, endNs: bigint, step: bigint): void {
  if ((endNs - startNs) / step > BigInt(MAX_STEPS)) throw logqlError(`exceeded maximum resolution of ${MAX_STEPS} points per timeseries; try a larger step`);
}

interface Bucket {
  /** Where a bucket's events start: the steps are aligned to the epoch, as Loki splits them. */
  readonly alignedNs: bigint;
  readonly n: number;
  /** The bucket's timestamp in seconds: its end less Loki's 1 ms split gap, the last one at end. */
  at(i: number): number;
}

/**
 * Loki's volume_range buckets (util.ForInterval, end-inclusive): the range
 * cut at multiples of step since the epoch; bucket i holds the events in
 * [aligned + i·step, aligned + (i+1)·step) within [start, end) and is
 * reported at its end minus 1 ms (the last one at end), in milliseconds.
 */
export function volumeBuckets(startNs: bigint, endNs: bigint, step: bigint): Bucket {
  const alignedNs = startNs - (startNs % step);
  const n = endNs > startNs ? Number((endNs - alignedNs + step - 1n) / step) : 0;
  return {
    alignedNs,
    n,
    at: (i) => {
      const bucketEnd = alignedNs + BigInt(i + 1) * step;
      const t = bucketEnd >= endNs ? endNs : bucketEnd - MS;
      return Number(t / MS) / 1000;
    },
  };
}

/** The SQL for a label name (a column from the allow-list, or the attribute lookup with the name as a parameter). */
function labelExpr(name: string, params: Record<string, unknown>, i: number): string {
  const column = LABEL_COLUMNS.get(name);
  if (column) return column;
  params[`vr_name${i}`] = name;
  return `attributes[{vr_name${i}:String}]`;
}

interface VolumeSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/** Loki's order: loudest first sample first, then by name. */
function sortSeries(series: Array<VolumeSeries & { key: string; first: number }>): VolumeSeries[] {
  return series.sort((a, b) => b.first - a.first || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(({ metric, values }) => ({ metric, values }));
}

async function volumeRange(
  ctx: AppContext,
  log: LogQuery,
  r: { startNs: bigint; endNs: bigint; step: bigint; labels: readonly string[]; byLabel: boolean; limit: number },
): Promise<VolumeSeries[]> {
  const b = volumeBuckets(r.startNs, r.endNs, r.step);
  if (b.n === 0) return [];
  const { where, params } = logWhere(log, r.startNs, r.endNs);
  params.vr_aligned = b.alignedNs.toString();
  params.vr_step = r.step.toString();
  const bucket = 'intDiv(toUnixTimestamp64Nano(time) - {vr_aligned:Int64}, {vr_step:Int64}) AS i';
  const names = r.labels.length > 0 ? [...new Set(r.labels)] : [...new Set(log.matchers.map((m) => m.name))];
  const exprs = names.map((n, i) => labelExpr(n, params, i));
  if (r.byLabel) {
    // Per bucket, the bytes of the events that have each label; the loudest `limit` labels of each bucket.
    const sums = exprs.map((x) => `sumIf(length(message), ${x} != '')`);
    if (sums.length === 0) return [];
    const rows = await readCompactRows<Array<number | string>>(ctx, `SELECT ${[bucket, ...sums].join(', ')} FROM logs WHERE ${where.join(' AND ')} GROUP BY i ORDER BY i`, params);
    const series = new Map<string, VolumeSeries & { key: string; first: number }>();
    for (const row of rows) {
      const i = Number(row[0]);
      const top = names.map((n, j) => ({ n, bytes: Number(row[j + 1]) })).filter((x) => x.bytes > 0).sort((x, y) => y.bytes - x.bytes || (x.n < y.n ? -1 : 1)).slice(0, r.limit);
      for (const { n, bytes } of top) {
        let s = series.get(n);
        if (!s) series.set(n, (s = { metric: { [n]: '' }, values: [], key: n, first: bytes }));
        s.values.push([b.at(i), String(bytes)]);
      }
    }
    return sortSeries([...series.values()]);
  }
  // Loki answers each bucket as its own volume request: the loudest `limit` series of each bucket.
  params.vr_limit = r.limit;
  params.vr_points = MAX_POINTS + 1;
  const keys = exprs.map((x, i) => `${x} AS k${i}`);
  const rows = await readCompactRows<Array<number | string>>(
    ctx,
    `SELECT ${[bucket, ...keys, 'sum(length(message)) AS bytes'].join(', ')} FROM logs WHERE ${where.join(' AND ')}` +
      ` GROUP BY ${['i', ...names.map((_, i) => `k${i}`)].join(', ')} ORDER BY i, bytes DESC${names.map((_, i) => `, k${i}`).join('')} LIMIT {vr_limit:UInt32} BY i LIMIT {vr_points:UInt32}`,
    params,
  );
  if (rows.length > MAX_POINTS) throw logqlError(`the answer would hold more than ${MAX_POINTS} points; use a larger step or a smaller limit`);
  const series = new Map<string, VolumeSeries & { key: string; first: number }>();
  for (const row of rows) {
    const metric = Object.fromEntries(names.map((n, j): [string, string] => [n, String(row[j + 1])]).filter(([, v]) => v !== ''));
    const key = `{${Object.entries(metric).sort(([a], [c]) => (a < c ? -1 : 1)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
    const bytes = Number(row[names.length + 1]);
    let s = series.get(key);
    if (!s) series.set(key, (s = { metric, values: [], key, first: bytes }));
    s.values.push([b.at(Number(row[0])), String(bytes)]);
  }
  return sortSeries([...series.values()]);
}

/**
 * The newest `limit` lines of a log query in [start, end) that come
 * through its pipeline (Drilldown sends `| json | logfmt | drop __error__,
 * __error_details__`; a label filter narrows the sample, as in Loki), with
 * what detected fields need: the stream labels a parsed name would clash
 * with, the line's attributes and its text.
 */
async function sampleLines(ctx: AppContext, log: LogQuery, r: { startNs: bigint; endNs: bigint; limit: number }): Promise<SampledLine[]> {
  const results = await readLines(ctx, log, { ...r, direction: 'backward' });
  return results.map((res) => ({
    streamLabels: new Set(['service_name', 'host', 'level'].filter((n) => res.labels[n] !== undefined)),
    attributes: res.metadata,
    message: res.line,
  }));
}

/** detected_fields' parameters, checked as Loki's ParseDetectedFieldsQuery checks them. */
function fieldsRequest(q: FieldsQuery, nowNs: bigint): { log: LogQuery; startNs: bigint; endNs: bigint; lineLimit: number; limit: number } {
  const log = logQuery(q);
  const { startNs, endNs } = window(q, nowNs);
  const lineLimit = intParam(q.line_limit, 'line_limit', 100, MAX_LINE_LIMIT);
  const limit = intParam(q.limit || q.field_limit, 'limit', 1000, MAX_FIELD_LIMIT);
  // Loki refuses a step that would make too many points, though it draws none.
  checkSteps(startNs, endNs, stepParam(q.step, endNs - startNs));
  return { log, startNs, endNs, lineLimit, limit };
}

export async function lokiDrilldownRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const read = requireScope(ctx.tokens, 'read');

  app.get<{ Querystring: VolumeQuery }>('/loki/api/v1/index/volume_range', { onRequest: read, schema: volumeSchema }, async (req) => {
    const q = req.query;
    const log = logQuery(q);
    const { startNs, endNs } = window(q, ctx.clock.nowNs());
    const limit = intParam(q.limit, 'limit', 100, MAX_VOLUME_LIMIT, true);
    if (q.aggregateBy !== undefined && q.aggregateBy !== '' && q.aggregateBy !== 'series' && q.aggregateBy !== 'labels') throw logqlError('aggregateBy must be series or labels');
    const labels = (q.targetLabels ?? '').split(',').map((l) => l.trim()).filter(Boolean);
    if (labels.length > MAX_TARGET_LABELS) throw logqlError(`at most ${MAX_TARGET_LABELS} targetLabels`);
    const step = stepParam(q.step, endNs - startNs);
    checkSteps(startNs, endNs, step);
    const result = await volumeRange(ctx, log, { startNs, endNs, step, labels, byLabel: q.aggregateBy === 'labels', limit });
    return { status: 'success', data: { resultType: 'matrix', result } };
  });

  // Loki answers these two without the status/data envelope.
  app.get<{ Querystring: FieldsQuery }>('/loki/api/v1/detected_fields', { onRequest: read, schema: fieldsSchema }, async (req) => {
    const r = fieldsRequest(req.query, ctx.clock.nowNs());
    const fields = detectFields(await sampleLines(ctx, r.log, { ...r, limit: r.lineLimit }), r.limit);
    return { fields, limit: r.limit };
  });

  app.get<{ Params: { name: string }; Querystring: FieldsQuery }>('/loki/api/v1/detected_field/:name/values', { onRequest: read, schema: valuesSchema }, async (req) => {
    const r = fieldsRequest(req.query, ctx.clock.nowNs());
    const values = detectFieldValues(await sampleLines(ctx, r.log, { ...r, limit: r.lineLimit }), req.params.name, r.limit);
    return { values, limit: r.limit };
  });
}

// GET /api/v1/trends (scope read): counts per step grouped by a field,
// zero-filled. Answered from the per-minute rollup (plus the raw events
// newer than its watermark) when the filter names only service and level
// and the grouping is by one of them; from raw events otherwise. The range
// is widened to whole steps so both answer alike.
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth/plugin.js';
import type { AppContext } from '../context.js';
import { SluiceError } from '../errors.js';
import { formatClickHouse, formatRfc3339, parseDurationNs } from '../model/time.js';
import { field, groupProblem, groupSql, inRollup, paramsInto } from './columns.js';
import { compileForRollup } from './language/compile.js';
import { buildFilter, filterAst, type FilterQuery, filterQuerySchema } from './filter.js';
import { readCompactRows } from './read.js';
import { parseTimeRange } from './time-range.js';

export const STEPS = ['1m', '5m', '10m', '15m', '30m', '1h', '3h', '6h', '12h', '1d'] as const;
const AUTO_BUCKETS = 360;
const MAX_BUCKETS = 5000;
const MAX_SERIES = 50;
const NS = 1_000_000_000n;

interface TrendsQuery extends FilterQuery {
  step?: string;
  by?: string;
}

const schema = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...filterQuerySchema,
      step: { type: 'string', enum: [...STEPS, 'auto'], default: 'auto' },
      by: { type: 'string', pattern: '^[A-Za-z_@][A-Za-z0-9_.@-]{0,127}$', default: 'level' },
    },
  },
} as const;

export interface Trends {
  from: string;
  to: string;
  step: string;
  step_seconds: number;
  by: string;
  source: 'rollup' | 'raw';
  buckets: string[];
  series: Array<{ key: string; total: number; counts: number[] }>;
}

/** The smallest of STEPS that cuts `spanNs` into at most `maxBuckets` (1d past that). */
export function autoStep(spanNs: bigint, maxBuckets: number): string {
  return STEPS.find((s) => spanNs / parseDurationNs(s)! <= maxBuckets) ?? '1d';
}

function pickStep(spanNs: bigint, step: string | undefined): string {
  if (step && step !== 'auto') return step;
  return autoStep(spanNs, AUTO_BUCKETS);
}

// `by` is a column or attribute (./columns.ts); `none` is one series of everything.
const NONE = 'none';

export async function trends(ctx: AppContext, q: TrendsQuery): Promise<Trends> {
  const asked = parseTimeRange(q, 24n * parseDurationNs('1h')!, ctx.clock.nowNs());
  const step = pickStep(asked.toNs - asked.fromNs, q.step);
  const stepNs = parseDurationNs(step)!;
  const fromNs = (asked.fromNs / stepNs) * stepNs;
  const toNs = ((asked.toNs + stepNs - 1n) / stepNs) * stepNs;
  const nBuckets = Number((toNs - fromNs) / stepNs);
  if (nBuckets > MAX_BUCKETS) {
    throw new SluiceError('SLUICE_ERR_VALIDATION', `${nBuckets} buckets of ${step} is more than ${MAX_BUCKETS}: choose a larger step`);
  }
  const by = q.by ?? 'level';
  const problem = by === NONE ? undefined : groupProblem(by);
  if (problem) throw new SluiceError('SLUICE_ERR_VALIDATION', problem);
  const stepSeconds = Number(stepNs / NS);

  const rollup = !q.contains && (by === NONE || inRollup([by])) ? compileForRollup(filterAst(q)) : undefined;
  let rows: Array<[bucket: number, key: string, n: number | string]>;
  if (rollup) {
    // The rollup holds events received before the watermark; the ones
    // received since come from raw events, so the sum is exact.
    const where = ['minute >= {rfrom:DateTime}', 'minute < {rto:DateTime}'];
    const rawWhere = ['time >= {from:DateTime64(9)}', 'time < {to:DateTime64(9)}', 'received_at >= {w:DateTime64(9)}'];
    if (rollup.sql !== '1') {
      where.push(rollup.sql);
      rawWhere.push(rollup.sql);
    }
    // A rollup column has the same name in the rollups as in logs.
    const key = by === NONE ? "''" : field(by)!.name;
    const params = {
      ...rollup.params, step: stepSeconds,
      rfrom: Number(fromNs / NS), rto: Number(toNs / NS), from: formatClickHouse(fromNs), to: formatClickHouse(toNs),
    };
    rows = await ctx.rollup.reading((w) =>
      readCompactRows(
        ctx,
        [
          'SELECT bucket, key, sum(n) AS n FROM (',
          'SELECT toUnixTimestamp(toStartOfInterval(minute, toIntervalSecond({step:UInt32}))) AS bucket,',
          key + ' AS key, sum(count) AS n',
          'FROM logs_per_minute',
          'WHERE', where.join(' AND '),
          'GROUP BY bucket, key',
          'UNION ALL',
          'SELECT toUnixTimestamp(toStartOfInterval(time, toIntervalSecond({step:UInt32}))) AS bucket,',
          key + ' AS key, count() AS n',
          'FROM logs',
          'WHERE', rawWhere.join(' AND '),
          'GROUP BY bucket, key',
          ') GROUP BY bucket, key',
        ].join('\n'),
        { ...params, w: formatClickHouse(w) },
      ),
    );
  } else {
    const f = buildFilter(q, ctx.config.retentionDays, { range: { fromNs, toNs }, endExclusive: true });
    const params: Record<string, unknown> = { ...f.params, step: stepSeconds };
    const key = by === NONE ? "''" : groupSql(by, paramsInto(params, 'by'));
    rows = await readCompactRows(
      ctx,
      [
        'SELECT toUnixTimestamp(toStartOfInterval(time, toIntervalSecond({step:UInt32}))) AS bucket,',
        key + ' AS key, count() AS n',
        'FROM logs',
        'WHERE', f.where.join(' AND '),
        'GROUP BY bucket, key',
      ].join('\n'),
      params,
    );
  }
  return shape(rows, { fromNs, toNs, stepNs, step, by, source: rollup ? 'rollup' : 'raw' });
}

// Bucket starts are whole seconds: Date's ISO text with the nanosecond
// digits the other times carry is the same as formatRfc3339, and cheaper.
function bucketTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + '.000000000Z';
}

function shape(
  rows: Array<[bucket: number, key: string, n: number | string]>,
  m: { fromNs: bigint; toNs: bigint; stepNs: bigint; step: string; by: string; source: 'rollup' | 'raw' },
): Trends {
  const first = Number(m.fromNs / NS);
  const stepS = Number(m.stepNs / NS);
  const n = Number((m.toNs - m.fromNs) / m.stepNs);
  const series = new Map<string, number[]>();
  for (const [bucket, key, count] of rows) {
    const i = (Number(bucket) - first) / stepS;
    if (i < 0 || i >= n) continue;
    let counts = series.get(key);
    if (!counts) series.set(key, (counts = new Array<number>(n).fill(0)));
    counts[i] = (counts[i] ?? 0) + Number(count);
  }
  const all = [...series.entries()]
    .map(([key, counts]) => ({ key, total: counts.reduce((a, b) => a + b, 0), counts }))
    .sort((a, b) => b.total - a.total || (a.key < b.key ? -1 : 1));
  const kept = all.slice(0, MAX_SERIES);
  if (all.length > MAX_SERIES) {
    const other = new Array<number>(n).fill(0);
    for (const s of all.slice(MAX_SERIES)) s.counts.forEach((c, i) => (other[i] = (other[i] ?? 0) + c));
    kept.push({ key: '(other)', total: other.reduce((a, b) => a + b, 0), counts: other });
  }
  return {
    from: formatRfc3339(m.fromNs),
    to: formatRfc3339(m.toNs),
    step: m.step,
    step_seconds: stepS,
    by: m.by,
    source: m.source,
    buckets: Array.from({ length: n }, (_, i) => bucketTime((first + i * stepS) * 1000)),
    series: kept,
  };
}

export async function trendsRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  app.get<{ Querystring: TrendsQuery }>('/api/v1/trends', { onRequest: requireScope(ctx.tokens, 'read'), schema }, async (req) => trends(ctx, req.query));
}


// count_over_time and rate answered from the per-minute rollup
// (logs_per_minute: event minute, service, level → count; src/store/rollup.ts)
// instead of every raw event, when that gives exactly what rangeSeries
// (./evaluate.ts) gives; `undefined` otherwise, and the caller counts raw.
//
// Loki's window for step t is (t − range, t]; a rollup bucket is a minute
// [m, m + 60 s). When t and t − range fall on whole minutes (range, step and
// start − offset in whole minutes), a window is its minutes [t − range, t)
// plus the events at exactly t, minus the events at exactly t − range: the
// minutes come from the rollup, the two edges from the raw events on whole
// minutes. The rollup holds the events received before its
// watermark W; those received since are counted raw, as trends do.
//
// The rollup has neither host nor bytes: a series' labels may not include
// host (dropped, or no matching event has one), and bytes_over_time,
// bytes_rate and Loki's index/volume (bytes) stay on raw events.
import { Counter } from 'prom-client';
import type { AppContext } from '../../context.js';
import { formatClickHouse } from '../../model/time.js';
import { readCompactRows } from '../../query/read.js';
import { LABEL_COLUMNS } from '../labels.js';
import { matcherSql, Params, type Series, seriesEntry, type Steps, streamLabeler, streamLabels } from './evaluate.js';
import { type LogQuery, type Matcher, type RangeAggregation } from './parse.js';

const MINUTE_NS = 60_000_000_000n;
const SECOND_NS = 1_000_000_000n;
const DAY_NS = 86_400n * SECOND_NS;

/** The metric counting range aggregations by where they were answered: `from` = rollup or raw. */
export const ANSWERS_METRIC = 'sluice_loki_range_answers_total';

type Fields = Readonly<Record<string, unknown>>;

/**
 * Whether `x` is an object whose set fields (not undefined) are all among
 * `allowed`. A field this file does not know — one the parser gains later
 * (a parser stage, an unwrap, a label filter) — makes a query not eligible
 * until this file learns what it means.
 */
function only(x: unknown, allowed: readonly string[]): x is Fields {
  return typeof x === 'object' && x !== null && Object.entries(x).every(([k, v]) => v === undefined || allowed.includes(k));
}

const MATCH_OPS: ReadonlySet<unknown> = new Set(['=', '!=', '=~', '!~']);
/** Label columns the rollup is keyed by (logs_per_minute's service and level). */
const ROLLUP_COLUMNS: ReadonlySet<string | undefined> = new Set(['service', 'level']);

/** `| drop a, b` / `| keep a, b` by name only (no `name="value"` matcher). */
function nameOnlyStage(stage: unknown): boolean {
  return only(stage, ['kind', 'items']) && (stage.kind === 'drop' || stage.kind === 'keep') && Array.isArray(stage.items) &&
    stage.items.every((i: unknown) => only(i, ['name']) && typeof i.name === 'string');
}

function rollupMatcher(m: unknown): m is Matcher {
  return only(m, ['name', 'op', 'value']) && typeof m.name === 'string' && typeof m.value === 'string' && MATCH_OPS.has(m.op) && ROLLUP_COLUMNS.has(LABEL_COLUMNS.get(m.name));
}

/**
 * Why a log query's events cannot be counted from the rollup, or undefined
 * when they can: only stream matchers on labels the rollup is keyed by
 * (service_name and its aliases, level and its aliases), no line filter,
 * and no stage but drop/keep by name. A whitelist: anything else — any
 * field this file does not know — is a reason.
 */
export function rollupLogProblem(log: LogQuery): string | undefined {
  if (!only(log, ['kind', 'matchers', 'filters', 'stages']) || log.kind !== 'log') return 'a part of the log query the rollup does not know';
  const fields = log as unknown as Fields;
  if (!Array.isArray(fields.matchers) || !fields.matchers.every(rollupMatcher)) return 'a matcher on a label the rollup has no column for';
  if (fields.filters !== undefined && !(Array.isArray(fields.filters) && fields.filters.length === 0)) return 'a line filter';
  if (!Array.isArray(fields.stages) || !fields.stages.every(nameOnlyStage)) return 'a pipeline stage other than drop/keep by name';
  return undefined;
}

/** Why a range aggregation cannot be answered from the rollup, whatever its steps, or undefined. */
export function rollupProblem(q: RangeAggregation): string | undefined {
  if (!only(q, ['kind', 'fn', 'log', 'rangeNs', 'offsetNs']) || q.kind !== 'range') return 'a part of the range aggregation the rollup does not know (unwrap, grouping, a parameter)';
  if (q.fn !== 'count_over_time' && q.fn !== 'rate') return `${q.fn}: the rollup counts lines, not bytes`;
  return rollupLogProblem(q.log);
}

/** Why these windows are not whole minutes (or reach events the retention may have dropped from one table and not the other), or undefined. */
function windowsProblem(q: RangeAggregation, steps: Steps, nowNs: bigint, retentionDays: number): string | undefined {
  const s = steps.startNs - q.offsetNs;
  if (q.rangeNs % MINUTE_NS !== 0n || s % MINUTE_NS !== 0n || (steps.n > 1 && steps.stepNs % MINUTE_NS !== 0n)) return 'windows not on whole minutes';
  // Old parts leave the two tables at different moments (TTL merges): near
  // the retention the rollup and the raw events may disagree.
  if (s - q.rangeNs < nowNs - BigInt(retentionDays) * DAY_NS + DAY_NS) return 'windows near the retention';
  return undefined;
}

function answers(ctx: AppContext): Counter<'from'> {
  const registry = ctx.metrics.registry;
  return (registry.getSingleMetric(ANSWERS_METRIC) as Counter<'from'> | undefined) ??
    new Counter({ name: ANSWERS_METRIC, help: 'LogQL range aggregations (count_over_time, rate, …) by where they were counted: the per-minute rollup or raw events', labelNames: ['from'], registers: [registry] });
}

/**
 * A range aggregation's series from the per-minute rollup plus raw events,
 * exactly what rangeSeries gives; undefined when the query or its steps do
 * not allow it (then count raw).
 */
export async function rollupSeries(ctx: AppContext, q: RangeAggregation, steps: Steps): Promise<Series[] | undefined> {
  const problem = rollupProblem(q) ?? windowsProblem(q, steps, ctx.clock.nowNs(), ctx.config.retentionDays);
  const series = problem === undefined ? await fromRollup(ctx, q, steps) : undefined;
  answers(ctx).inc({ from: series ? 'rollup' : 'raw' });
  return series;
}

async function fromRollup(ctx: AppContext, q: RangeAggregation, steps: Steps): Promise<Series[] | undefined> {
  const log = q.log;
  const kept = streamLabels(log, 's', 'h', 'l')[0];
  const hostKept = 'host' in kept;
  // The series' labels in SQL: a label the query drops (a `sum by
  // (service_name)` pushed down) is summed away in the engine, not row by
  // row here (a week by service was 64k rows of service × level × step).
  const serviceCol = 'service_name' in kept ? 'service' : "''";
  const levelCol = 'level' in kept ? 'level' : "''";
  const s = steps.startNs - q.offsetNs;
  // With one step the step does not matter; a whole minute keeps the sums below in whole seconds.
  const stepNs = steps.n === 1 ? MINUTE_NS : steps.stepNs;
  const lastNs = s + BigInt(steps.n - 1) * stepNs;
  const p = new Params('r');
  const matchers = log.matchers.map((m) => matcherSql(m, p));
  const and = (...conds: string[]): string => [...conds, ...matchers].join(' AND ');
  const rawFrom = p.add('DateTime64(9)', formatClickHouse(s - q.rangeNs));
  const rawTo = p.add('DateTime64(9)', formatClickHouse(lastNs));

  // The rollup has no host: with host a label of the series, only when no
  // matching event has one. One found ends the search.
  if (hostKept) {
    const hosted = await readCompactRows<[number]>(ctx, `SELECT 1 FROM logs WHERE ${and(`time > ${rawFrom}`, `time <= ${rawTo}`, "host != ''")} LIMIT 1`, p.values);
    if (hosted.length > 0) return undefined;
  }

  const LAST = p.add('Int64', String(steps.n - 1));
  // Whole minutes, in seconds: minute m is in window i when t_i − range ≤ m < t_i.
  const S = p.add('Int64', String(s / SECOND_NS));
  const STEP = p.add('Int64', String(stepNs / SECOND_NS));
  const R = p.add('Int64', String(q.rangeNs / SECOND_NS));
  const am = `(toInt64(toUnixTimestamp(minute)) - ${S})`;
  const minuteWindows = `range(toUInt32(if(${am} < 0, 0, intDiv(${am}, ${STEP}) + 1)), toUInt32(least(${LAST}, intDiv(${am} + ${R}, ${STEP})) + 1))`;
  // Raw events, in ns: x is in window i when t_i − range < x ≤ t_i (rangeSeries' arithmetic).
  const SN = p.add('Int64', s.toString());
  const STEPN = p.add('Int64', stepNs.toString());
  const RN = p.add('Int64', q.rangeNs.toString());
  const ax = `(toUnixTimestamp64Nano(time) - ${SN})`;
  const exactWindows = `range(toUInt32(if(${ax} <= 0, 0, intDiv(${ax} + ${STEPN} - 1, ${STEPN}))), toUInt32(least(${LAST}, intDiv(${ax} + ${RN} - 1, ${STEPN})) + 1))`;
  // An event the rollup counted at exactly t_j belongs to window j, not the
  // one its minute went to (+1 at j); one at exactly t_k − range to no
  // window its minute went to (−1 at k). Every edge is on a whole minute,
  // and the rollup row of that minute counts its events there in at_start
  // (migration 0008): no scan of the raw events for them.
  const edges = `arrayFilter(e -> e.1 >= 0 AND e.1 <= ${LAST}, [(if(${am} % ${STEP} = 0, intDiv(${am}, ${STEP}), -1), 1), (if((${am} + ${R}) % ${STEP} = 0, intDiv(${am} + ${R}, ${STEP}), -1), -1)])`;
  const minuteFrom = p.add('DateTime', Number((s - q.rangeNs) / SECOND_NS));
  const minuteTo = p.add('DateTime', Number(lastNs / SECOND_NS));

  const rows = await ctx.rollup.reading((w) => {
    const W = p.add('DateTime64(9)', formatClickHouse(w));
    return readCompactRows<[i: number | string, service: string, level: string, n: number | string, lowest: number | string, hosted: number | string]>(
      ctx,
      [
        // Per step and kept labels; `lowest` keeps the check per service and level below.
        `SELECT i, ${serviceCol} AS s, ${levelCol} AS l, sum(n) AS total, min(n) AS lowest, max(hosted) AS anyHosted FROM (`,
        'SELECT i, service, level, sum(n) AS n, max(hosted) AS hosted FROM (',
        // Each part filters in a subquery before its ARRAY JOIN: joined
        // first, every row of the range made its array (seconds a week).
        `SELECT i, service, level, toInt64(sum(count)) AS n, 0 AS hosted FROM (SELECT minute, service, level, count FROM logs_per_minute`,
        `WHERE ${and(`minute >= ${minuteFrom}`, `minute < ${minuteTo}`)}) ARRAY JOIN ${minuteWindows} AS i GROUP BY i, service, level`,
        'UNION ALL',
        `SELECT i, service, level, toInt64(count()) AS n, max(host != '') AS hosted FROM (SELECT time, service, host, level FROM logs`,
        `WHERE ${and(`received_at >= ${W}`, `time > ${rawFrom}`, `time <= ${rawTo}`)}) ARRAY JOIN ${exactWindows} AS i GROUP BY i, service, level`,
        'UNION ALL',
        `SELECT e.1 AS i, service, level, sum(e.2 * toInt64(at_start)) AS n, 0 AS hosted FROM (SELECT minute, service, level, at_start FROM logs_per_minute`,
        `WHERE ${and(`minute >= ${minuteFrom}`, `minute <= ${minuteTo}`, 'at_start > 0')}) ARRAY JOIN ${edges} AS e GROUP BY i, service, level`,
        ') GROUP BY i, service, level HAVING n != 0',
        ') GROUP BY i, s, l',
      ].join('\n'),
      p.values,
    );
  });

  const perSecond = q.fn === 'rate' ? Number(q.rangeNs) / 1e9 : 1;
  const out = new Map<string, Series>();
  const labelsOf = streamLabeler(log);
  for (const [i, service, level, n, lowest, hosted] of rows) {
    // A host among the events counted raw (stored since the check), or a
    // window the rollup and the raw events disagree on: count raw.
    if ((hostKept && Number(hosted) > 0) || Number(lowest) < 0) return undefined;
    const [labels, key] = labelsOf(service, '', level);
    const one = seriesEntry(out, key, () => ({ labels, values: new Array<number | undefined>(steps.n).fill(undefined) }));
    one.values[Number(i)] = (one.values[Number(i)] ?? 0) + Number(n) / perSecond;
  }
  return [...out.values()];
}

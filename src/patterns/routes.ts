// GET /api/v1/patterns (scope read): the shapes of the events a query
// matches in a range, loudest first.
//
// Mined when read, not at ingest: the store groups the range by shape
// (each message with its digit segments masked, ./mask.ts), counting per
// level and per step as it goes, and the miner (./miner.ts) merges the
// shapes into templates, each shape weighted by its count. Ingest pays
// nothing, any range and query has patterns, and the miner sees thousands
// of shapes rather than millions of lines. docs/patterns.md says more.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { requireScope } from '../auth/plugin.js';
import type { AppContext } from '../context.js';
import { LEVELS, type Level } from '../model/levels.js';
import { formatRfc3339, parseDurationNs } from '../model/time.js';
import type { EventJson } from '../model/event.js';
import { EVENT_SELECT } from '../query/columns.js';
import { buildFilter, type FilterQuery, filterQuerySchema } from '../query/filter.js';
import { readCompactRows, readRows } from '../query/read.js';
import { parseTimeRange } from '../query/time-range.js';
import { autoStep, STEPS } from '../query/trends.js';
import { type EventRow, toEventJson } from '../store/events-read.js';
import { SQL_DIGIT_SEGMENT } from './mask.js';
import { mineShapes, patternId, type Template } from './miner.js';
import { rememberTemplates } from './registry.js';

const SPARK_BUCKETS = 60;
const NS = 1_000_000_000n;
// Shapes read from the store at most, loudest first; the events of the
// rest are counted in `unmined`.
export const MAX_SHAPES = 20_000;
const MAX_BUCKETS = 1000;

interface PatternsQuery extends FilterQuery {
  limit?: number;
}

const schema = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { ...filterQuerySchema, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } },
  },
} as const;

export interface PatternJson {
  id: string;
  template: string;
  /** The search term that finds its events. */
  query: string;
  count: number;
  levels: Partial<Record<Level, number>>;
  first_seen: string;
  last_seen: string;
  /** Events per step, one per bucket. */
  counts: number[];
  sample: EventJson | null;
}

export interface Patterns {
  from: string;
  to: string;
  step: string;
  step_seconds: number;
  buckets: string[];
  /** Events in the range the query matched. */
  total: number;
  /** Of those, events not given a pattern: shapes past MAX_SHAPES, or past the miner's cap. */
  unmined: number;
  patterns: PatternJson[];
}

type ShapeRow = [shape: string, n: string | number, ...rest: unknown[]];

interface Acc {
  template: Template;
  count: number;
  levels: number[];
  first: string;
  last: string;
  counts: number[];
  sampleId: string;
  sampleN: number;
}

/** A range within what can be stored: retention back, a day ahead (the store's times and step counters stay in range). */
export function clampRange(ctx: AppContext, r: { fromNs: bigint; toNs: bigint }): { fromNs: bigint; toNs: bigint } {
  const now = ctx.clock.nowNs();
  const earliest = now - BigInt(ctx.config.retentionDays + 1) * 86_400n * NS;
  const latest = now + 86_400n * NS;
  const fromNs = r.fromNs < earliest ? earliest : r.fromNs > latest ? latest : r.fromNs;
  const toNs = r.toNs > latest ? latest : r.toNs < fromNs ? fromNs : r.toNs;
  return { fromNs, toNs };
}

/** `1m` for 60 s, `90s` for 90 s: the step as the answer names it. */
function formatStep(ns: bigint): string {
  const s = ns / NS;
  const known = STEPS.find((x) => parseDurationNs(x) === ns);
  return known ?? `${s}s`;
}

export async function patterns(ctx: AppContext, q: PatternsQuery, log: FastifyBaseLogger): Promise<Patterns> {
  const asked = clampRange(ctx, parseTimeRange(q, parseDurationNs('1h')!, ctx.clock.nowNs()));
  const stepNs = parseDurationNs(autoStep(asked.toNs - asked.fromNs, SPARK_BUCKETS))!;
  const f = buildFilter(q, ctx.config.retentionDays, { range: asked, now: ctx.clock.nowNs() });
  return minePatterns(ctx, { where: f.where, params: f.params }, { fromNs: asked.fromNs, toNs: asked.toNs, stepNs, limit: q.limit ?? 50 }, log);
}

/**
 * The patterns of the events `filter` selects (SQL conditions on logs, with
 * their parameters, none named rx, b0, bn, step, shapes or ids), counted
 * per step of whole `stepNs` over the range widened to whole steps.
 */
export async function minePatterns(
  ctx: AppContext,
  filter: { where: readonly string[]; params: Record<string, unknown> },
  r: { fromNs: bigint; toNs: bigint; stepNs: bigint; limit: number },
  log?: FastifyBaseLogger,
): Promise<Patterns> {
  // At most MAX_BUCKETS steps: each shape's counts come back per step.
  const span = r.toNs - r.fromNs;
  const minStep = ((span / BigInt(MAX_BUCKETS) + NS - 1n) / NS) * NS;
  const stepNs = r.stepNs >= minStep ? r.stepNs : minStep;
  const step = formatStep(stepNs);
  const fromNs = (r.fromNs / stepNs) * stepNs;
  const toNs = ((r.toNs + stepNs - 1n) / stepNs) * stepNs;
  const stepS = Number(stepNs / NS);
  const first = Number(fromNs / NS);
  const nBuckets = Number((toNs - fromNs) / stepNs);
  const f = filter;
  const params: Record<string, unknown> = { ...f.params, rx: SQL_DIGIT_SEGMENT, b0: first, bn: first + nBuckets * stepS, step: stepS, shapes: MAX_SHAPES };

  // Per shape: its count, its count per level, first and last time, its
  // count per step (countResample: bucket i holds [b0 + i·step, b0 + (i+1)·step)),
  // and its newest event for a sample.
  const rows = await readCompactRows<ShapeRow>(
    ctx,
    [
      "SELECT replaceRegexpAll(message, {rx:String}, '<*>') AS shape, count() AS n,",
      LEVELS.map((l) => `countIf(level = '${l}')`).join(', ') + ',',
      'toString(min(time)), toString(max(time)),',
      'countResample({b0:UInt32}, {bn:UInt32}, {step:UInt32})(toUInt32(toUnixTimestamp(time))),',
      'toString(argMax(id, time))',
      'FROM logs',
      'WHERE', f.where.join(' AND '),
      'GROUP BY shape',
      'ORDER BY n DESC, shape',
      'LIMIT {shapes:UInt32}',
    ].join('\n'),
    params,
  );

  const accs: Acc[] = [];
  let mined = 0;
  for (const [template, shapes] of mineShapes(rows, (row) => row[0], (row) => Number(row[1]))) {
    const acc: Acc = { template, count: 0, levels: LEVELS.map(() => 0), first: '', last: '', counts: new Array<number>(nBuckets).fill(0), sampleId: '', sampleN: -1 };
    for (const row of shapes) {
      const n = Number(row[1]);
      const first = String(row[2 + LEVELS.length]);
      const last = String(row[3 + LEVELS.length]);
      acc.count += n;
      LEVELS.forEach((_, i) => (acc.levels[i]! += Number(row[2 + i])));
      if (acc.first === '' || first < acc.first) acc.first = first;
      if (last > acc.last) acc.last = last;
      const steps = row[4 + LEVELS.length] as Array<string | number>;
      for (let i = 0; i < nBuckets; i++) acc.counts[i]! += Number(steps[i] ?? 0);
      // The sample comes from the template's loudest shape.
      if (n > acc.sampleN) {
        acc.sampleN = n;
        acc.sampleId = String(row[5 + LEVELS.length]);
      }
    }
    mined += acc.count;
    accs.push(acc);
  }
  // Below the shape limit every event is in a shape; at it, count them.
  const total = rows.length < MAX_SHAPES ? rows.reduce((n, r) => n + Number(r[1]), 0) : await countAll(ctx, f.where, params);
  const kept = accs.sort((a, b) => b.count - a.count || (a.template.text < b.template.text ? -1 : 1)).slice(0, r.limit);
  const samples = await sampleEvents(ctx, kept.map((a) => a.sampleId), f.params, f.where);
  const out: PatternJson[] = kept.map((a) => {
    const template = a.template.text;
    const id = patternId(template);
    return {
      id,
      template,
      query: `pattern:${id}`,
      count: a.count,
      levels: Object.fromEntries(LEVELS.map((l, i) => [l, a.levels[i]!]).filter(([, n]) => n !== 0)),
      first_seen: a.first.replace(' ', 'T') + 'Z',
      last_seen: a.last.replace(' ', 'T') + 'Z',
      counts: a.counts,
      sample: samples.get(a.sampleId) ?? null,
    };
  });
  rememberTemplates(ctx, out, log);
  return {
    from: formatRfc3339(fromNs),
    to: formatRfc3339(toNs),
    step,
    step_seconds: stepS,
    buckets: Array.from({ length: nBuckets }, (_, i) => new Date((first + i * stepS) * 1000).toISOString().slice(0, 19) + '.000000000Z'),
    total,
    unmined: total - mined,
    patterns: out,
  };
}

async function countAll(ctx: AppContext, where: readonly string[], params: Record<string, unknown>): Promise<number> {
  const rows = await readCompactRows<[string | number]>(ctx, `SELECT count() FROM logs WHERE ${where.join(' AND ')}`, params);
  return Number(rows[0]?.[0] ?? 0);
}

async function sampleEvents(ctx: AppContext, ids: string[], filterParams: Record<string, unknown>, where: readonly string[]): Promise<Map<string, EventJson>> {
  if (ids.length === 0) return new Map();
  const rows = await readRows<EventRow>(
    ctx,
    `SELECT ${EVENT_SELECT} FROM logs WHERE ${[...where, 'id IN {ids:Array(UUID)}'].join(' AND ')} LIMIT 1 BY id`,
    { ...filterParams, ids },
  );
  return new Map(rows.map((r) => [r.event_id, toEventJson(r)]));
}

export async function patternRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  app.get<{ Querystring: PatternsQuery }>('/api/v1/patterns', { onRequest: requireScope(ctx.tokens, 'read'), schema }, async (req) => patterns(ctx, req.query, req.log));
}

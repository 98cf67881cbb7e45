// count_over_time and rate from the per-minute rollup (src/loki/logql/rollup.ts)
// must answer exactly what counting raw events answers: the same query with
// a line filter that keeps every line (|= "", which the rollup cannot take)
// runs the raw path on the same events. Events sit exactly on window edges
// (t and t − range), a nanosecond either side, on both sides of the
// rollup's watermark, and arrive late (old event time, received after the
// watermark). A metric says which path answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANSWERS_METRIC, rollupLogProblem, rollupProblem } from '../../src/loki/logql/rollup.js';
import { parseLogQL, type LogQuery, type RangeAggregation } from '../../src/loki/logql/parse.js';
import type { LogEvent } from '../../src/model/event.js';
import { uuidv7 } from '../../src/model/id.js';
import { eventRows } from '../../src/store/rows.js';
import { writeMeta } from '../../src/store/meta.js';
import { Rollup, WATERMARK_KEY } from '../../src/store/rollup.js';
import { makeToken, startServer, type TestServer } from '../helpers/server.js';

const MIN = 60_000;
const MS = 1_000_000n;
let s: TestServer;
let auth: string;
// A whole hour three hours before the clock: two hours of events, all past.
let BASE = 0;
const events: LogEvent[] = [];

const LEVELS = [['info', 9], ['warn', 13], ['error', 17]] as const;

function event(timeNs: bigint, receivedNs: bigint, i: number): LogEvent {
  const [level, severity] = LEVELS[i % 3]!;
  // api has no host; web has two.
  const service = i % 4 === 0 ? 'web' : 'api';
  return {
    id: uuidv7(Number(timeNs / MS)), timeNs, receivedNs, service, host: service === 'web' ? `h${(i >> 2) % 2}` : '', level, severity,
    message: `m ${i}`, attributes: {}, traceId: '', spanId: '',
  };
}

beforeAll(async () => {
  s = await startServer({ SLUICE_ROLES: 'api,ingest' });
  auth = `Bearer ${await makeToken(s, 'read')}`;
  BASE = Math.floor(s.ctx.clock.nowMs() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
  const base = BigInt(BASE) * MS;
  let i = 0;
  // One event every 7 s and a quarter, received 0.1 s later.
  for (let t = 0; t < 120 * MIN; t += 7250) events.push(event(base + BigInt(t) * MS, base + BigInt(t + 100) * MS, i++));
  // On every minute exactly, and a nanosecond either side of some.
  for (let m = 0; m <= 120; m++) {
    const at = base + BigInt(m * MIN) * MS;
    events.push(event(at, at + 100n * MS, i++));
    if (m % 3 === 0) events.push(event(at - 1n, at + 100n * MS, i++), event(at + 1n, at + 100n * MS, i++));
    if (m % 7 === 0) events.push(event(at, at + 200n * MS, i++), event(at, at + 300n * MS, i++));
  }
  // Late: event times early on, received at +110 min (after the watermark), some on minutes.
  for (let m = 5; m < 60; m += 4) events.push(event(base + BigInt(m * MIN) * MS, base + BigInt(110 * MIN) * MS, i++), event(base + BigInt(m * MIN + 30_000) * MS, base + BigInt(110 * MIN) * MS, i++));

  // The rollup counts what was received in the first 100 min; the rest
  // (the last 20 min and the late events) is past its watermark.
  const watermark = base + BigInt(100 * MIN) * MS;
  // The rollup job on a 20-minute grid (a chunk is a pair of inserts: few
  // chunks keep this quick under faketime), from before the first event.
  await s.ctx.rollup.stop();
  await writeMeta(s.store, WATERMARK_KEY, String(base - 3_600_000n * MS));
  const rollup = new Rollup(s.store, { warn() {}, error() {}, info() {}, debug() {} } as never, { gridMs: 20 * MIN, lagMs: 0, maxChunks: 1000 });
  Object.assign(s.ctx, { rollup });
  await s.store.insertEvents(eventRows(events.filter((e) => e.receivedNs < watermark), 'test', 'w'));
  await rollup.run(watermark);
  expect(await rollup.watermark()).toBe(watermark);
  await s.store.insertEvents(eventRows(events.filter((e) => e.receivedNs >= watermark), 'test', 'w'));
});
afterAll(async () => s?.close());

async function answers(): Promise<{ rollup: number; raw: number }> {
  const m = await s.ctx.metrics.registry.getSingleMetric(ANSWERS_METRIC)?.get();
  const of = (from: string): number => m?.values.find((v) => v.labels.from === from)?.value ?? 0;
  return { rollup: of('rollup'), raw: of('raw') };
}

type Result = Array<{ metric: Record<string, string>; values?: Array<[number, string]>; value?: [number, string] }>;

async function loki(path: string, params: Record<string, string | number>): Promise<Result> {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
  const res = await fetch(`${s.url}/loki/api/v1/${path}?${qs}`, { headers: { authorization: auth } });
  const body = (await res.json()) as { status: string; data: { result: Result }; error?: string };
  expect(res.status, body.error).toBe(200);
  return body.data.result;
}

/** Series keyed by their labels, each [seconds, value] per step (an instant answer as one step). */
function byLabels(r: Result): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>();
  for (const x of r) out.set(JSON.stringify(Object.entries(x.metric).sort()), (x.values ?? [x.value!]).map(([t, v]) => [t, Number(v)]));
  return out;
}

function expectSame(fast: Result, raw: Result): void {
  const f = byLabels(fast);
  const r = byLabels(raw);
  expect([...f.keys()].sort()).toEqual([...r.keys()].sort());
  for (const [k, values] of r) {
    const mine = f.get(k)!;
    expect(mine.map(([t]) => t), k).toEqual(values.map(([t]) => t));
    // Rates add per stream in the raw path and per minute here: equal up to float rounding.
    mine.forEach(([, v], i) => expect(v).toBeCloseTo(values[i]![1], 9));
  }
}

const ns = (ms: number): string => (BigInt(ms) * MS).toString();

/**
 * Runs `query` (with `%F` where a line filter may go) over [start, end] by
 * `step`: as it is, expecting the rollup to answer (or raw, when `fast` is
 * false), and with `|= ""` there, which counts raw; the answers must agree.
 */
async function compare(query: string, range: { start: number; end: number; step: number }, fast = true): Promise<Result> {
  const params = { start: ns(BASE + range.start), end: ns(BASE + range.end), step: `${range.step}ms` };
  const before = await answers();
  const got = await loki('query_range', { ...params, query: query.replace('%F%', '') });
  const middle = await answers();
  expect(middle.rollup - before.rollup, `${query}: answered by the rollup`).toBe(fast ? 1 : 0);
  const raw = await loki('query_range', { ...params, query: query.replace('%F%', ' |= ""') });
  expect((await answers()).raw - middle.raw).toBe(1);
  expectSame(got, raw);
  expect(got.length).toBeGreaterThan(0);
  return got;
}

/** The events (t − range, t] in the test, for an independent count. */
function countIn(pred: (e: LogEvent) => boolean, tMs: number, rangeMs: number): number {
  const t = BigInt(tMs) * MS;
  const from = t - BigInt(rangeMs) * MS;
  return events.filter((e) => pred(e) && e.timeNs > from && e.timeNs <= t).length;
}

describe('range aggregations from the rollup', () => {
  it('count_over_time over whole minutes equals the raw count and the events', async () => {
    const got = await compare('count_over_time({service_name="api"}%F% [5m])', { start: 10 * MIN, end: 120 * MIN, step: MIN });
    for (const series of got) {
      for (const [t, v] of series.values!) expect(Number(v)).toBe(countIn((e) => e.service === 'api' && e.level === series.metric.level, t * 1000, 5 * MIN));
    }
  });

  it('Grafana\'s logs volume: sum by (level, detected_level) (count_over_time(… | drop __error__ [1m]))', async () => {
    await compare('sum by (level, detected_level) (count_over_time({service_name="api"}%F% | drop __error__ [1m]))', { start: 0, end: 125 * MIN, step: MIN });
    // Events with hosts too: the sum's grouping reaches the counting, so the host-less rollup answers.
    const got = await compare('sum by (level, detected_level) (count_over_time({service_name="web"}%F% | drop __error__ [1m]))', { start: 0, end: 125 * MIN, step: MIN });
    for (const series of got) {
      for (const [t, v] of series.values!) expect(Number(v)).toBe(countIn((e) => e.service === 'web' && e.level === series.metric.level, t * 1000, MIN));
    }
  });

  it('rate, steps longer than the range, a regex selector, host dropped', async () => {
    const got = await compare('sum by (service_name) (rate({service_name=~"api|web"}%F% | drop host [2m]))', { start: 4 * MIN, end: 118 * MIN, step: 5 * MIN });
    for (const series of got) {
      for (const [t, v] of series.values!) expect(Number(v)).toBeCloseTo(countIn((e) => e.service === series.metric.service_name, t * 1000, 2 * MIN) / 120, 9);
    }
  });

  it('offset, keep, level matchers', async () => {
    await compare('count_over_time({level=~"warn|error", app!="nobody"}%F% | keep service_name, level [10m] offset 7m)', { start: 20 * MIN, end: 130 * MIN, step: 3 * MIN });
    await compare('rate({detected_level!="info"}%F% | drop host, level [3m] offset 1h)', { start: 60 * MIN, end: 180 * MIN, step: 2 * MIN });
  });

  it('the instant query at a whole minute', async () => {
    for (const at of [60 * MIN, 100 * MIN, 111 * MIN]) {
      const params = { time: ns(BASE + at) };
      const before = await answers();
      const fast = await loki('query', { ...params, query: 'sum by (level) (count_over_time({service_name="api"} | drop host [15m]))' });
      expect((await answers()).rollup - before.rollup).toBe(1);
      expectSame(fast, await loki('query', { ...params, query: 'sum by (level) (count_over_time({service_name="api"} |= "" | drop host [15m]))' }));
      for (const x of fast) expect(Number(x.value![1])).toBe(countIn((e) => e.service === 'api' && e.level === x.metric.level, BASE + at, 15 * MIN));
    }
  });

  it("Grafana's start off the minute is aligned to the step (Loki's align_queries_with_step), so the rollup answers", async () => {
    // Grafana sends its time picker's instant: now − 2 h to the millisecond.
    const range = { start: 10 * MIN + 30_123, end: 120 * MIN + 7_000, step: MIN };
    const got = await compare('count_over_time({service_name="api"}%F% [5m])', range);
    // Steps on the minutes from 10 min to 120 min, not 10:30.123.
    for (const x of got) expect(x.values![0]![0]).toBe((BASE + 10 * MIN) / 1000);
    expect(Math.max(...got.map((x) => x.values!.at(-1)![0]))).toBe((BASE + 120 * MIN) / 1000);
  });

  it('with SLUICE_LOKI_ALIGN_STEP=off the steps start where the query says, and off the minute the answer is raw', async () => {
    const config = s.ctx.config;
    Object.assign(s.ctx, { config: { ...config, lokiAlignStep: false } });
    try {
      const got = await compare('count_over_time({service_name="api"}%F% [5m])', { start: 10 * MIN + 30_000, end: 120 * MIN, step: MIN }, false);
      for (const x of got) expect(x.values![0]![0]).toBe((BASE + 10 * MIN + 30_000) / 1000);
    } finally {
      Object.assign(s.ctx, { config });
    }
  });

  it('what it cannot answer exactly goes raw: host kept, steps off the minute, bytes, line filters, host matchers', async () => {
    await compare('count_over_time({service_name="web"}%F% [5m])', { start: 10 * MIN, end: 120 * MIN, step: MIN }, false);
    await compare('count_over_time({service_name="api"}%F% [90s])', { start: 10 * MIN, end: 120 * MIN, step: MIN }, false);
    await compare('count_over_time({service_name="api"}%F% [5m])', { start: 10 * MIN, end: 120 * MIN, step: 90_000 }, false);
    await compare('bytes_over_time({service_name="api"}%F% [5m])', { start: 10 * MIN, end: 120 * MIN, step: MIN }, false);
    await compare('count_over_time({service_name="web", host="h1"}%F% [5m])', { start: 10 * MIN, end: 120 * MIN, step: MIN }, false);
    await compare('count_over_time({service_name="api"}%F% |= "m" [5m])', { start: 10 * MIN, end: 120 * MIN, step: MIN }, false);
  });
});

describe('which queries the rollup may take', () => {
  const range = (q: string): RangeAggregation => parseLogQL(q) as RangeAggregation;
  it('a whitelist of what the AST holds', () => {
    expect(rollupProblem(range('count_over_time({service_name="a", level=~"x|y"} | drop __error__ | keep level [1m])'))).toBeUndefined();
    expect(rollupProblem(range('rate({job="a"}[1m])'))).toBeUndefined();
    expect(rollupProblem(range('bytes_rate({job="a"}[1m])'))).toMatch(/bytes/);
    expect(rollupProblem(range('rate({job="a"} |~ "x" [1m])'))).toMatch(/line filter/);
    expect(rollupProblem(range('rate({region="eu"}[1m])'))).toMatch(/matcher/);
    expect(rollupProblem(range('rate({instance="h"}[1m])'))).toMatch(/matcher/);
    // Fields the parser may gain: a stage that is not drop/keep by name, an unwrap, something new.
    const log = range('rate({job="a"}[1m])').log;
    const stages = (s: unknown[]): LogQuery => ({ ...log, stages: s }) as unknown as LogQuery;
    expect(rollupLogProblem(stages([{ kind: 'drop', items: [{ name: 'host', matcher: undefined }] }]))).toBeUndefined();
    expect(rollupLogProblem(stages([{ kind: 'drop', items: [{ name: 'level', matcher: { name: 'level', op: '=', value: 'x' } }] }]))).toMatch(/stage/);
    expect(rollupLogProblem(stages([{ kind: 'json', extract: [], strict: false, keepEmpty: false }]))).toMatch(/stage/);
    expect(rollupLogProblem({ ...log, somethingNew: 1 } as unknown as LogQuery)).toBeDefined();
    expect(rollupProblem({ ...range('rate({job="a"}[1m])'), unwrap: { label: 'x', conv: 'number', filters: [] } } as unknown as RangeAggregation)).toMatch(/unwrap/);
    expect(rollupProblem({ ...range('rate({job="a"}[1m])'), unwrap: undefined } as unknown as RangeAggregation)).toBeUndefined();
  });
});

// The requests Grafana's Loki data source makes, in the order a user causes
// them — Save & test, Explore (logs, logs volume, query-size hint), the label
// and value pickers, a dashboard time series panel, live tail — replayed
// against a real Sluice on the embedded store, each answer checked for Loki's
// documented shape and for what the seeded events say it must contain.
//
// What Grafana sends, read from its source (grafana/grafana-loki-datasource
// at 7eefb67, 2026-08-20, where the Loki data source now lives; the same code
// as grafana/grafana's pkg/tsdb/loki and public/app/plugins/datasource/loki):
//
// - Save & test: pkg/loki/healthcheck.go runs the instant query
//   `vector(1)+vector(1)` over the range 1 s..4 s; pkg/loki/api.go
//   makeDataRequest sends an instant query's `time` as End.UnixNano(), so
//   `time=4000000000` (ten digits: Loki reads it as seconds), `direction=
//   backward` (parse_query.go parseDirection: none given), no `limit` (0 is
//   not sent). Grafana wants one frame of one row whose value is 2.
// - Every data query (api.go makeDataRequest): a GET whose query string is Go's
//   url.Values.Encode — keys sorted, spaces as `+`; headers
//   `X-Loki-Response-Encoding-Flags: categorize-labels` always, `X-Query-Tags:
//   Source=logvolhist` on the logs-volume query, and the data source's Basic
//   auth (user, password: here any user and the Sluice read token). Range
//   queries: `start`/`end` as UnixNano of the range, `step` as
//   `<milliseconds>ms` (step.go calculateStep: max(interval, range/11000),
//   rounded up to a millisecond), `limit` = the query's maxLines (1000 unless
//   the data source says otherwise: src/datasource.ts DEFAULT_MAX_LINES).
// - Query splitting (src/querySplitting.ts, on by default): a log query's range
//   is cut into days and kept as is (src/logsTimeSplitting.ts); a metric
//   query's start is aligned down to a multiple of the step
//   (src/metricTimeSplitting.ts) and its maxLines dropped, so no `limit`.
// - $__auto (pkg/loki/parse_query.go interpolateVariables): in a range query,
//   the step as gtime.FormatInterval prints it (5000 ms → `5s`).
// - Explore's interval: rangeUtil.calculateInterval(range, width) rounds
//   range/width (3 h over a 1,600 px pane: 6.75 s → 5 s); a dashboard panel's
//   likewise (3 h over 800 px: 13.5 s → 15 s).
// - Logs volume (src/datasource.ts getSupplementaryQuery): `sum by (level,
//   detected_level) (count_over_time(<query> | drop __error__[$__auto]))`,
//   a range query tagged logsVolume.
// - Query-size hint (src/datasource.ts getQueryStats): `index/stats` with
//   `query` = each stream selector of the query (no line filters), `start`/
//   `end` = getTimeRangeParams: milliseconds × 1e6 as a JS number.
// - Pickers (src/LanguageProvider.ts): `labels?start&end` (with `query` when a
//   selector is chosen), `label/<name>/values?start&end` (with `query`),
//   `series?match[]&start&end` (the label browser's label sets). These are
//   resource calls: the browser's parameters in their order, passed through by
//   pkg/loki/loki.go callResource to /loki/api/v1/<path>.
// - Live tail (src/datasource.ts createLiveTarget, src/LiveStreams.ts): a
//   WebSocket to `<proxy>/loki/api/v1/tail?query=<expr>` — only `query`, so
//   Loki's defaults for the rest (start an hour ago, limit 100); Grafana's
//   data source proxy adds the Basic auth. Each message is read as
//   {streams: [{stream, values: [[ns, line]]}], dropped_entries}, the time
//   cut from the nanosecond string (liveStreamsResultTransformer.ts).
//   (pkg/loki/streaming.go's /loki/api/v2alpha/tail is behind the
//   lokiExperimentalStreaming flag.)
// detected_labels, index/volume and patterns are Logs Drilldown's calls, not
// this data source's: test/loki/query.test.ts covers them.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { patience, testTimes } from '../helpers/times.js';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

// Two hours of events ending at most at the current hour, one every 20 s.
const at = testTimes(2);
// The browser's clock when the user picks "Last 3 hours": every event is inside.
const to = Date.now();
const from = to - 3 * HOUR;

const LEVELS = ['info', 'info', 'warn', 'error'] as const;
const events = Array.from({ length: 360 }, (_, i) => {
  const service = i % 3 === 0 ? 'web' : 'api';
  return {
    time: at.iso(i * 20 * SEC),
    ms: at.ms(i * 20 * SEC),
    service,
    host: `${service}-1`,
    // web never logs errors: scoped value pickers must show it.
    level: service === 'web' ? (i % 2 ? 'info' : 'warn') : LEVELS[i % 4]!,
    message: i % 5 === 0 ? `GET /orders/${i} timeout after ${i} ms` : `GET /orders/${i} ok`,
    region: i % 4 === 1 ? 'eu' : 'us',
  };
});
type Ev = (typeof events)[number];
// A service whose events name no host: its label list must not offer one.
const cron = [{ time: at.iso(30 * MIN + 5 * SEC), service: 'cron', level: 'info', message: 'nightly job done' }];
const api = events.filter((e) => e.service === 'api');
const bytes = (es: readonly Ev[]): number => es.reduce((n, e) => n + Buffer.byteLength(e.message), 0);
const levelsOf = (es: readonly Ev[]): string[] => [...new Set(es.map((e) => e.level))].sort();

let s: TestServer;
let ing: string;
let basic: string;

beforeAll(async () => {
  s = await startServer();
  ing = await makeToken(s, 'ingest');
  basic = basicAuth(await makeToken(s, 'read'));
  const res = await ingest(s.url, ing, ndjson([...events.map(({ ms: _ms, ...e }) => e), ...cron]));
  expect(res.status).toBe(200);
});
afterAll(async () => s?.close());

// --- how Grafana writes its requests -------------------------------------

/** Go's time.UnixNano() of a millisecond time, as strconv.FormatInt prints it. */
const goNs = (ms: number): string => (BigInt(ms) * 1_000_000n).toString();
/** The frontend's getTimeRangeParams: milliseconds × 1e6, a JS number, printed by the URL serializer. */
const jsNs = (ms: number): string => String(ms * 1e6);
/** step.go calculateStep without a step on the query. */
const grafanaStepMs = (intervalMs: number, rangeMs: number): number => Math.ceil(Math.max(intervalMs, rangeMs / 11000));
/** metricTimeSplitting.ts: the start aligned down to the step. */
const alignedFrom = (stepMs: number): number => from - (from % stepMs);

interface Answer {
  status: number;
  body: Record<string, unknown> & { status?: string; data?: unknown };
}

/** A data query from Grafana's backend: url.Values.Encode (sorted keys) and its headers. */
async function dataQuery(path: 'query' | 'query_range', params: Record<string, string>, supporting?: 'logvolhist'): Promise<Answer> {
  const qs = new URLSearchParams(Object.entries(params).sort(([a], [b]) => (a < b ? -1 : 1)));
  const headers: Record<string, string> = { authorization: basic, 'x-loki-response-encoding-flags': 'categorize-labels' };
  if (supporting) headers['x-query-tags'] = `Source=${supporting}`;
  const res = await fetch(`${s.url}/loki/api/v1/${path}?${qs}`, { headers });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

/** A resource call: the frontend's parameters in their order, passed through by the backend. */
async function resource(path: string, params: Array<[string, string]>): Promise<Answer> {
  const res = await fetch(`${s.url}/loki/api/v1/${path}?${new URLSearchParams(params)}`, { headers: { authorization: basic } });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}
const range: Array<[string, string]> = [['start', jsNs(from)], ['end', jsNs(to)]];

interface Stream { stream: Record<string, string>; values: Array<[string, string] | [string, string, object]> }
interface Series { metric: Record<string, string>; values: Array<[number, string]> }

/** The answer's matrix as expected: per step t of the grid, the events in (t - windowMs, t]; steps without any left out, as Loki does. */
function expectedSamples(es: readonly Ev[], startMs: number, endMs: number, stepMs: number, windowMs: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let t = startMs; t <= endMs; t += stepMs) {
    const n = es.filter((e) => e.ms > t - windowMs && e.ms <= t).length;
    if (n > 0) out.push([t / 1000, n]);
  }
  return out;
}

describe('Save & test', () => {
  it('the instant query vector(1)+vector(1) at time=4000000000 answers one sample of 2', async () => {
    const r = await dataQuery('query', { direction: 'backward', query: 'vector(1)+vector(1)', time: goNs(4 * SEC) });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [4000000000, '2'] }], stats: {} } });
  });
});

describe('Explore: a log query over the last 3 hours', () => {
  const expr = '{service_name="api"} |= "timeout"';
  const stepMs = grafanaStepMs(5 * SEC, to - from);
  const want = api.filter((e) => e.message.includes('timeout'));

  it('the lines: newest first, at most limit, each in its stream of labels', async () => {
    expect(stepMs).toBe(5000);
    const r = await dataQuery('query_range', { direction: 'backward', end: goNs(to), limit: '1000', query: expr, start: goNs(from), step: `${stepMs}ms` });
    expect(r.status).toBe(200);
    const data = r.body.data as { resultType: string; result: Stream[]; encodingFlags?: string[] };
    expect(r.body.status).toBe('success');
    expect(data.resultType).toBe('streams');
    // Grafana asked for categorized labels: each line carries its structured metadata (Sluice's attributes).
    expect(data.encodingFlags).toEqual(['categorize-labels']);
    const got = data.result.flatMap((st) => st.values.map((v) => ({ stream: st.stream, v })));
    expect(got).toHaveLength(want.length);
    const byLine = new Map(want.map((e) => [e.message, e]));
    for (const { stream, v } of got) {
      const e = byLine.get(v[1])!;
      expect(e).toBeDefined();
      expect(v).toEqual([goNs(e.ms), e.message, { structuredMetadata: { region: e.region } }]);
      expect(stream).toEqual({ service_name: 'api', host: 'api-1', level: e.level });
    }
    for (const st of data.result) {
      const ts = st.values.map(([t]) => BigInt(t));
      expect(ts).toEqual([...ts].sort((a, b) => (a > b ? -1 : 1)));
    }
    expect(data.result.map((st) => st.stream.level).sort()).toEqual(levelsOf(want));
  });

  it('the logs volume: sum by (level, detected_level) (count_over_time(… | drop __error__[5s])), per 5 s step', async () => {
    const start = alignedFrom(stepMs);
    const r = await dataQuery('query_range', {
      direction: 'backward', end: goNs(to), query: `sum by (level, detected_level) (count_over_time(${expr} | drop __error__[5s]))`, start: goNs(start), step: `${stepMs}ms`,
    }, 'logvolhist');
    expect(r.status).toBe(200);
    const data = r.body.data as { resultType: string; result: Series[] };
    expect(data.resultType).toBe('matrix');
    expect(data.result.map((x) => x.metric.level).sort()).toEqual(levelsOf(want));
    for (const series of data.result) {
      const level = series.metric.level!;
      // Loki 3 may name detected_level beside level; Sluice's two are one column.
      expect(Object.keys(series.metric).filter((k) => k !== 'detected_level')).toEqual(['level']);
      if (series.metric.detected_level !== undefined) expect(series.metric.detected_level).toBe(level);
      const samples = expectedSamples(want.filter((e) => e.level === level), start, to, stepMs, stepMs);
      expect(series.values).toEqual(samples.map(([t, n]) => [t, String(n)]));
    }
    // The steps tile the range: every line counted once.
    expect(data.result.reduce((n, x) => n + x.values.reduce((m, [, v]) => m + Number(v), 0), 0)).toBe(want.length);
  });

  it('the query-size hint: index/stats of the stream selector alone', async () => {
    const r = await resource('index/stats', [['query', '{service_name="api"}'], ...range]);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ streams: levelsOf(api).length, chunks: levelsOf(api).length, entries: api.length, bytes: bytes(api) });
  });
});

describe('Explore: the label and value pickers', () => {
  it('labels: every label name in the range', async () => {
    const r = await resource('labels', range);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'success', data: ['host', 'level', 'region', 'service_name'] });
  });

  it('label values: of service_name; of level and region scoped by the chosen selector', async () => {
    expect((await resource('label/service_name/values', range)).body).toEqual({ status: 'success', data: ['api', 'cron', 'web'] });
    const web = events.filter((e) => e.service === 'web');
    expect(levelsOf(web)).not.toEqual(levelsOf(events));
    expect((await resource('label/level/values', [...range, ['query', '{service_name="web"}']])).body).toEqual({ status: 'success', data: levelsOf(web) });
    const webWarn = web.filter((e) => e.level === 'warn');
    expect((await resource('label/region/values', [...range, ['query', '{service_name="web", level="warn"}']])).body)
      .toEqual({ status: 'success', data: [...new Set(webWarn.map((e) => e.region))].sort() });
  });

  it('labels scoped by a selector, and the label browser\'s series', async () => {
    expect((await resource('labels', [...range, ['query', '{service_name="web"}']])).body).toEqual({ status: 'success', data: ['host', 'level', 'region', 'service_name'] });
    // Only names that have a value in scope, as Loki: no `host` for host-less events.
    expect((await resource('labels', [...range, ['query', '{service_name="cron"}']])).body).toEqual({ status: 'success', data: ['level', 'service_name'] });
    const r = await resource('series', [['match[]', '{service_name="api"}'], ...range]);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('success');
    const sets = (r.body.data as Array<Record<string, string>>).map((l) => JSON.stringify(Object.entries(l).sort()));
    expect(sets.sort()).toEqual(levelsOf(api).map((level) => JSON.stringify(Object.entries({ service_name: 'api', host: 'api-1', level }).sort())).sort());
  });
});

describe('a dashboard time series panel', () => {
  it('sum by (level) (rate({service_name="api"}[5m])) over the last 3 hours, a sample per 15 s step', async () => {
    const stepMs = grafanaStepMs(15 * SEC, to - from);
    expect(stepMs).toBe(15000);
    const start = alignedFrom(stepMs);
    const r = await dataQuery('query_range', { direction: 'backward', end: goNs(to), query: 'sum by (level) (rate({service_name="api"}[5m]))', start: goNs(start), step: `${stepMs}ms` });
    expect(r.status).toBe(200);
    const data = r.body.data as { resultType: string; result: Series[] };
    expect(r.body.status).toBe('success');
    expect(data.resultType).toBe('matrix');
    expect(data.result.map((x) => x.metric).sort((a, b) => (a.level! < b.level! ? -1 : 1))).toEqual(levelsOf(api).map((level) => ({ level })));
    for (const series of data.result) {
      const samples = expectedSamples(api.filter((e) => e.level === series.metric.level), start, to, stepMs, 5 * MIN);
      expect(series.values.map(([t]) => t)).toEqual(samples.map(([t]) => t));
      series.values.forEach(([, v], i) => expect(Number(v)).toBeCloseTo(samples[i]![1] / 300, 12));
    }
  });
});

// Loki's tail messages as Grafana's LiveStreams reads them.
interface TailMessage { streams: Stream[]; dropped_entries: unknown[] }

describe('Explore: live tail', () => {
  it('a WebSocket with only `query`: the last hour\'s matching lines, then each new one once', async () => {
    // Within the default hour before now: the backfill.
    const now = Date.now();
    await ingest(s.url, ing, ndjson([
      { time: new Date(now - 10 * MIN).toISOString(), service: 'checkout', host: 'co-1', level: 'info', message: 'order 1 placed' },
      { time: new Date(now - 9 * MIN).toISOString(), service: 'checkout', host: 'co-1', level: 'info', message: 'cart 1 viewed' },
      { time: new Date(now - 8 * MIN).toISOString(), service: 'checkout', host: 'co-1', level: 'error', message: 'order 2 failed' },
      { time: new Date(now - 2 * HOUR).toISOString(), service: 'checkout', host: 'co-1', level: 'info', message: 'order 0 too old' },
    ]));
    const messages: TailMessage[] = [];
    const ws = new WebSocket(`${s.url.replace(/^http/, 'ws')}/loki/api/v1/tail?${new URLSearchParams({ query: '{service_name="checkout"} |= "order"' })}`, { headers: { authorization: basic } });
    ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as TailMessage));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const lines = (): string[] => messages.flatMap((m) => m.streams.flatMap((st) => st.values.map(([, l]) => l)));
    const until = async (cond: () => boolean, what: string): Promise<void> => {
      const deadline = Date.now() + patience(15_000);
      while (!cond()) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(messages).slice(0, 400)}`);
        // The next message, or the deadline: a wait with a bound, not a sleep.
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          timer = setTimeout(resolve, left);
          ws.once('message', () => resolve());
        });
        clearTimeout(timer);
      }
    };
    try {
      await until(() => lines().length >= 2, 'the backfill');
      expect(lines()).toEqual(['order 1 placed', 'order 2 failed']);

      await ingest(s.url, ing, ndjson([
        { service: 'checkout', host: 'co-1', level: 'warn', message: 'order 3 slow' },
        { service: 'checkout', host: 'co-1', level: 'info', message: 'cart 2 viewed' },
        { service: 'api', host: 'api-1', level: 'info', message: 'order 4 elsewhere' },
      ]));
      await ingest(s.url, ing, ndjson([{ service: 'checkout', host: 'co-1', level: 'info', message: 'order marker' }]));
      await until(() => lines().includes('order marker'), 'the marker');
      expect(lines()).toEqual(['order 1 placed', 'order 2 failed', 'order 3 slow', 'order marker']);
      const levelOf: Record<string, string> = { 'order 1 placed': 'info', 'order 2 failed': 'error', 'order 3 slow': 'warn', 'order marker': 'info' };
      for (const m of messages) {
        expect(Object.keys(m).sort()).toEqual(['dropped_entries', 'streams']);
        expect(m.dropped_entries).toEqual([]);
        for (const st of m.streams) {
          for (const [ns, line] of st.values) {
            expect(ns).toMatch(/^\d{19}$/);
            expect(st.stream).toEqual({ service_name: 'checkout', host: 'co-1', level: levelOf[line] });
          }
        }
      }
      // The backfill's times are the stored ones, to the nanosecond.
      expect(messages[0]!.streams.flatMap((st) => st.values.map(([ns]) => ns)).sort()).toEqual([goNs(now - 10 * MIN), goNs(now - 8 * MIN)]);
    } finally {
      ws.close();
    }
  });
});

// Loki's query API as Grafana's Loki data source calls it: the requests are
// the ones its Go backend builds (grafana-loki-datasource pkg/loki/api.go:
// start/end in Unix ns, step as "<n>ms", direction, limit, the
// categorize-labels header, Basic auth with the token as password), the
// answers checked against an evaluation of the same events in the test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { testTimes } from '../helpers/times.js';

const at = testTimes();
const MIN = 60_000;
let s: TestServer;
let basic: string;

// Two hours of events, one every 20 s: api and web, levels in turn, some
// with "timeout", some in region eu.
const LEVELS = ['info', 'info', 'warn', 'error'] as const;
const events = Array.from({ length: 360 }, (_, i) => ({
  time: at.iso(i * 20_000),
  ms: at.ms(i * 20_000),
  service: i % 3 === 0 ? 'web' : 'api',
  level: LEVELS[i % 4]!,
  message: i % 5 === 0 ? `request ${i} timeout after ${i} ms` : `request ${i} ok`,
  region: i % 2 ? 'eu' : 'us',
}));

beforeAll(async () => {
  s = await startServer();
  const ing = await makeToken(s, 'ingest');
  const read = await makeToken(s, 'read');
  basic = basicAuth(read);
  const res = await ingest(s.url, ing, ndjson(events.map(({ ms: _ms, ...e }) => e)));
  expect(res.status).toBe(200);
});
afterAll(async () => s?.close());

interface LokiAnswer {
  status: string;
  errorType?: string;
  error?: string;
  code?: string;
  version?: string;
  data: { resultType: string; result: unknown[]; stats: object };
}

async function loki(path: string, params: Record<string, string | number>, headers: Record<string, string> = { authorization: basic }): Promise<{ status: number; body: LokiAnswer }> {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
  const res = await fetch(`${s.url}/loki/api/v1/${path}?${qs}`, { headers: { 'x-loki-response-encoding-flags': 'categorize-labels', 'x-scope-orgid': 'tenant-1', ...headers } });
  return { status: res.status, body: (await res.json()) as LokiAnswer };
}

const ns = (ms: number): string => (BigInt(ms) * 1_000_000n).toString();

describe('Grafana\'s requests', () => {
  it('health check: the instant query vector(1)+vector(1) at time=4000000000 answers one sample of 2', async () => {
    const r = await loki('query', { direction: 'backward', query: 'vector(1)+vector(1)', time: 4000000000 });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [4000000000, '2'] }], stats: {} } });
  });

  it('Explore log query: newest first, the limit, line filters, streams by labels', async () => {
    const r = await loki('query_range', {
      direction: 'backward', end: ns(at.ms(2 * 60 * MIN)), limit: 1000, query: '{service_name="api"} |= "timeout"', start: ns(at.ms(0)), step: '2000ms',
    });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('success');
    expect(r.body.data.resultType).toBe('streams');
    const want = events.filter((e) => e.service === 'api' && e.message.includes('timeout'));
    const got = (r.body.data.result as Array<{ stream: Record<string, string>; values: Array<[string, string]> }>)
      .flatMap((st) => st.values.map(([t, line]) => ({ t, line, stream: st.stream })));
    expect(got.map((g) => g.line).sort()).toEqual(want.map((e) => e.message).sort());
    for (const g of got) {
      const e = want.find((w) => w.message === g.line)!;
      expect(g.t).toBe(ns(e.ms));
      expect(g.stream).toMatchObject({ service_name: 'api', level: e.level });
    }
    // Within a stream, newest first.
    for (const st of r.body.data.result as Array<{ values: Array<[string, string]> }>) {
      const ts = st.values.map(([t]) => BigInt(t));
      expect(ts).toEqual([...ts].sort((a, b) => (a > b ? -1 : 1)));
    }
    const few = await loki('query_range', { direction: 'forward', limit: 3, query: '{service_name="api"}', start: ns(at.ms(0)), end: ns(at.ms(2 * 60 * MIN)), step: '2000ms' });
    const lines = (few.body.data.result as Array<{ values: Array<[string, string]> }>).flatMap((st) => st.values.map(([, l]) => l));
    expect(lines.sort()).toEqual(events.filter((e) => e.service === 'api').slice(0, 3).map((e) => e.message).sort());
  });

  it('selectors: regex, negation, attributes as labels; filters: !=, |~, or', async () => {
    const lines = async (query: string): Promise<string[]> => {
      const r = await loki('query_range', { query, start: ns(at.ms(0)), end: ns(at.ms(2 * 60 * MIN)), limit: 5000 });
      expect(r.status).toBe(200);
      return (r.body.data.result as Array<{ values: Array<[string, string]> }>).flatMap((st) => st.values.map(([, l]) => l)).sort();
    };
    const want = (f: (e: (typeof events)[number]) => boolean): string[] => events.filter(f).map((e) => e.message).sort();
    expect(await lines('{service_name=~"w.b", region="eu"}')).toEqual(want((e) => e.service === 'web' && e.region === 'eu'));
    expect(await lines('{job!="web"} != "timeout"')).toEqual(want((e) => e.service !== 'web' && !e.message.includes('timeout')));
    expect(await lines('{app="api"} |~ `request 1[0-9] ` or "request 3 "')).toEqual(want((e) => e.service === 'api' && /request (1[0-9]|3) /.test(e.message)));
    expect(await lines('{level=~"warn|error", service_name!~"web"}')).toEqual(want((e) => e.service !== 'web' && (e.level === 'warn' || e.level === 'error')));
  });

  it('dashboard panel: sum by (level) (count_over_time(...[5m])), rate and bytes_over_time, step by step', async () => {
    const start = at.ms(30 * MIN);
    const end = at.ms(90 * MIN);
    const step = 60_000;
    const r = await loki('query_range', { direction: 'backward', end: ns(end), query: 'sum by (level) (count_over_time({service_name="api"}[5m]))', start: ns(start), step: `${step}ms` });
    expect(r.status).toBe(200);
    expect(r.body.data.resultType).toBe('matrix');
    // Independent evaluation: at t, the events in (t - 5m, t].
    const expected = (level: string, t: number): number => events.filter((e) => e.service === 'api' && e.level === level && e.ms > t - 5 * MIN && e.ms <= t).length;
    const result = r.body.data.result as Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
    expect(result.map((x) => x.metric.level).sort()).toEqual(['error', 'info', 'warn']);
    for (const series of result) {
      expect(Object.keys(series.metric)).toEqual(['level']);
      expect(series.values).toHaveLength((end - start) / step + 1);
      for (const [t, v] of series.values) expect(Number(v)).toBe(expected(series.metric.level!, t * 1000));
    }
    const rate = await loki('query_range', { query: 'sum(rate({service_name="web"}[2m]))', start: ns(start), end: ns(end), step: '120000ms' });
    for (const [t, v] of (rate.body.data.result as Array<{ values: Array<[number, string]> }>)[0]!.values) {
      expect(Number(v)).toBeCloseTo(events.filter((e) => e.service === 'web' && e.ms > t * 1000 - 2 * MIN && e.ms <= t * 1000).length / 120, 10);
    }
    const bytes = await loki('query', { query: 'sum(bytes_over_time({service_name="web"} |= "timeout" [10m]))', time: ns(end) });
    const b = events.filter((e) => e.service === 'web' && e.message.includes('timeout') && e.ms > end - 10 * MIN && e.ms <= end).reduce((n, e) => n + Buffer.byteLength(e.message), 0);
    expect(bytes.body.data).toEqual({ resultType: 'vector', result: [{ metric: {}, value: [end / 1000, String(b)] }], stats: {} });
  });

  it('Explore logs volume: sum by (level, detected_level) (count_over_time({…} | drop __error__ [1m]))', async () => {
    const start = at.ms(0);
    const end = at.ms(2 * 60 * MIN);
    const r = await loki('query_range', {
      direction: 'backward', end: ns(end), query: 'sum by (level, detected_level) (count_over_time({service_name="api"} |= "request" | drop __error__[1m]))', start: ns(start), step: '60000ms',
    }, { authorization: basic, 'x-query-tags': 'Source=logvolhist' });
    expect(r.status).toBe(200);
    const result = r.body.data.result as Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
    expect(result.map((x) => x.metric).sort((a, b) => (a.level! < b.level! ? -1 : 1))).toEqual([{ level: 'error' }, { level: 'info' }, { level: 'warn' }]);
    let total = 0;
    for (const series of result) {
      for (const [t, v] of series.values) {
        expect(Number(v)).toBe(events.filter((e) => e.service === 'api' && e.level === series.metric.level && e.ms > t * 1000 - MIN && e.ms <= t * 1000).length);
        total += Number(v);
      }
    }
    // Every api event in (start - 1m, end] counted once: the steps tile the range.
    expect(total).toBe(events.filter((e) => e.service === 'api' && e.ms > start - MIN && e.ms <= end).length);
    // keep: the streams it makes alike are one.
    const kept = await loki('query_range', { query: '{service_name="api"} | keep service_name', start: ns(start), end: ns(end), limit: 5000 });
    const streams = kept.body.data.result as Array<{ stream: Record<string, string>; values: unknown[] }>;
    expect(streams.map((x) => x.stream)).toEqual([{ service_name: 'api' }]);
    expect(streams[0]!.values).toHaveLength(events.filter((e) => e.service === 'api').length);
  });

  it('arithmetic with numbers, and between vectors with the same labels', async () => {
    const t = at.ms(60 * MIN);
    const count = events.filter((e) => e.service === 'api' && e.ms > t - 10 * MIN && e.ms <= t).length;
    const r = await loki('query', { query: 'sum(count_over_time({service_name="api"}[10m])) * 2', time: ns(t) });
    expect((r.body.data.result as Array<{ value: [number, string] }>)[0]!.value[1]).toBe(String(count * 2));
    const ratio = await loki('query', { query: 'sum(count_over_time({service_name="api"} |= "timeout" [10m])) / sum(count_over_time({service_name="api"}[10m]))', time: ns(t) });
    const timeouts = events.filter((e) => e.service === 'api' && e.message.includes('timeout') && e.ms > t - 10 * MIN && e.ms <= t).length;
    expect(Number((ratio.body.data.result as Array<{ value: [number, string] }>)[0]!.value[1])).toBeCloseTo(timeouts / count, 12);
    expect((await loki('query', { query: '2 * 3', time: ns(t) })).body.data).toEqual({ resultType: 'scalar', result: [t / 1000, '6'], stats: {} });
  });
});

describe('the label browser\'s requests', () => {
  it('series: the stream label sets of match[] selectors, ORed', async () => {
    const qs = new URLSearchParams([['match[]', '{service_name="web", level="error"}'], ['match[]', '{app="api", level=~"warn"}'], ['start', ns(at.ms(0))], ['end', ns(at.ms(2 * 60 * MIN))]]);
    const res = await fetch(`${s.url}/loki/api/v1/series?${qs}`, { headers: { authorization: basic } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; data: Array<Record<string, string>> };
    expect(body.status).toBe('success');
    const host = (await (await fetch(`${s.url}/loki/api/v1/label/host/values`, { headers: { authorization: basic } })).json() as { data: string[] }).data[0];
    expect(body.data).toEqual([{ service_name: 'api', host, level: 'warn' }, { service_name: 'web', host, level: 'error' }].map((l) => (host ? l : { service_name: l.service_name, level: l.level })));
  });

  it('labels and label values, scoped by a selector in query', async () => {
    const range = { start: ns(at.ms(0)), end: ns(at.ms(2 * 60 * MIN)) };
    const names = await loki('labels', { ...range, query: '{service_name="web"}' });
    expect(names.body).toMatchObject({ status: 'success', data: expect.arrayContaining(['level', 'region', 'service_name']) });
    const levels = async (query: string): Promise<unknown> => (await loki('label/level/values', { ...range, query })).body.data;
    const want = (f: (e: (typeof events)[number]) => boolean): string[] => [...new Set(events.filter(f).map((e) => e.level))].sort();
    // web events are every third, levels every fourth: web in eu has a level mix of its own.
    expect(await levels('{service_name="web", region="eu"}')).toEqual(want((e) => e.service === 'web' && e.region === 'eu'));
    expect(await levels('{service_name="api"} |= "timeout"')).toEqual(want((e) => e.service === 'api' && e.message.includes('timeout')));
    expect((await loki('label/region/values', { ...range, query: '{level="warn"}' })).body.data).toEqual([...new Set(events.filter((e) => e.level === 'warn').map((e) => e.region))].sort());
    expect((await loki('labels', { ...range, query: 'rate({a="b"}[1m])' })).status).toBe(400);
  });

  it('detected_labels: each label with its number of values, without an envelope', async () => {
    const r = await loki('detected_labels', { start: ns(at.ms(0)), end: ns(at.ms(2 * 60 * MIN)), query: '{service_name="api"}' });
    expect(r.status).toBe(200);
    const api = events.filter((e) => e.service === 'api');
    expect((r.body as unknown as { detectedLabels: Array<{ label: string; cardinality: number }> }).detectedLabels.filter((l) => l.label !== 'host')).toEqual([
      { label: 'level', cardinality: new Set(api.map((e) => e.level)).size },
      { label: 'region', cardinality: new Set(api.map((e) => e.region)).size },
      { label: 'service_name', cardinality: 1 },
    ]);
  });

  it('index/stats: streams, entries and bytes of a query, without an envelope', async () => {
    const r = await loki('index/stats', { query: '{service_name="api"} |= "timeout"', start: ns(at.ms(0)), end: ns(at.ms(2 * 60 * MIN)) });
    expect(r.status).toBe(200);
    const want = events.filter((e) => e.service === 'api' && e.message.includes('timeout'));
    expect(r.body).toEqual({
      streams: new Set(want.map((e) => e.level)).size, chunks: new Set(want.map((e) => e.level)).size,
      entries: want.length, bytes: want.reduce((n, e) => n + Buffer.byteLength(e.message), 0),
    });
    expect((await loki('index/stats', { query: 'count_over_time({a="b"}[1m])' })).status).toBe(400);
  });
});

describe('Logs Drilldown\'s volume call', () => {
  it('index/volume: bytes per series of the selector\'s labels, of targetLabels, or per label', async () => {
    const range = { start: new Date(at.ms(0)).toISOString(), end: new Date(at.ms(2 * 60 * MIN)).toISOString() };
    const bytes = (f: (e: (typeof events)[number]) => boolean): string => String(events.filter(f).reduce((n, e) => n + Buffer.byteLength(e.message), 0));
    const byService = await loki('index/volume', { ...range, query: '{service_name=~".+"}', limit: 5000 });
    expect(byService.status).toBe(200);
    const endS = Math.floor(at.ms(2 * 60 * MIN) / 1000);
    expect(byService.body.data.result).toEqual(['api', 'web']
      .map((svc) => ({ metric: { service_name: svc }, value: [endS, bytes((e) => e.service === svc)] }))
      .sort((a, b) => Number(b.value[1]) - Number(a.value[1])));
    const byLevel = await loki('index/volume', { ...range, query: '{service_name="web"}', targetLabels: 'level' });
    expect((byLevel.body.data.result as Array<{ metric: { level: string }; value: [number, string] }>).map((r) => [r.metric.level, r.value[1]]).sort()).toEqual(
      ['error', 'info', 'warn'].map((l) => [l, bytes((e) => e.service === 'web' && e.level === l)]));
    const byLabel = await loki('index/volume', { ...range, query: '{service_name="api"}', targetLabels: 'region,service_name', aggregateBy: 'labels' });
    expect((byLabel.body.data.result as Array<{ metric: Record<string, string> }>).map((r) => r.metric).sort((a, b) => (Object.keys(a)[0]! < Object.keys(b)[0]! ? -1 : 1))).toEqual([{ region: '' }, { service_name: '' }]);
  });
});

describe('Logs Drilldown\'s patterns call', () => {
  it('answers Sluice\'s patterns in Loki\'s shape, with RFC 3339 times and a step', async () => {
    const r = await loki('patterns', { query: '{service_name="api"}', start: new Date(at.ms(0)).toISOString(), end: new Date(at.ms(2 * 60 * MIN)).toISOString(), step: '30s' });
    expect(r.status).toBe(200);
    const data = (r.body as unknown as { status: string; data: Array<{ pattern: string; level: string; samples: Array<[number, number]> }> }).data;
    const api = events.filter((e) => e.service === 'api');
    const ok = data.find((d) => d.pattern === 'request <_> ok')!;
    expect(ok.level).toBe('info');
    expect(ok.samples.reduce((n, [, c]) => n + c, 0)).toBe(api.filter((e) => e.message.endsWith(' ok')).length);
    const timeout = data.find((d) => d.pattern === 'request <_> timeout after <_> ms')!;
    expect(timeout.samples.reduce((n, [, c]) => n + c, 0)).toBe(api.filter((e) => e.message.includes('timeout')).length);
    for (const [t, c] of ok.samples) {
      expect(Number.isInteger(t) && t % 30 === 0).toBe(true);
      expect(c).toBe(api.filter((e) => e.message.endsWith(' ok') && e.ms >= t * 1000 && e.ms < (t + 30) * 1000).length);
    }
    expect(data).toHaveLength(2);
  });
});

describe('errors in Loki\'s shape', () => {
  it('400 for bad LogQL, for what is not supported yet (named), for too many steps; 401 without a token', async () => {
    const bad = await loki('query_range', { query: '{service_name="api"', start: ns(at.ms(0)), end: ns(at.ms(MIN)) });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ status: 'error', errorType: 'bad_data', code: 'SLUICE_ERR_LOGQL', error: expect.stringContaining('parse error') });
    const ip = await loki('query_range', { query: '{service_name="api"} |~ ip("10.0.0.0/8")', start: ns(at.ms(0)), end: ns(at.ms(MIN)) });
    expect(ip.status).toBe(400);
    expect(ip.body.error).toMatch(/not supported yet: LineFilter/);
    const template = await loki('query_range', { query: '{service_name="api"} | line_format "{{ range .x }}{{ end }}"', start: ns(at.ms(0)), end: ns(at.ms(MIN)) });
    expect(template.status).toBe(400);
    expect(template.body).toMatchObject({ errorType: 'bad_data', code: 'SLUICE_ERR_LOGQL', error: expect.stringMatching(/not supported yet: the template action range/) });
    const steps = await loki('query_range', { query: 'count_over_time({service_name="api"}[1m])', start: ns(at.ms(0)), end: ns(at.ms(24 * 60 * MIN)), step: '1s' });
    expect(steps.status).toBe(400);
    expect(steps.body.error).toMatch(/maximum resolution of 11000 points/);
    const log = await loki('query', { query: '{service_name="api"}' });
    expect(log.status).toBe(400);
    const none = await loki('query', { query: 'vector(1)' }, {});
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ status: 'error', errorType: 'unauthorized' });
    const badRegex = await loki('query_range', { query: '{service_name="api"} |~ "("', start: ns(at.ms(0)), end: ns(at.ms(MIN)) });
    expect(badRegex.status).toBe(400);
    expect(badRegex.body.code).toBe('SLUICE_ERR_INVALID_REGEX');
  });

  it('answers format_query with the query in one spelling', async () => {
    const r = await loki('format_query', { query: 'sum(count_over_time({app = "api"}|="x"[5m])) by (level)' });
    expect(r.body).toEqual({ status: 'success', data: 'sum by (level) (count_over_time({app="api"} |= "x" [5m]))' });
    expect((await loki('format_query', { query: '{app="api"} |~ ip("1.2.3.4")' })).status).toBe(400);
  });

  it('400s, not 500s, for a step of 0, a repeated parameter, a range before 1970', async () => {
    for (const step of ['0', '0.0000000001', '0ms', '9'.repeat(400)]) {
      const r = await loki('query_range', { query: 'count_over_time({service_name="api"}[1m])', start: ns(at.ms(0)), end: ns(at.ms(MIN)), step });
      expect(r.status).toBe(400);
      expect(r.body.errorType).toBe('bad_data');
    }
    const twice = await fetch(`${s.url}/loki/api/v1/index/stats?query=${encodeURIComponent('{a="b"}')}&query=${encodeURIComponent('{a="c"}')}`, { headers: { authorization: basic } });
    expect(twice.status).toBe(400);
    const old = await loki('query', { query: 'count_over_time({service_name="api"}[60y] offset 10y)', time: ns(at.ms(0)) });
    expect(old.status).toBe(200);
    expect(old.body.data.result).toEqual([]);
  });

  it('reads RE2\'s (?i) in line filters, in the store and in the tail\'s matcher alike', async () => {
    const r = await loki('query_range', { query: '{service_name="api"} |~ "(?i)TIMEOUT"', start: ns(at.ms(0)), end: ns(at.ms(2 * 60 * MIN)), limit: 5000 });
    expect((r.body.data.result as Array<{ values: unknown[] }>).reduce((n, st) => n + st.values.length, 0)).toBe(events.filter((e) => e.service === 'api' && e.message.includes('timeout')).length);
  });

  it('answers buildinfo', async () => {
    const r = await loki('status/buildinfo', {});
    expect(r.status).toBe(200);
    expect(r.body.version).toMatch(/^3\./);
  });
});

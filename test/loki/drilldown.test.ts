// Logs Drilldown's index/volume_range, detected_fields and
// detected_field/{name}/values, over real sockets on the embedded store;
// the answers checked against sums and sets computed here from the events
// stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { testTimes } from '../helpers/times.js';

const at = testTimes();
const MIN = 60_000;
let s: TestServer;
let bearer: string;

// An hour of events, one every 30 s: a JSON line, a logfmt line and a plain
// line in turn (the plain one not ASCII, so bytes are not characters).
const LEVELS = ['info', 'warn', 'error'] as const;
const events = Array.from({ length: 120 }, (_, i) => {
  const message =
    i % 3 === 0
      ? JSON.stringify({ user: { id: `u${i % 7}`, tags: ['a'] }, status: 200 + (i % 2) * 304, latency: `${(i % 4) + 1}ms`, size: `${(i % 5) + 1}kb`, ok: true, ratio: 0.25, level: 'debug', empty: '', nil: null })
      : i % 3 === 1
        ? `method=GET path=/p${i % 6} status=${500 + (i % 2)} dur=1.5s flag`
        : `plain text line ${i} — déjà vu`;
  return { ms: at.ms(i * 30_000), service: i % 2 ? 'api' : 'web', level: LEVELS[i % 3]!, region: i % 4 < 2 ? 'eu' : 'us', pod: `p${i % 5}`, message };
});
const bytes = (m: string): number => Buffer.byteLength(m);

beforeAll(async () => {
  s = await startServer();
  const ing = await makeToken(s, 'ingest');
  bearer = `Bearer ${await makeToken(s, 'read')}`;
  const res = await ingest(s.url, ing, ndjson(events.map((e) => ({ time: new Date(e.ms).toISOString(), service: e.service, level: e.level, message: e.message, region: e.region, 'k8s.pod': e.pod }))));
  expect(res.status).toBe(200);
});
afterAll(async () => s?.close());

async function loki(path: string, params: Record<string, string | number>, headers: Record<string, string> = { authorization: bearer }): Promise<{ status: number; body: Record<string, unknown> }> {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
  const res = await fetch(`${s.url}/loki/api/v1/${path}?${qs}`, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const ns = (ms: number): string => (BigInt(ms) * 1_000_000n).toString();
type Matrix = { resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };

describe('index/volume_range', () => {
  // Loki cuts the range at multiples of step since the epoch and reports
  // each bucket at its end less 1 ms, the last one at end.
  const buckets = (startMs: number, endMs: number, stepMs: number): Array<{ from: number; to: number; t: number }> => {
    const out = [];
    for (let a = startMs - (startMs % stepMs); a < endMs; a += stepMs) {
      const to = Math.min(a + stepMs, endMs);
      out.push({ from: Math.max(a, startMs), to, t: (to === endMs ? endMs : to - 1) / 1000 });
    }
    return out;
  };
  const expected = (startMs: number, endMs: number, stepMs: number, key: (e: (typeof events)[number]) => string | undefined): Map<string, Array<[number, string]>> => {
    const out = new Map<string, Array<[number, string]>>();
    for (const b of buckets(startMs, endMs, stepMs)) {
      const sums = new Map<string, number>();
      for (const e of events) {
        const k = key(e);
        if (k !== undefined && e.ms >= b.from && e.ms < b.to) sums.set(k, (sums.get(k) ?? 0) + bytes(e.message));
      }
      for (const [k, v] of sums) out.set(k, [...(out.get(k) ?? []), [b.t, String(v)]]);
    }
    return out;
  };

  it('bytes per series of the selector\'s labels, per step, as a matrix', async () => {
    const start = at.ms(5 * MIN); // not on a step: the first bucket is short
    const end = at.ms(60 * MIN);
    const r = await loki('index/volume_range', { query: '{service_name=~".+"}', start: ns(start), end: ns(end), step: '600s' });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('success');
    const data = r.body.data as Matrix;
    expect(data.resultType).toBe('matrix');
    const want = expected(start, end, 10 * MIN, (e) => e.service);
    // Loki's order: the larger first sample first.
    const order = [...want].sort(([a, x], [b, y]) => Number(y[0]![1]) - Number(x[0]![1]) || (a < b ? -1 : 1)).map(([service_name]) => ({ service_name }));
    expect(data.result.map((x) => x.metric)).toEqual(order);
    for (const x of data.result) expect(x.values).toEqual(want.get(x.metric.service_name!));
    expect(data.result[0]!.values[0]![0]).toBe(at.ms(10 * MIN - 1) / 1000);
    expect(data.result[0]!.values.at(-1)![0]).toBe(end / 1000);
  });

  it('targetLabels with a limit: the loudest series of each step; durations and float seconds as the step', async () => {
    const start = at.ms(0);
    const end = at.ms(60 * MIN);
    const r = await loki('index/volume_range', { query: '{service_name="api"}', targetLabels: 'level', limit: 1, start: ns(start), end: ns(end), step: '15m' });
    expect(r.status).toBe(200);
    const data = r.body.data as Matrix;
    const all = expected(start, end, 15 * MIN, (e) => (e.service === 'api' ? e.level : undefined));
    // Per step, the level with the most bytes.
    const top = new Map<string, Array<[number, string]>>();
    for (const b of buckets(start, end, 15 * MIN)) {
      const best = [...all].map(([level, vs]) => [level, vs.find(([t]) => t === b.t)?.[1]] as const).filter(([, v]) => v !== undefined).sort((x, y) => Number(y[1]) - Number(x[1]) || (x[0] < y[0] ? -1 : 1))[0]!;
      top.set(best[0], [...(top.get(best[0]) ?? []), [b.t, best[1]!]]);
    }
    expect(new Map(data.result.map((x) => [x.metric.level!, x.values]))).toEqual(top);
    const seconds = await loki('index/volume_range', { query: '{service_name="api"}', targetLabels: 'level', limit: 1, start: ns(start), end: ns(end), step: '900' });
    expect(seconds.body).toEqual(r.body);
  });

  it('aggregateBy=labels: per step, the bytes of the events that have each label', async () => {
    const start = at.ms(0);
    const end = at.ms(60 * MIN);
    const r = await loki('index/volume_range', { query: '{service_name="web"}', targetLabels: 'region,service_name,nosuch', aggregateBy: 'labels', start: ns(start), end: ns(end), step: '20m' });
    expect(r.status).toBe(200);
    const data = r.body.data as Matrix;
    const web = (e: (typeof events)[number]): string | undefined => (e.service === 'web' ? 'x' : undefined);
    const want = expected(start, end, 20 * MIN, web).get('x')!;
    expect(data.result).toEqual([{ metric: { region: '' }, values: want }, { metric: { service_name: '' }, values: want }]);
  });

  it('a range with no events answers an empty matrix', async () => {
    const r = await loki('index/volume_range', { query: '{service_name="nosuch"}', start: ns(at.ms(0)), end: ns(at.ms(60 * MIN)), step: '60s' });
    expect(r.body).toEqual({ status: 'success', data: { resultType: 'matrix', result: [] } });
  });

  it('bad parameters are 400s in Loki\'s error shape', async () => {
    const range = { start: ns(at.ms(0)), end: ns(at.ms(60 * MIN)) };
    for (const params of [
      { ...range, query: '{service_name="api"}', step: '1ms' }, // 3.6M points
      { ...range, query: '{service_name="api"}', step: 'soon' },
      { ...range, query: '{service_name="api"}', aggregateBy: 'streams' },
      { ...range, query: '{service_name="api"}', limit: -1 },
      { ...range, query: '{service_name="api"}', limit: 'ten' },
      { ...range, query: 'sum(count_over_time({service_name="api"}[1m]))' },
      { ...range },
    ]) {
      const r = await loki('index/volume_range', params);
      expect(r.status, JSON.stringify(params)).toBe(400);
      expect(r.body).toMatchObject({ status: 'error', errorType: 'bad_data', code: 'SLUICE_ERR_LOGQL' });
    }
    expect((await loki('index/volume_range', { query: '{service_name="api"}' }, {})).status).toBe(401);
  });
});

describe('detected_fields', () => {
  const range = { start: ns(at.ms(0)), end: ns(at.ms(60 * MIN)) };
  const api = events.filter((e) => e.service === 'api');
  const distinct = (xs: Array<string | undefined>): number => new Set(xs.filter((x) => x !== undefined)).size;
  const json = (e: (typeof events)[number]): Record<string, unknown> | undefined => (e.message.startsWith('{') ? (JSON.parse(e.message) as Record<string, unknown>) : undefined);
  const kv = (e: (typeof events)[number], k: string): string | undefined => new RegExp(`(?:^| )${k}=(\\S+)`).exec(e.message)?.[1];

  it('structured metadata (attributes) and what json and logfmt find in the lines, with types and cardinalities', async () => {
    const r = await loki('detected_fields', { ...range, query: '{service_name="api"}', line_limit: 1000 });
    expect(r.status).toBe(200);
    expect(r.body.limit).toBe(1000);
    const fields = (r.body.fields as Array<{ label: string; type: string; cardinality: number; parsers: string[] | null; jsonPath?: string[] }>).map((f) => ({ ...f, parsers: f.parsers && [...f.parsers].sort() }));
    const status = api.map((e) => (json(e)?.status as number | undefined)?.toString() ?? kv(e, 'status'));
    expect(fields).toEqual([
      { label: 'dur', type: 'duration', cardinality: 1, parsers: ['logfmt'] },
      { label: 'latency', type: 'duration', cardinality: distinct(api.map((e) => json(e)?.latency as string | undefined)), parsers: ['json'], jsonPath: ['latency'] },
      { label: 'level_extracted', type: 'string', cardinality: 1, parsers: ['json'], jsonPath: ['level'] },
      { label: 'method', type: 'string', cardinality: 1, parsers: ['logfmt'] },
      { label: 'ok', type: 'boolean', cardinality: 1, parsers: ['json'], jsonPath: ['ok'] },
      { label: 'path', type: 'string', cardinality: distinct(api.map((e) => kv(e, 'path'))), parsers: ['logfmt'] },
      { label: 'ratio', type: 'float', cardinality: 1, parsers: ['json'], jsonPath: ['ratio'] },
      { label: 'region', type: 'string', cardinality: 2, parsers: null },
      { label: 'size', type: 'bytes', cardinality: distinct(api.map((e) => json(e)?.size as string | undefined)), parsers: ['json'], jsonPath: ['size'] },
      { label: 'status', type: 'int', cardinality: distinct(status), parsers: ['json', 'logfmt'] },
      { label: 'user_id', type: 'string', cardinality: distinct(api.map((e) => (json(e)?.user as { id: string } | undefined)?.id)), parsers: ['json'], jsonPath: ['user', 'id'] },
    ].map((f) => (f.label === 'status' ? { ...f, jsonPath: ['status'] } : f)));
  });

  it('reads the newest line_limit lines that the query (with its line filters) matches; limit caps the fields', async () => {
    const newest = api.filter((e) => e.message.startsWith('method=')).slice(-3);
    const r = await loki('detected_fields', { ...range, query: '{service_name="api"} |= "method="', line_limit: 3 });
    expect(r.status).toBe(200);
    const byName = new Map((r.body.fields as Array<{ label: string; cardinality: number }>).map((f) => [f.label, f.cardinality]));
    expect([...byName.keys()]).toEqual(['dur', 'method', 'path', 'region', 'status']);
    expect(byName.get('path')).toBe(distinct(newest.map((e) => kv(e, 'path'))));
    expect(byName.get('region')).toBe(distinct(newest.map((e) => e.region)));
    const capped = await loki('detected_fields', { ...range, query: '{service_name="api"}', field_limit: 2 });
    expect((capped.body.fields as unknown[]).length).toBe(2);
    expect(capped.body.limit).toBe(2);
  });

  it('takes the query Drilldown sends (| json | logfmt | drop __error__, __error_details__); a label filter narrows the sample', async () => {
    const plain = await loki('detected_fields', { ...range, query: '{service_name="api"}', line_limit: 1000 });
    const drilldown = await loki('detected_fields', { ...range, query: '{service_name="api"} | json | logfmt | drop __error__, __error_details__', line_limit: 1000 });
    expect(drilldown.status).toBe(200);
    expect(drilldown.body).toEqual(plain.body);
    // Only the JSON lines whose latency is 2ms: latency has one value left of the two.
    const field = (body: Record<string, unknown>, label: string): { cardinality: number } | undefined => (body.fields as Array<{ label: string; cardinality: number }>).find((f) => f.label === label);
    expect(field(plain.body, 'latency')?.cardinality).toBe(2);
    const narrowed = await loki('detected_fields', { ...range, query: '{service_name="api"} | json | latency="2ms"', line_limit: 1000 });
    expect(narrowed.status).toBe(200);
    expect(field(narrowed.body, 'latency')?.cardinality).toBe(1);
    // The logfmt lines have no latency: they stay out, and their fields with them.
    expect(field(narrowed.body, 'method')).toBeUndefined();
  });

  it('detected_field/{name}/values: a field\'s values from the lines and the attributes', async () => {
    const r = await loki('detected_field/status/values', { ...range, query: '{service_name="api"}', line_limit: 1000 });
    expect(r.status).toBe(200);
    const status = api.map((e) => (json(e)?.status as number | undefined)?.toString() ?? kv(e, 'status')).filter((v): v is string => v !== undefined);
    expect(r.body).toEqual({ values: [...new Set(status)].sort(), limit: 1000 });
    const region = await loki('detected_field/region/values', { ...range, query: '{service_name="api"}' });
    expect(region.body.values).toEqual(['eu', 'us']);
    // Sizes come back in humanize's spelling, ready for a query.
    const size = await loki('detected_field/size/values', { ...range, query: '{service_name="web"}', line_limit: 1000 });
    expect(size.body.values).toEqual(['1.0kB', '2.0kB', '3.0kB', '4.0kB', '5.0kB']);
  });

  it('bad parameters are 400s in Loki\'s error shape', async () => {
    for (const params of [
      { ...range, query: '{service_name="api"}', line_limit: 0 },
      { ...range, query: '{service_name="api"}', line_limit: 100_000 },
      { ...range, query: '{service_name="api"}', limit: -3 },
      { ...range, query: '{service_name="api"}', step: '1ms' },
      { ...range, query: 'count_over_time({service_name="api"}[1m])' },
      { ...range },
    ]) {
      for (const path of ['detected_fields', 'detected_field/status/values']) {
        const r = await loki(path, params);
        expect(r.status, `${path} ${JSON.stringify(params)}`).toBe(400);
        expect(r.body).toMatchObject({ status: 'error', errorType: 'bad_data', code: 'SLUICE_ERR_LOGQL' });
      }
    }
  });
});

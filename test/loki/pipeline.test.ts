// LogQL pipelines through the Loki API on a real store: parsers (json,
// logfmt, and Sluice's ingest-time fields standing in for them), label
// filters with Loki's error semantics, line_format and label_format, keep,
// unwrapped range functions, topk, comparisons and vector matching. Every
// answer is checked against the seeded events, evaluated in the test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { testTimes } from '../helpers/times.js';

const at = testTimes(3);
const MIN = 60_000;
let s: TestServer;
let basic: string;

// Two hours of a "pay" service, one event every 30 s, written three ways:
// kind 0 a JSON line, kind 1 fields beside a plain message (what a JSON
// logger's event becomes at ingest), kind 2 a logfmt line.
const STATUS = [200, 200, 404, 500] as const;
const events = Array.from({ length: 240 }, (_, i) => {
  const kind = i % 3;
  const status = STATUS[i % 4]!;
  const path = `/p${i % 5}`;
  const latencyMs = 10 + ((i * 37) % 290);
  const base = { time: at.iso(i * 30_000), service: 'pay', level: status >= 500 ? 'error' : 'info' };
  const message =
    kind === 0 ? JSON.stringify({ status, path, latency: `${latencyMs}ms`, user: { id: `u${i % 7}` } })
    : kind === 1 ? `handled ${path}`
    : `status=${status} path=${path} latency=${latencyMs}ms`;
  const fields = kind === 1 ? { status: String(status), path, latency: `${latencyMs}ms` } : {};
  return { i, kind, status, path, latencyMs, ms: at.ms(i * 30_000), line: message, body: { ...base, message, ...fields } };
});

// A counter, logged each minute, that resets once: 10, 20, 5, 15.
const counter = [10, 20, 5, 15].map((total, k) => ({ time: at.iso((k + 1) * MIN), service: 'ctr', level: 'info', message: `total=${total}` }));

beforeAll(async () => {
  s = await startServer();
  const ing = await makeToken(s, 'ingest');
  basic = basicAuth(await makeToken(s, 'read'));
  const res = await ingest(s.url, ing, ndjson([...events.map((e) => e.body), ...counter]));
  expect(res.status).toBe(200);
});
afterAll(async () => s?.close());

type Streams = Array<{ stream: Record<string, string>; values: Array<[string, string]> }>;
type Matrix = Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;

async function loki<T>(params: Record<string, string | number>, headers: Record<string, string> = {}): Promise<{ status: number; result: T; error?: string }> {
  const qs = new URLSearchParams(Object.entries({ start: ns(at.ms(0)), end: ns(at.ms(120 * MIN)), limit: 1000, ...params }).map(([k, v]): [string, string] => [k, String(v)]));
  const res = await fetch(`${s.url}/loki/api/v1/query_range?${qs}`, { headers: { authorization: basic, ...headers } });
  const body = (await res.json()) as { data?: { result: T }; error?: string };
  return { status: res.status, result: body.data?.result as T, error: body.error };
}

const ns = (ms: number): string => (BigInt(ms) * 1_000_000n).toString();
const lines = (r: Streams): Array<{ t: string; line: string; stream: Record<string, string> }> =>
  r.flatMap((st) => st.values.map(([t, line]) => ({ t, line, stream: st.stream }))).sort((a, b) => (BigInt(a.t) < BigInt(b.t) ? -1 : 1));

/** The steps of a range query over the seeded two hours, and each step's window (t - range, t] of events. */
function windows(stepMs: number, rangeMs: number): Array<{ sec: number; inside: typeof events }> {
  const out = [];
  for (let t = at.ms(0); t <= at.ms(120 * MIN); t += stepMs) out.push({ sec: t / 1000, inside: events.filter((e) => e.ms > t - rangeMs && e.ms <= t) });
  return out;
}

describe('LogQL pipelines on log queries', () => {
  it('json, then filters: lines that are not JSON and have no fields keep their JSONParserErr', async () => {
    const r = await loki<Streams>({ query: '{service_name="pay"} | json | status >= 500' });
    expect(r.status).toBe(200);
    const got = lines(r.result);
    // The logfmt lines have no status once json fails on them: the filter drops them (Loki 3).
    const want = events.filter((e) => e.kind !== 2 && e.status >= 500);
    expect(got.map((g) => g.line)).toEqual(want.map((e) => e.line));
    for (const g of got) {
      const e = want.find((w) => ns(w.ms) === g.t)!;
      expect(g.stream).toMatchObject({ service_name: 'pay', status: '500', path: e.path, latency: `${e.latencyMs}ms` });
      // A nested object flattens with _.
      if (e.kind === 0) expect(g.stream.user_id).toBe(`u${e.i % 7}`);
    }
    const errors = lines((await loki<Streams>({ query: '{service_name="pay"} | json | __error__!=""' })).result);
    expect(errors.map((g) => g.line)).toEqual(events.filter((e) => e.kind === 2).map((e) => e.line));
    for (const g of errors) expect(g.stream).toMatchObject({ __error__: 'JSONParserErr' });
  });

  it('logfmt with a string filter and line_format; a duration filter; the newest `limit` through a filtering pipeline', async () => {
    const r = await loki<Streams>({ query: '{service_name="pay"} | logfmt | status="404" | line_format "{{.path}} took {{ .latency | ToUpper }}"' });
    const want = events.filter((e) => e.kind !== 0 && e.status === 404);
    expect(lines(r.result).map((g) => g.line)).toEqual(want.map((e) => `${e.path} took ${e.latencyMs}MS`));

    const slow = await loki<Streams>({ query: '{service_name="pay"} | logfmt | latency > 250ms or path="/p0"', limit: 7 });
    const slowWant = events.filter((e) => e.kind !== 0 && (e.latencyMs > 250 || e.path === '/p0')).slice(-7);
    expect(lines(slow.result).map((g) => g.t)).toEqual(slowWant.map((e) => ns(e.ms)));
  });

  it('label_format renames, keep narrows the stream labels, regexp and pattern extract', async () => {
    const r = await loki<Streams>({ query: '{service_name="pay"} | json | __error__="" | label_format route=path | keep route' });
    const byRoute = new Map(r.result.map((st) => [JSON.stringify(st.stream), st.values.length]));
    const want = new Map<string, number>();
    for (const e of events.filter((x) => x.kind !== 2)) want.set(JSON.stringify({ route: e.path }), (want.get(JSON.stringify({ route: e.path })) ?? 0) + 1);
    expect(byRoute).toEqual(want);

    const re = await loki<Streams>({ query: '{service_name="pay"} |~ "^status=" | regexp "path=(?P<route>\\\\S+)" | route="/p3"' });
    expect(lines(re.result).map((g) => g.line)).toEqual(events.filter((e) => e.kind === 2 && e.path === '/p3').map((e) => e.line));
    const pat = await loki<Streams>({ query: '{service_name="pay"} | pattern "status=<code> path=<_> latency=<lat>" | code="500" | line_format "{{.lat}}"' });
    expect(lines(pat.result).map((g) => g.line)).toEqual(events.filter((e) => e.kind === 2 && e.status === 500).map((e) => `${e.latencyMs}ms`));
  });
});

describe('categorized labels, as Grafana asks for them', () => {
  it('streams keep only stream labels; each line has its parsed labels and its structured metadata (attributes) apart', async () => {
    const r = await loki<Array<{ stream: Record<string, string>; values: Array<[string, string, { parsed?: Record<string, string>; structuredMetadata?: Record<string, string> }]> }>>(
      { query: '{service_name="pay"} | json | __error__="" | status="500"' },
      { 'x-loki-response-encoding-flags': 'categorize-labels' },
    );
    const want = events.filter((e) => e.kind !== 2 && e.status === 500);
    const got = r.result.flatMap((st) => st.values.map((v) => ({ stream: st.stream, v })));
    expect(got).toHaveLength(want.length);
    for (const { stream, v } of got) {
      const e = want.find((w) => ns(w.ms) === v[0])!;
      expect(stream).toEqual({ service_name: 'pay', level: 'error' });
      const parsed = { status: '500', path: e.path, latency: `${e.latencyMs}ms` };
      expect(v[2]).toEqual(e.kind === 0 ? { parsed: { ...parsed, user_id: `u${e.i % 7}` } } : { parsed, structuredMetadata: parsed });
    }
  });
});

describe('LogQL metric queries over pipelines', () => {
  const step = 10 * MIN;
  const point = (sec: number, v: number): [number, string] => [sec, String(v)];

  it('count_over_time by an extracted label matches the events per window', async () => {
    const r = await loki<Matrix>({ query: 'sum by (path) (count_over_time({service_name="pay"} | json | __error__="" [10m]))', step: '600' });
    expect(r.status).toBe(200);
    const paths = [...new Set(events.map((e) => e.path))].sort();
    expect(r.result.map((x) => x.metric.path).sort()).toEqual(paths);
    for (const series of r.result) {
      const want = windows(step, 10 * MIN)
        .map((w) => [w.sec, w.inside.filter((e) => e.kind !== 2 && e.path === series.metric.path).length] as const)
        .filter(([, n]) => n > 0)
        .map(([sec, n]) => point(sec, n));
      expect(series.values).toEqual(want);
    }
  });

  it('unwrapped quantile, avg and max over a converted duration, grouped; sum_over_time of a number', async () => {
    const q = await loki<Matrix>({ query: 'quantile_over_time(0.5, {service_name="pay"} | logfmt | unwrap duration(latency) | __error__="" [30m]) by (status)', step: '600' });
    expect(q.status).toBe(200);
    for (const series of q.result) {
      const want = windows(step, 30 * MIN).flatMap((w) => {
        const xs = w.inside.filter((e) => e.kind !== 0 && String(e.status) === series.metric.status).map((e) => e.latencyMs / 1000).sort((a, b) => a - b);
        if (xs.length === 0) return [];
        const rank = 0.5 * (xs.length - 1);
        const lo = Math.floor(rank);
        const v = xs[lo]! * (1 - (rank - lo)) + xs[Math.min(lo + 1, xs.length - 1)]! * (rank - lo);
        return [[w.sec, v] as const];
      });
      expect(series.values.map(([t, v]) => [t, Number(v)])).toEqual(want.map(([t, v]) => [t, expect.closeTo(v, 9)]));
    }
    expect(q.result.map((x) => x.metric).sort((a, b) => a.status!.localeCompare(b.status!))).toEqual(['200', '404', '500'].map((status) => ({ status })));

    const mx = await loki<Matrix>({ query: 'max by (service_name) (max_over_time({service_name="pay"} | json | __error__="" | unwrap duration_seconds(latency) [1h]))', step: '3600' });
    expect(mx.result).toHaveLength(1);
    expect(mx.result[0]!.values).toEqual(windows(60 * MIN, 60 * MIN).flatMap((w) => {
      const xs = w.inside.filter((e) => e.kind !== 2).map((e) => e.latencyMs / 1000);
      return xs.length ? [point(w.sec, Math.max(...xs))] : [];
    }));

    const sm = await loki<Matrix>({ query: 'sum(sum_over_time({service_name="pay"} | json | __error__="" | unwrap status [1h]))', step: '3600' });
    expect(sm.result[0]!.values).toEqual(windows(60 * MIN, 60 * MIN).flatMap((w) => {
      const xs = w.inside.filter((e) => e.kind !== 2).map((e) => e.status);
      return xs.length ? [point(w.sec, xs.reduce((a, b) => a + b, 0))] : [];
    }));
  });

  it('a parser error left in a metric query is a 400 that says how to skip it, as in Loki', async () => {
    const r = await loki<Matrix>({ query: 'count_over_time({service_name="pay"} | json [10m])', step: '600' });
    expect(r.status).toBe(400);
    expect(r.error).toMatch(/pipeline error: 'JSONParserErr'.*__error__/);
  });

  it('topk per step, a comparison filter and bool, division matched on a label with group_left', async () => {
    const counts = (path: string, w: { inside: typeof events }): number => w.inside.filter((e) => e.kind !== 2 && e.path === path).length;
    const inner = 'sum by (path) (count_over_time({service_name="pay"} | json | __error__="" [1h]))';
    const hours = windows(60 * MIN, 60 * MIN);
    const paths = ['/p0', '/p1', '/p2', '/p3', '/p4'];

    const top = await loki<Matrix>({ query: `topk(2, ${inner})`, step: '3600' });
    const topWant = new Map<string, Array<[number, string]>>();
    for (const w of hours) {
      const ranked = paths.map((p) => [p, counts(p, w)] as const).filter(([, n]) => n > 0);
      // Ties at the cut: which of equals is kept is not defined, so only counts are compared then.
      const sorted = [...ranked].sort((a, b) => b[1] - a[1]);
      for (const [p, n] of sorted.slice(0, 2)) topWant.set(p, [...(topWant.get(p) ?? []), point(w.sec, n)]);
    }
    const perStep = (m: Matrix): Map<number, number[]> => {
      const out = new Map<number, number[]>();
      for (const sr of m) for (const [t, v] of sr.values) out.set(t, [...(out.get(t) ?? []), Number(v)].sort((a, b) => b - a));
      return out;
    };
    const wantPerStep = new Map<number, number[]>();
    for (const pts of topWant.values()) for (const [t, v] of pts) wantPerStep.set(t, [...(wantPerStep.get(t) ?? []), Number(v)].sort((a, b) => b - a));
    expect(perStep(top.result)).toEqual(wantPerStep);

    const gt = await loki<Matrix>({ query: `${inner} > 20`, step: '3600' });
    for (const sr of gt.result) {
      expect(sr.values).toEqual(hours.flatMap((w) => (counts(sr.metric.path!, w) > 20 ? [point(w.sec, counts(sr.metric.path!, w))] : [])));
    }
    const asBool = await loki<Matrix>({ query: `${inner} > bool 20`, step: '3600' });
    for (const sr of asBool.result) {
      expect(sr.values).toEqual(hours.flatMap((w) => (counts(sr.metric.path!, w) > 0 ? [point(w.sec, counts(sr.metric.path!, w) > 20 ? 1 : 0)] : [])));
    }

    // Each path's share of its service: many paths to one service total.
    const share = await loki<Matrix>({
      query: 'sum by (path, service_name) (count_over_time({service_name="pay"} | json | __error__="" [1h])) / on (service_name) group_left sum by (service_name) (count_over_time({service_name="pay"} | json | __error__="" [1h]))',
      step: '3600',
    });
    expect(share.status).toBe(200);
    for (const sr of share.result) {
      expect(sr.metric).toEqual({ path: sr.metric.path, service_name: 'pay' });
      expect(sr.values.map(([t, v]) => [t, Number(v)])).toEqual(hours.flatMap((w) => {
        const all = w.inside.filter((e) => e.kind !== 2).length;
        return counts(sr.metric.path!, w) > 0 ? [[w.sec, expect.closeTo(counts(sr.metric.path!, w) / all, 12)]] : [];
      }));
    }
    // One-to-one where many match is refused, not answered arbitrarily.
    const many = await loki<Matrix>({ query: `${inner.replace('by (path)', 'by (path, service_name)')} / on (service_name) sum by (service_name) (count_over_time({service_name="pay"}[1h]))`, step: '3600' });
    expect(many.status).toBe(400);
    expect(many.error).toMatch(/many-to-many|duplicate series/);
  });

  it('rate_counter adds resets back and extrapolates as Loki does; label_replace rewrites labels by regex', async () => {
    // Loki's rate_counter: increase 15 - 10 + 20 (the reset) = 25 over 180 s
    // of samples; the start is taken a whole range back, but the counter
    // would be 0 only 72 s back (180 × 10/25), which is over 1.1 × the 60 s
    // spacing, so half a spacing (30 s) is added; the end is the last
    // sample (0 s): 25 × 210/180 per 600 s.
    const t = ns(at.ms(10 * MIN));
    const r = await loki<Matrix>({ query: 'rate_counter({service_name="ctr"} | logfmt | unwrap total [10m])', start: t, end: t, step: '60' });
    expect(r.status).toBe(200);
    expect(r.result).toHaveLength(1);
    expect(Number(r.result[0]!.values[0]![1])).toBeCloseTo((25 * 210) / 180 / 600, 12);

    const replaced = await loki<Matrix>({
      query: 'label_replace(sum by (path) (count_over_time({service_name="pay"} | json | __error__="" [2h])), "route", "r-$1", "path", "/(p[0-2])")',
      start: ns(at.ms(120 * MIN)), end: ns(at.ms(120 * MIN)), step: '60',
    });
    expect(replaced.result.map((x) => x.metric).sort((a, b) => a.path!.localeCompare(b.path!))).toEqual([
      { path: '/p0', route: 'r-p0' }, { path: '/p1', route: 'r-p1' }, { path: '/p2', route: 'r-p2' }, { path: '/p3' }, { path: '/p4' },
    ]);
  });

  it('or answers one series per label set; a comparison matched on (…) keeps only those labels, as Loki labels every binary result', async () => {
    // 404s and 200s are both level info: per minute, the 404 side where it has
    // a sample, else the 200 side — one {level="info"} series either way.
    const by = (status: number, range = '1h'): string => `sum by (level) (count_over_time({service_name="pay"} | json | __error__="" | status=${status} [${range}]))`;
    const either = await loki<Matrix>({ query: `${by(404, '1m')} or ${by(200, '1m')}`, step: '60' });
    expect(either.status).toBe(200);
    expect(either.result.map((x) => x.metric)).toEqual([{ level: 'info' }]);
    const perMinute = windows(MIN, MIN).flatMap((w) => {
      const json = w.inside.filter((e) => e.kind !== 2);
      const nf = json.filter((e) => e.status === 404).length;
      const ok = json.filter((e) => e.status === 200).length;
      return nf > 0 ? [point(w.sec, nf)] : ok > 0 ? [point(w.sec, ok)] : [];
    });
    expect(either.result[0]!.values).toEqual(perMinute);

    const withHost = 'sum by (level, service_name) (count_over_time({service_name="pay"} | json | __error__="" [1h]))';
    const cmp = await loki<Matrix>({ query: `${withHost} >= on (level) ${by(500)}`, step: '3600' });
    expect(cmp.status).toBe(200);
    expect(cmp.result.map((x) => x.metric)).toEqual([{ level: 'error' }]);
  });

  it('absent_over_time is 1 where nothing matched, with the selector\'s labels', async () => {
    const r = await loki<Matrix>({ query: 'absent_over_time({service_name="pay", level="fatal"}[10m])', step: '600' });
    expect(r.result).toEqual([{ metric: { service_name: 'pay', level: 'fatal' }, values: windows(step, 10 * MIN).map((w) => point(w.sec, 1)) }]);
    const none = await loki<Matrix>({ query: 'absent_over_time({service_name="pay"}[10m])', step: '600' });
    const empty = windows(step, 10 * MIN).filter((w) => w.inside.length === 0);
    expect(none.result.flatMap((x) => x.values)).toEqual(empty.map((w) => point(w.sec, 1)));
  });
});

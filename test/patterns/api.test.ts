// GET /api/v1/patterns over stored events, `pattern:<id>` through search,
// trends and export, and after a restart in another process; the CLI's
// table. Events are the OpenSSH loghub sample's Content lines, stamped over
// half an hour before a time taken from the clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, baseEnv, ingest, makeToken, ndjson, runCli, searchAll, spawnServer, startServer, tempDir, testEnv, type TestServer } from '../helpers/server.js';
import { dataset } from '../helpers/loghub.js';
import { testTimes } from '../helpers/times.js';
import { TailClient } from '../helpers/ws.js';

const at = testTimes();
const rows = dataset('OpenSSH').rows;
const SPAN_MS = 30 * 60_000;
const range = at.range(0, SPAN_MS);
// "Failed …" lines are errors, the rest info: a level mix to report.
const levelOf = (content: string): string => (content.startsWith('Failed') ? 'error' : 'info');

let s: TestServer;
let read: string;
let env: Record<string, string>;

interface PatternOut {
  id: string;
  template: string;
  query: string;
  count: number;
  levels: Record<string, number>;
  first_seen: string;
  last_seen: string;
  counts: number[];
  sample: { message: string; service: string } | null;
}
interface PatternsOut {
  step: string;
  buckets: string[];
  total: number;
  unmined: number;
  patterns: PatternOut[];
}

async function listPatterns(params: Record<string, string | number>, token = read, url = s.url): Promise<{ status: number; body: PatternsOut & { code?: string; message?: string } }> {
  const qs = new URLSearchParams(Object.entries({ ...range, limit: 1000, ...params }).map(([k, v]): [string, string] => [k, String(v)]));
  const res = await fetch(`${url}/api/v1/patterns?${qs}`, { headers: auth(token) });
  return { status: res.status, body: (await res.json()) as PatternsOut };
}

beforeAll(async () => {
  env = testEnv({ SLUICE_DATA_DIR: tempDir('sluice-patterns-'), SLUICE_ADMIN_TOKEN: `admin-${'x'.repeat(20)}` });
  s = await startServer({ SLUICE_DATA_DIR: env.SLUICE_DATA_DIR!, SLUICE_ADMIN_TOKEN: env.SLUICE_ADMIN_TOKEN! });
  const ing = await makeToken(s, 'ingest');
  read = await makeToken(s, 'read');
  const events = rows.map((r, i) => ({ time: at.iso(Math.floor((i * SPAN_MS) / rows.length)), service: 'sshd', level: levelOf(r.Content!), message: r.Content }));
  const res = await ingest(s.url, ing, ndjson(events));
  expect(res.status).toBe(200);
  // A second service with a shape of its own, to check the query scopes patterns.
  expect((await ingest(s.url, ing, ndjson([1, 2, 3].map((n) => ({ time: at.iso(n * 1000), service: 'cron', message: `job ${n} done in ${n * 7} ms` }))))).status).toBe(200);
});
afterAll(async () => s?.close());

describe('GET /api/v1/patterns', () => {
  it('lists the shapes of the range loudest first, each with counts, levels, sparkline and a sample', async () => {
    const { status, body } = await listPatterns({ q: 'service:sshd' });
    expect(status).toBe(200);
    expect(body.total).toBe(rows.length);
    expect(body.unmined).toBe(0);
    expect(body.patterns.reduce((n, p) => n + p.count, 0)).toBe(rows.length);
    const counts = body.patterns.map((p) => p.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    // The hand-labelled event E13 is "Invalid user <*> from <*>".
    const invalid = body.patterns.find((p) => p.template === 'Invalid user <*> from <*>')!;
    expect(invalid.count).toBe(rows.filter((r) => r.EventId === 'E13').length);
    expect(invalid.levels).toEqual({ info: invalid.count });
    expect(invalid.query).toBe(`pattern:${invalid.id}`);
    expect(invalid.id).toMatch(/^[0-9a-f]{16}$/);
    expect(invalid.counts).toHaveLength(body.buckets.length);
    expect(invalid.counts.reduce((a, b) => a + b, 0)).toBe(invalid.count);
    expect(invalid.counts.filter((c) => c > 0).length).toBeGreaterThan(1);
    expect(invalid.sample!.message).toMatch(/^Invalid user\s+\S+ from \S+$/);
    expect(Date.parse(invalid.first_seen)).toBeGreaterThanOrEqual(at.ms(0));
    expect(Date.parse(invalid.last_seen)).toBeLessThan(at.ms(SPAN_MS));
    expect(Date.parse(invalid.first_seen)).toBeLessThan(Date.parse(invalid.last_seen));
    const failed = body.patterns.find((p) => p.template === 'Failed password for invalid user <*> from <*> port <*> <*>')!;
    expect(failed.levels).toEqual({ error: rows.filter((r) => r.EventId === 'E10').length });
  });

  it('scopes patterns by the query and cuts the list at limit', async () => {
    const cron = await listPatterns({ q: 'service:cron' });
    expect(cron.body.patterns.map((p) => [p.template, p.count])).toEqual([['job <*> done in <*> ms', 3]]);
    const top = await listPatterns({ q: 'service:sshd', limit: 3 });
    expect(top.body.patterns).toHaveLength(3);
    expect(top.body.total).toBe(rows.length);
  });

  it('needs a read token and answers bad parameters with 400', async () => {
    expect((await fetch(`${s.url}/api/v1/patterns`)).status).toBe(401);
    const bad = await listPatterns({ limit: 0 });
    expect(bad.status).toBe(400);
    const syntax = await listPatterns({ q: 'service:(' });
    expect(syntax.status).toBe(400);
    expect(syntax.body.code).toBe('SLUICE_ERR_QUERY_SYNTAX');
  });
});

describe('pattern:<id> as a search term', () => {
  it('finds the events of a pattern through search, trends and export, alone and with other terms', async () => {
    const { body } = await listPatterns({ q: 'service:sshd' });
    const invalid = body.patterns.find((p) => p.template === 'Invalid user <*> from <*>')!;
    const events = await searchAll(s.url, read, { ...range, q: invalid.query });
    expect(events).toHaveLength(invalid.count);
    for (const e of events) expect(String(e.message)).toMatch(/^Invalid user\s+\S+ from \S+$/);
    const narrowed = await searchAll(s.url, read, { ...range, q: `${invalid.query} AND "from 5.188.10.180"` });
    expect(narrowed.length).toBe(rows.filter((r) => r.EventId === 'E13' && r.Content!.endsWith('from 5.188.10.180')).length);
    expect(narrowed.length).toBeGreaterThan(0);

    const trends = (await (await fetch(`${s.url}/api/v1/trends?${new URLSearchParams({ ...range, q: invalid.query, by: 'level' })}`, { headers: auth(read) })).json()) as { series: Array<{ key: string; total: number }> };
    expect(trends.series).toEqual([expect.objectContaining({ key: 'info', total: invalid.count })]);

    const exported = await (await fetch(`${s.url}/api/v1/export?${new URLSearchParams({ ...range, q: invalid.query })}`, { headers: auth(read) })).text();
    expect(exported.trim().split('\n')).toHaveLength(invalid.count);

    // Every pattern's own events, counted by search, add up to the range.
    let sum = 0;
    for (const p of body.patterns) sum += (await searchAll(s.url, read, { ...range, q: `service:sshd AND ${p.query}` })).length;
    expect(sum).toBe(rows.length);
  });

  it('filters the live tail', async () => {
    const { body } = await listPatterns({ q: 'service:cron' });
    const c = new TailClient(s.url, auth(read));
    await c.open();
    c.send({ type: 'subscribe', q: body.patterns[0]!.query });
    await c.sync();
    const ing = await makeToken(s, 'ingest');
    await ingest(s.url, ing, ndjson([
      { service: 'cron', message: 'job 9 done in 63 ms' }, { service: 'cron', message: 'job 9 failed' }, { service: 'web', message: 'job 10 done in 5 ms' },
    ]));
    await c.until(() => c.events.length >= 2, 'the two events of the pattern');
    await c.sync();
    expect(c.events.map((e) => e.message)).toEqual(['job 9 done in 63 ms', 'job 10 done in 5 ms']);
    c.close();
  });

  it('answers an unknown pattern id with 400 naming it', async () => {
    const res = await fetch(`${s.url}/api/v1/search?${new URLSearchParams({ q: 'pattern:0123456789abcdef' })}`, { headers: auth(read) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe('SLUICE_ERR_QUERY_SYNTAX');
    expect(body.message).toContain('unknown pattern "0123456789abcdef"');
  });
});

describe('pattern:<id> in an alert rule', () => {
  it('takes a listed pattern and refuses an unknown one', async () => {
    const { body } = await listPatterns({ q: 'service:sshd' });
    const rule = (query: string): Promise<Response> => fetch(`${s.url}/api/v1/alerts/rules`, {
      method: 'POST',
      headers: { ...auth(s.adminToken), 'content-type': 'application/json' },
      body: JSON.stringify({ name: `p-${query.slice(-6)}`, query, window: '5m', condition: { op: '>', threshold: 10 }, targets: [{ url: 'http://127.0.0.1:9/hook' }] }),
    });
    expect((await rule(body.patterns[0]!.query)).status).toBe(201);
    const bad = await rule('pattern:fedcba9876543210');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('unknown pattern');
  });
});

describe('after a restart, in another process', () => {
  it('finds a listed pattern\'s events by id, and the CLI prints the table', async () => {
    const { body } = await listPatterns({ q: 'service:cron' });
    const job = body.patterns[0]!;
    // The template was written to the store in the background; the
    // registry's write is done once the store holds it.
    for (let i = 0; i < 200; i++) {
      const rs = await s.store.query.query({ query: 'SELECT count() AS n FROM patterns WHERE id = {id:String}', query_params: { id: job.id }, format: 'JSONEachRow' });
      if (Number((await rs.json<{ n: string }>())[0]!.n) > 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await s.close();
    const child = await spawnServer({ ...env, PORT: '0' });
    try {
      const token = await (async () => {
        const r = await runCli(['token', 'create', '--scope', 'read', '--name', 'cli-read', '--json'], { ...env, SLUICE_URL: child.url, SLUICE_TOKEN: env.SLUICE_ADMIN_TOKEN! });
        expect(r.code).toBe(0);
        return (JSON.parse(r.stdout) as { token: string }).token;
      })();
      const events = await searchAll(child.url, token, { ...range, q: job.query });
      expect(events.map((e) => e.message).sort()).toEqual(['job 1 done in 7 ms', 'job 2 done in 14 ms', 'job 3 done in 21 ms']);
      const cli = await runCli(['patterns', '--since', range.from, '--until', range.to, 'service:cron'], { ...baseEnv(), SLUICE_URL: child.url, SLUICE_TOKEN: token });
      expect(cli.code).toBe(0);
      const lines = cli.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^COUNT\s+ID\s+LEVELS\s+PER \S+\s+TEMPLATE$/);
      expect(lines[1]).toMatch(new RegExp(`^3  ${job.id}  info:3\\s+\\S.*  job <\\*> done in <\\*> ms$`));
      expect(lines.at(-1)).toBe('3 events, 1 patterns shown');
    } finally {
      child.child.kill('SIGTERM');
      await child.exited;
    }
  });
});

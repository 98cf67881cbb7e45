// Context, trends, fields, export and saved searches over the real store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { testTimes } from '../helpers/times.js';

let s: TestServer;
let token: string;
let readToken: string;

const t = testTimes();
const BASE = t.base;
const at = (sec: number) => new Date(BASE + sec * 1000).toISOString();

async function get(path: string, t = readToken): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${s.url}${path}`, { headers: auth(t) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  s = await startServer();
  token = await makeToken(s, 'ingest');
  readToken = await makeToken(s, 'read');
  const rows = [];
  // 10 minutes: api logs every 10 s (an error each minute), worker every 30 s
  // on two hosts; nothing at all in minute 7.
  for (let sec = 0; sec < 600; sec += 10) {
    if (sec >= 420 && sec < 480) continue;
    rows.push({ time: at(sec), service: 'ctx-api', host: 'a', level: sec % 60 === 0 ? 'error' : 'info', msg: `api tick ${sec}`, status: sec % 60 === 0 ? 500 : 200 });
    if (sec % 30 === 0) rows.push({ time: at(sec), service: 'ctx-worker', host: sec % 60 === 0 ? 'w1' : 'w2', level: 'warn', msg: `worker tick ${sec}`, queue: 'mail' });
  }
  expect((await ingest(s.url, token, ndjson(rows))).status).toBe(200);
});
afterAll(async () => s.close());

const range = `from=${encodeURIComponent(at(0))}&to=${encodeURIComponent(at(599))}`;

describe('context', () => {
  it('returns the events around one, same service and host, in time order', async () => {
    const hit = await get(`/api/v1/search?${range}&q=${encodeURIComponent('"api tick 300"')}`);
    const [event] = hit.body.events as Array<{ id: string; message: string }>;
    expect(event!.message).toBe('api tick 300');
    const ctx = await get(`/api/v1/events/${event!.id}/context?before=3&after=2`);
    expect(ctx.status).toBe(200);
    const msgs = (k: string) => (ctx.body[k] as Array<{ message: string }>).map((e) => e.message);
    expect(msgs('before')).toEqual(['api tick 270', 'api tick 280', 'api tick 290']);
    expect((ctx.body.event as { message: string }).message).toBe('api tick 300');
    expect(msgs('after')).toEqual(['api tick 310', 'api tick 320']);
  });

  it('answers 404 for an unknown id', async () => {
    const res = await get('/api/v1/events/01a201c7-326d-7f3f-aac7-26117955c8da/context');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('SLUICE_ERR_EVENT_NOT_FOUND');
    expect((await get('/api/v1/events/not-an-id/context')).status).toBe(404);
  });
});

describe('trends', () => {
  it('counts per minute by level, zero-filled, from the rollup', async () => {
    const res = await get(`/api/v1/trends?${range}&step=1m&by=level&q=service:ctx-api`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ step: '1m', step_seconds: 60, source: 'rollup', from: t.rfc(0), to: t.rfc(600_000) });
    expect(res.body.buckets).toHaveLength(10);
    const series = Object.fromEntries((res.body.series as Array<{ key: string; counts: number[] }>).map((x) => [x.key, x.counts]));
    expect(series.info).toEqual([5, 5, 5, 5, 5, 5, 5, 0, 5, 5]);
    expect(series.error).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 1, 1]);
  });

  it('answers the same from raw events when the filter needs them', async () => {
    const viaRollup = await get(`/api/v1/trends?${range}&step=5m&by=level&q=service:ctx-api`);
    const viaRaw = await get(`/api/v1/trends?${range}&step=5m&by=level&q=${encodeURIComponent('service:ctx-api tick')}`);
    expect(viaRollup.body.source).toBe('rollup');
    expect(viaRaw.body.source).toBe('raw');
    expect(viaRaw.body.series).toEqual(viaRollup.body.series);
    expect(viaRaw.body.buckets).toEqual(viaRollup.body.buckets);
  });

  it('groups by service, host or any attribute', async () => {
    const bySvc = await get(`/api/v1/trends?${range}&step=10m&by=service&level=warn`);
    expect(bySvc.body.series).toEqual([
      { key: 'ctx-worker', total: 18, counts: [18] },
      { key: 'ctx-api', total: 9, counts: [9] },
    ]);
    const byStatus = await get(`/api/v1/trends?${range}&step=10m&by=status&q=service:ctx-api`);
    expect(byStatus.body.source).toBe('raw');
    expect(byStatus.body.series).toEqual([
      { key: '200', total: 45, counts: [45] },
      { key: '500', total: 9, counts: [9] },
    ]);
  });

  it('picks a step by itself and refuses too many buckets', async () => {
    const auto = await get(`/api/v1/trends?from=${t.iso(-86_400_000)}&to=${t.iso()}`);
    expect(auto.body.step).toBe('5m');
    const tooMany = await get(`/api/v1/trends?from=${t.iso(-325 * 86_400_000)}&to=${t.iso()}&step=1m`);
    expect(tooMany.status).toBe(400);
  });
});

describe('fields', () => {
  it('lists the fields seen with counts, and a field\'s top values', async () => {
    const res = await get(`/api/v1/fields?${range}&service=ctx-worker`);
    expect(res.body.sampled).toBe(18);
    expect(res.body.fields).toEqual(expect.arrayContaining([{ name: 'service', count: 18 }, { name: 'queue', count: 18 }]));
    expect(res.body.fields).not.toEqual(expect.arrayContaining([expect.objectContaining({ name: 'status' })]));
    const hosts = await get(`/api/v1/fields/host/values?${range}&service=ctx-worker`);
    expect(hosts.body).toEqual({ field: 'host', sampled: 18, values: [{ value: 'w1', count: 9 }, { value: 'w2', count: 9 }] });
    const status = await get(`/api/v1/fields/status/values?${range}&limit=1`);
    expect(status.body.values).toEqual([{ value: '200', count: 45 }]);
  });
});

describe('export', () => {
  it('streams every matching event as NDJSON, oldest first', async () => {
    const res = await fetch(`${s.url}/api/v1/export?${range}&q=service:ctx-api`, { headers: auth(readToken) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { message: string; time: string });
    expect(lines).toHaveLength(54);
    expect(lines[0]!.message).toBe('api tick 0');
    expect(lines.at(-1)!.message).toBe('api tick 590');
  });

  it('answers a bad query with 400 before streaming', async () => {
    const res = await fetch(`${s.url}/api/v1/export?q=${encodeURIComponent('(oops')}`, { headers: auth(readToken) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('SLUICE_ERR_QUERY_SYNTAX');
  });
});

describe('saved searches', () => {
  it('creates, lists, reads, updates and deletes', async () => {
    const post = await fetch(`${s.url}/api/v1/searches`, {
      method: 'POST',
      headers: { ...auth(readToken), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'api errors', q: 'service:ctx-api level:>=error', from: '1h' }),
    });
    expect(post.status).toBe(201);
    const created = (await post.json()) as { id: string };
    expect(created).toMatchObject({ name: 'api errors', q: 'service:ctx-api level:>=error', from: '1h', to: null, owner: expect.any(String) });
    const list = await get('/api/v1/searches');
    expect((list.body.searches as Array<{ id: string }>).map((x) => x.id)).toContain(created.id);
    const put = await fetch(`${s.url}/api/v1/searches/${created.id}`, {
      method: 'PUT',
      headers: { ...auth(readToken), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'api 5xx', q: 'service:ctx-api status:>=500' }),
    });
    expect(((await put.json()) as { name: string }).name).toBe('api 5xx');
    expect((await get(`/api/v1/searches/${created.id}`)).body).toMatchObject({ name: 'api 5xx', from: null });
    expect((await fetch(`${s.url}/api/v1/searches/${created.id}`, { method: 'DELETE', headers: auth(readToken) })).status).toBe(204);
    expect((await get(`/api/v1/searches/${created.id}`)).status).toBe(404);
  });

  it('refuses a query that does not parse', async () => {
    const res = await fetch(`${s.url}/api/v1/searches`, {
      method: 'POST',
      headers: { ...auth(readToken), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'broken', q: 'level:loud' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'SLUICE_ERR_QUERY_SYNTAX', position: 0 });
  });
});

describe('bad queries', () => {
  it('points at syntax errors, names the regex error, and never answers 500', async () => {
    const syntax = await get(`/api/v1/search?q=${encodeURIComponent('service:api (timeout')}`);
    expect(syntax.status).toBe(400);
    expect(syntax.body).toMatchObject({ code: 'SLUICE_ERR_QUERY_SYNTAX', position: 12 });
    const regex = await get(`/api/v1/search?q=${encodeURIComponent('/(unclosed/')}`);
    expect(regex.status).toBe(400);
    expect(regex.body.code).toBe('SLUICE_ERR_INVALID_REGEX');
  });

  it('sends injection attempts through every parameter as data', async () => {
    const nasty = ["'; DROP TABLE logs; --", "x') OR 1=1 --", '{from:String}', '\\', "`", '1 UNION SELECT * FROM system.tables'];
    for (const n of nasty) {
      const e = encodeURIComponent(n);
      for (const path of [
        `/api/v1/search?q=${e}`, `/api/v1/search?service=${e}`, `/api/v1/search?contains=${e}`,
        `/api/v1/search?q=${encodeURIComponent(`field:"${n}"`)}`, `/api/v1/trends?by=${e}`, `/api/v1/trends?q=${e}&by=status`,
        `/api/v1/fields?q=${e}`, `/api/v1/fields/${e}/values`, `/api/v1/export?contains=${e}`,
      ]) {
        const res = await fetch(`${s.url}${path}`, { headers: auth(readToken) });
        expect(res.status, path).toBeLessThan(500);
      }
    }
    const still = await get(`/api/v1/search?${range}&limit=1`);
    expect(still.status).toBe(200);
    expect((still.body.events as unknown[]).length).toBe(1);
  });

});

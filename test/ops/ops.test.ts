// Health, readiness, roles, and the temporary refusals: low disk (503) and
// the per-token rate limit (429).
import { afterEach, describe, expect, it } from 'vitest';
import { auth, ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

describe('operations', () => {
  it('reports ready when the store, schema and disk are fine', async () => {
    s = await startServer();
    expect(await (await fetch(`${s.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { store: 'ok', schema: 'ok', disk: 'ok', shutdown: 'ok' } });
  });

  // The disk monitor watches the embedded store's data directory only.
  it.skipIf(!!process.env.CLICKHOUSE_URL)('answers ingest with 503 + Retry-After and fails /readyz while free disk is below the minimum', async () => {
    s = await startServer({ SLUICE_MIN_FREE_DISK: String(2 ** 52) });
    const res = await ingest(s.url, s.adminToken, ndjson([{ msg: 'x' }]));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(res.body.code).toBe('SLUICE_ERR_DISK_FULL');
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { disk: string } }).checks.disk).toMatch(/SLUICE_MIN_FREE_DISK/);
  });

  it('answers 429 with Retry-After past the per-token rate limit, for that token only', async () => {
    s = await startServer({ SLUICE_TOKEN_RATE_LIMIT: '10' });
    const a = await makeToken(s, 'ingest');
    const b = await makeToken(s, 'ingest');
    const rows = ndjson(Array.from({ length: 50 }, () => ({ msg: 'burst' })));
    expect((await ingest(s.url, a, rows)).status).toBe(200);
    const limited = await ingest(s.url, a, rows);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('SLUICE_ERR_RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await ingest(s.url, b, rows)).status).toBe(200);
  });

  it('serves only the routes of its roles', async () => {
    s = await startServer({ SLUICE_ROLES: 'ingest' });
    expect((await ingest(s.url, s.adminToken, ndjson([{ msg: 'x' }]))).status).toBe(200);
    expect((await fetch(`${s.url}/api/v1/search`, { headers: auth(s.adminToken) })).status).toBe(404);
    await s.close();
    s = await startServer({ SLUICE_ROLES: 'api' });
    expect((await ingest(s.url, s.adminToken, ndjson([{ msg: 'x' }]))).status).toBe(404);
    expect((await fetch(`${s.url}/api/v1/search`, { headers: auth(s.adminToken) })).status).toBe(200);
  });
});

// Scoped tokens: the admin API, the CLI, and what each scope may do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';

let s: TestServer;

beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => s.close());

const api = (path: string, token: string | undefined, init: RequestInit = {}) =>
  fetch(`${s.url}${path}`, { ...init, headers: { ...(token ? auth(token) : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) } });

describe('token API', () => {
  it('creates a token shown once, lists it without its secret, and revokes it', async () => {
    const res = await api('/api/v1/tokens', s.adminToken, { method: 'POST', body: JSON.stringify({ name: 'heroku-app', scope: 'ingest' }) });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { name: string; scope: string; token: string };
    expect(created).toMatchObject({ name: 'heroku-app', scope: 'ingest', token: expect.stringMatching(/^sluice_ingest_/) });

    const list = (await (await api('/api/v1/tokens', s.adminToken)).json()) as { tokens: Array<Record<string, unknown>> };
    const entry = list.tokens.find((t) => t.name === 'heroku-app');
    expect(entry).toEqual({ name: 'heroku-app', scope: 'ingest', created_at: expect.any(String) });
    expect(JSON.stringify(list)).not.toContain(created.token);

    expect((await ingest(s.url, created.token, ndjson([{ msg: 'before revoke' }]))).status).toBe(200);
    expect((await api('/api/v1/tokens/heroku-app', s.adminToken, { method: 'DELETE' })).status).toBe(204);
    const after = await ingest(s.url, created.token, ndjson([{ msg: 'after revoke' }]));
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('SLUICE_ERR_INVALID_TOKEN');
  });

  it('lists sources with the events each token sent and when it last sent one', async () => {
    const created = (await (await api('/api/v1/tokens', s.adminToken, { method: 'POST', body: JSON.stringify({ name: 'src-a', scope: 'ingest' }) })).json()) as { token: string };
    await api('/api/v1/tokens', s.adminToken, { method: 'POST', body: JSON.stringify({ name: 'src-idle', scope: 'ingest' }) });
    const before = Date.now();
    expect((await ingest(s.url, created.token, ndjson([{ msg: 'one' }, { msg: 'two' }, { msg: 'three' }]))).status).toBe(200);
    const res = await api('/api/v1/sources', s.adminToken);
    expect(res.status).toBe(200);
    const { sources } = (await res.json()) as { sources: Array<{ name: string; events: number; last_event_at: string | null; scope: string }> };
    const a = sources.find((x) => x.name === 'src-a')!;
    expect(a).toMatchObject({ scope: 'ingest', events: 3 });
    expect(Date.parse(a.last_event_at!)).toBeGreaterThanOrEqual(before - 1000);
    expect(sources.find((x) => x.name === 'src-idle')).toMatchObject({ events: 0, last_event_at: null });
    expect(JSON.stringify(sources)).not.toContain(created.token);
    expect((await api('/api/v1/sources', await makeToken(s, 'read'))).status).toBe(403);
  });

  it('tells an admin where sources send to: the public URL and the syslog ports', async () => {
    const res = await api('/api/v1/setup', s.adminToken);
    expect(res.status).toBe(200);
    // This test server runs no syslog listener: no ports, not made-up ones.
    expect(await res.json()).toEqual({ public_url: s.config.publicUrl, syslog: {} });
    expect((await api('/api/v1/setup', await makeToken(s, 'read'))).status).toBe(403);
  });

  it('refuses a duplicate name, an unknown name and a bad body', async () => {
    await api('/api/v1/tokens', s.adminToken, { method: 'POST', body: JSON.stringify({ name: 'dup', scope: 'read' }) });
    const dup = await api('/api/v1/tokens', s.adminToken, { method: 'POST', body: JSON.stringify({ name: 'dup', scope: 'read' }) });
    expect(dup.status).toBe(409);
    expect(((await dup.json()) as { code: string }).code).toBe('SLUICE_ERR_TOKEN_EXISTS');
    const missing = await api('/api/v1/tokens/nobody', s.adminToken, { method: 'DELETE' });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('SLUICE_ERR_TOKEN_NOT_FOUND');
    const bad = await api('/api/v1/tokens', s.adminToken, { method: 'POST', body: JSON.stringify({ name: 'x y', scope: 'root' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('SLUICE_ERR_VALIDATION');
    const malformed = await fetch(`${s.url}/api/v1/tokens`, { method: 'POST', headers: { ...auth(s.adminToken), 'content-type': 'application/json' }, body: '{"name":' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { code: string }).code).toBe('SLUICE_ERR_MALFORMED_JSON');
  });

  it('revokes an admin token while another remains, but never the last one', async () => {
    const admins = async () => ((await (await api('/api/v1/tokens', s.adminToken)).json()) as { tokens: Array<{ name: string; scope: string }> }).tokens.filter((t) => t.scope === 'admin');
    const [own] = await admins();
    expect(await admins()).toHaveLength(1);
    await makeToken(s, 'admin', 'second-admin');
    expect((await api('/api/v1/tokens/second-admin', s.adminToken, { method: 'DELETE' })).status).toBe(204);

    const last = await api(`/api/v1/tokens/${own!.name}`, s.adminToken, { method: 'DELETE' });
    expect(last.status).toBe(409);
    expect(((await last.json()) as { code: string; message: string })).toMatchObject({ code: 'SLUICE_ERR_LAST_ADMIN_TOKEN', message: expect.stringContaining(own!.name) });
    // Still there, and still working.
    expect((await admins()).map((t) => t.name)).toEqual([own!.name]);
    expect((await api('/api/v1/tokens', s.adminToken)).status).toBe(200);
  });
});

describe('scopes', () => {
  it('needs a token on every API route, but not on health and metrics', async () => {
    for (const [method, path] of [['GET', '/api/v1/search'], ['POST', '/api/v1/ingest'], ['GET', '/api/v1/tokens']] as const) {
      const res = await fetch(`${s.url}${path}`, { method });
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(((await res.json()) as { code: string }).code).toBe('SLUICE_ERR_UNAUTHORIZED');
    }
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await fetch(`${s.url}${path}`)).status, path).toBe(200);
  });

  it('lets each scope do only its own work; admin does all', async () => {
    const ingestOnly = await makeToken(s, 'ingest');
    const readOnly = await makeToken(s, 'read');
    expect((await api('/api/v1/search', ingestOnly)).status).toBe(403);
    expect((await ingest(s.url, readOnly, ndjson([{ msg: 'x' }]))).status).toBe(403);
    const forbidden = await api('/api/v1/tokens', readOnly);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { code: string }).code).toBe('SLUICE_ERR_FORBIDDEN');
    expect((await api('/api/v1/search', readOnly)).status).toBe(200);
    expect((await ingest(s.url, s.adminToken, ndjson([{ msg: 'admin ingests' }]))).status).toBe(200);
    expect((await api('/api/v1/search', s.adminToken)).status).toBe(200);
  });

  it('takes the token as the Basic auth password, as drain URLs carry it', async () => {
    const t = await makeToken(s, 'ingest');
    const basic = `Basic ${Buffer.from(`app:${t}`).toString('base64')}`;
    const res = await fetch(`${s.url}/api/v1/ingest`, { method: 'POST', headers: { authorization: basic, 'content-type': 'text/plain' }, body: 'via basic' });
    expect(res.status).toBe(200);
    const wrong = `Basic ${Buffer.from('app:not-a-token').toString('base64')}`;
    expect((await fetch(`${s.url}/api/v1/search`, { headers: { authorization: wrong } })).status).toBe(401);
  });
});

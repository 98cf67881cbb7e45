// Threshold alerts end to end: real events, a real receiver on loopback,
// signed webhooks, retries, history. Deadlines are generous (a 1m window
// has to pass for a resolve); speed lives in bench/.
import { getEventListeners } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver } from '../../src/alerts/deliver.js';
import { parseAllow } from '../../src/alerts/notify/safe-http.js';
import type { Target } from '../../src/alerts/rule.js';
import { verify } from '../../src/alerts/notify/sign.js';
import { auth, ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { Receiver } from '../helpers/receiver.js';

let s: TestServer;
let receiver: Receiver;
let token: string;

beforeAll(async () => {
  receiver = await new Receiver().start();
  s = await startServer({ SLUICE_WEBHOOK_ALLOW: '127.0.0.1' });
  token = await makeToken(s, 'ingest');
});
afterAll(async () => {
  await s.close();
  await receiver.close();
});

async function api(method: string, path: string, body?: unknown, t = s.adminToken): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${s.url}${path}`, { method, headers: { ...auth(t), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : null });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('rules API', () => {
  it('validates rules and shows a target secret only when it is made', async () => {
    const bad = await api('POST', '/api/v1/alerts/rules', { name: 'x', query: 'level:>=error', window: '10s', condition: { op: '>', threshold: 1 }, targets: [{ url: receiver.url }] });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/window must be from 1m to 24h/);
    const badQuery = await api('POST', '/api/v1/alerts/rules', { name: 'x', query: 'level:>=loud', window: '1m', condition: { op: '>', threshold: 1 }, targets: [{ url: receiver.url }] });
    expect(badQuery.body).toMatchObject({ code: 'SLUICE_ERR_QUERY_SYNTAX', position: 0 });
    const badOp = await api('POST', '/api/v1/alerts/rules', { name: 'x', query: '', window: '1m', condition: { op: '!=', threshold: 1 }, targets: [{ url: receiver.url }] });
    expect(badOp.body.code).toBe('SLUICE_ERR_VALIDATION');
    const readOnly = await makeToken(s, 'read');
    expect((await api('POST', '/api/v1/alerts/rules', { name: 'x', query: '', window: '1m', condition: { op: '>', threshold: 1 }, targets: [{ url: receiver.url }] }, readOnly)).status).toBe(403);

    const made = await api('POST', '/api/v1/alerts/rules', { name: 'shape', query: 'service:nothing-here', window: '1m', condition: { op: '>', threshold: 1000 }, targets: [{ url: receiver.url }] });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ interval: '15s', for: '0s', repeat: '1h', group_by: [], targets: [{ url: receiver.url, format: 'sluice', secret: expect.any(String) }] });
    const listed = await api('GET', '/api/v1/alerts/rules', undefined, readOnly);
    const entry = (listed.body.rules as Array<Record<string, unknown>>).find((r) => r.id === made.body.id)!;
    expect(entry).toMatchObject({ name: 'shape', state: 'ok' });
    expect(JSON.stringify(listed.body)).not.toContain('secret');
    expect((await api('DELETE', `/api/v1/alerts/rules/${String(made.body.id)}`)).status).toBe(204);
    expect((await api('GET', `/api/v1/alerts/rules/${String(made.body.id)}`)).status).toBe(404);
  });
});

describe('a threshold rule', () => {
  it('fires a signed webhook with the lines that caused it, then resolves when they stop', async () => {
    const made = await api('POST', '/api/v1/alerts/rules', {
      name: 'api errors', query: 'service:alert-a level:>=error', window: '1m', condition: { op: '>', threshold: 2 },
      group_by: ['service'], interval: '5s', targets: [{ url: receiver.url, format: 'sluice' }],
    });
    const secret = (made.body.targets as Array<{ secret: string }>)[0]!.secret;
    await ingest(s.url, token, ndjson([1, 2, 3].map((i) => ({ msg: `payment failed ${i}`, level: 'error', service: 'alert-a' })).concat([{ msg: 'fine', level: 'info', service: 'alert-a' }])));
    const isRule = (status: string) => (r: { json: Record<string, unknown> }) => (r.json.rule as { id: string } | undefined)?.id === made.body.id && r.json.status === status;
    await receiver.until((rs) => rs.some(isRule('firing')), 'the firing notice');
    const firing = receiver.received.find(isRule('firing'))!;
    expect(verify(secret, String(firing.headers['x-sluice-timestamp']), firing.body, String(firing.headers['x-sluice-signature']))).toBe(true);
    expect(verify('wrong-secret-wrong-secret', String(firing.headers['x-sluice-timestamp']), firing.body, String(firing.headers['x-sluice-signature']))).toBe(false);
    expect(firing.json).toMatchObject({ status: 'firing', group: { service: 'alert-a' }, count: 3, threshold: 2, op: '>', window: '1m' });
    expect((firing.json.samples as Array<{ message: string }>).map((e) => e.message).sort()).toEqual(['payment failed 1', 'payment failed 2', 'payment failed 3']);
    expect(String(firing.json.search_url)).toContain('/api/v1/search?q=');

    const state = await api('GET', `/api/v1/alerts/rules/${String(made.body.id)}`);
    expect(state.body.groups).toMatchObject([{ group: { service: 'alert-a' }, state: 'firing', value: 3 }]);

    // The errors leave the 1m window: resolved, with the same episode.
    await receiver.until((rs) => rs.some(isRule('resolved')), 'the resolved notice', 120_000);
    const resolved = receiver.received.find(isRule('resolved'))!;
    expect(resolved.json.episode).toBe(firing.json.episode);
    expect(receiver.received.filter(isRule('firing'))).toHaveLength(1);
  }, 180_000);
});

describe('delivery', () => {
  it('retries a failing receiver and delivers once, with one notification id; every attempt is in the history', async () => {
    receiver.failures = [500, 503];
    const before = receiver.received.length;
    const made = await api('POST', '/api/v1/alerts/rules', {
      name: 'flaky receiver', query: 'service:alert-b', window: '1m', condition: { op: '>=', threshold: 1 }, interval: '5s', targets: [{ url: receiver.url, format: 'slack' }],
    });
    await ingest(s.url, token, ndjson([{ msg: 'one', service: 'alert-b' }]));
    await receiver.until((rs) => rs.slice(before).filter((r) => String(r.json.text).includes('flaky receiver')).length >= 3, 'three attempts');
    const attempts = receiver.received.slice(before).filter((r) => String(r.json.text).includes('flaky receiver'));
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((r) => r.headers['x-sluice-notification-id'])).size).toBe(1);
    expect(attempts[0]!.json).toMatchObject({ text: expect.stringContaining('[FIRING] flaky receiver'), blocks: expect.any(Array) });
    const history = await api('GET', `/api/v1/alerts/history?rule=${String(made.body.id)}`);
    const rows = (history.body.history as Array<{ attempt: number; status: number; delivered: number }>).sort((a, b) => a.attempt - b.attempt);
    expect(rows.map((r) => [r.attempt, r.status, Boolean(r.delivered)])).toEqual([[1, 500, false], [2, 503, false], [3, 200, true]]);
  });

  it('leaves no listener on the engine signal after retrying, however many notices fail', async () => {
    const stop = new AbortController();
    const log = { warn: () => undefined } as unknown as FastifyBaseLogger;
    const opts = { allow: parseAllow(['127.0.0.1']), timeoutMs: 5000, attempts: 3, baseDelayMs: 1, signal: stop.signal };
    receiver.failures = Array.from({ length: 12 * 3 }, () => 500);
    const before = receiver.received.length;
    const sent = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        deliver(s.store, log, { ruleId: `r${i}`, ruleName: `leak ${i}`, groupKey: '', kind: 'firing', notificationId: `n${i}`, target: { url: receiver.url, format: 'sluice', secret: 'k' } satisfies Target, payload: { i } }, opts),
      ),
    );
    expect(sent).toEqual(Array.from({ length: 12 }, () => false));
    expect(receiver.received.length - before).toBe(36);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });

  it('sends a test notice on request, in the Alertmanager shape', async () => {
    const made = await api('POST', '/api/v1/alerts/rules', {
      name: 'am test', query: '', window: '1m', condition: { op: '>', threshold: 1e9 }, targets: [{ url: receiver.url, format: 'alertmanager' }],
    });
    const res = await api('POST', `/api/v1/alerts/rules/${String(made.body.id)}/test`);
    expect(res.body).toEqual({ results: [{ target: receiver.url, delivered: true }] });
    const got = receiver.received.at(-1)!;
    expect(got.json).toMatchObject({ version: '4', status: 'firing', receiver: 'sluice', alerts: [{ labels: { alertname: 'am test' } }] });
  });

  it('refuses targets inside the network that the allow-list does not name', async () => {
    const made = await api('POST', '/api/v1/alerts/rules', {
      name: 'ssrf', query: '', window: '1m', condition: { op: '>', threshold: 1e9 },
      // The allow-list names 127.0.0.1 only; these all reach other inside addresses.
      targets: [
        { url: receiver.url.replace('127.0.0.1', '127.0.0.2') }, { url: 'http://2130706434/hook' }, { url: 'http://0177.0.0.2/hook' },
        { url: 'http://[::ffff:127.0.0.2]/hook' }, { url: 'http://[::1]/hook' }, { url: 'http://169.254.169.254/latest/meta-data' }, { url: 'http://10.1.2.3/hook' },
      ],
    });
    const res = await api('POST', `/api/v1/alerts/rules/${String(made.body.id)}/test`);
    expect((res.body.results as Array<{ delivered: boolean }>).map((r) => r.delivered)).toEqual([false, false, false, false, false, false, false]);
    const history = await api('GET', `/api/v1/alerts/history?rule=${String(made.body.id)}`);
    for (const h of history.body.history as Array<{ error: string }>) expect(h.error).toMatch(/SLUICE_WEBHOOK_ALLOW/);
  });
});

// Threshold alerts end to end: stored events, a real receiver on loopback,
// signed webhooks, retries, history. The engine runs on a ManualClock that
// the tests move and tick by hand (its own loop is not started), so windows
// pass without waiting and every evaluation happens when a test says.
// Events are stored as received at the clock's now, as ingest stamps them;
// test/e2e/alerts.test.ts sends them over HTTP to a server on real time.
import { getEventListeners } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver } from '../../src/alerts/deliver.js';
import type { AlertEngine } from '../../src/alerts/engine.js';
import { parseAllow } from '../../src/alerts/notify/safe-http.js';
import { ruleCreatedAt } from '../../src/alerts/records.js';
import type { Target } from '../../src/alerts/rule.js';
import { verify } from '../../src/alerts/notify/sign.js';
import type { ManualClock } from '../../src/model/clock.js';
import { type AlertRig, advanceEngine, startAlertRig, storeNow } from '../helpers/alerts.js';
import { auth, makeToken, type TestServer } from '../helpers/server.js';
import type { Receiver } from '../helpers/receiver.js';

let rig: AlertRig;
let s: TestServer;
let receiver: Receiver;
let engine: AlertEngine;
let clock: ManualClock;

beforeAll(async () => {
  // This file's engine is the one the routes reach, ticked by the tests.
  rig = await startAlertRig();
  ({ s, receiver, engine, clock } = rig);
});
afterAll(async () => rig?.close());

const receive = (rows: Parameters<typeof storeNow>[2]) => storeNow(s, clock, rows);

const advance = (ms: number) => advanceEngine(clock, engine, ms);

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
    const tooOften = await api('POST', '/api/v1/alerts/rules', { name: 'x', query: '', window: '1m', interval: '0s', condition: { op: '>', threshold: 1 }, targets: [{ url: receiver.url }] });
    expect(tooOften.body.message).toMatch(/interval must be at least 1s/);
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
    const createdAt = clock.nowMs();
    const made = await api('POST', '/api/v1/alerts/rules', {
      name: 'api errors', query: 'service:alert-a level:>=error', window: '1m', condition: { op: '>', threshold: 2 },
      group_by: ['service'], interval: '5s', targets: [{ url: receiver.url, format: 'sluice' }],
    });
    const id = String(made.body.id);
    expect(await ruleCreatedAt(s.store, id)).toBe(createdAt);
    const secret = (made.body.targets as Array<{ secret: string }>)[0]!.secret;
    const isRule = (status: string) => (r: { json: Record<string, unknown> }) => (r.json.rule as { id: string } | undefined)?.id === id && r.json.status === status;

    // Two errors: not above the threshold.
    await receive([1, 2].map((i) => ({ msg: `payment failed ${i}`, level: 'error', service: 'alert-a' })));
    await advance(1000);
    expect(receiver.received.filter(isRule('firing'))).toHaveLength(0);

    // A third, 10 s later (and an info line, which the query leaves out).
    clock.advance(10_000);
    await receive([{ msg: 'payment failed 3', level: 'error', service: 'alert-a' }, { msg: 'fine', level: 'info', service: 'alert-a' }]);
    const thirdAt = clock.nowMs();
    await advance(5000);
    const firedAt = clock.nowMs();
    const firings = receiver.received.filter(isRule('firing'));
    expect(firings).toHaveLength(1);
    const firing = firings[0]!;
    // Signed at the app's clock, which is what a receiver checks against.
    expect(firing.headers['x-sluice-timestamp']).toBe(String(Math.floor(firedAt / 1000)));
    expect(verify(secret, String(firing.headers['x-sluice-timestamp']), firing.body, String(firing.headers['x-sluice-signature']), firedAt)).toBe(true);
    expect(verify('wrong-secret-wrong-secret', String(firing.headers['x-sluice-timestamp']), firing.body, String(firing.headers['x-sluice-signature']), firedAt)).toBe(false);
    expect(firing.json).toMatchObject({ status: 'firing', group: { service: 'alert-a' }, count: 3, threshold: 2, op: '>', window: '1m', at: new Date(firedAt).toISOString() });
    expect((firing.json.samples as Array<{ message: string }>).map((e) => e.message).sort()).toEqual(['payment failed 1', 'payment failed 2', 'payment failed 3']);
    expect(String(firing.json.search_url)).toContain('/api/v1/search?q=');

    const state = await api('GET', `/api/v1/alerts/rules/${id}`);
    expect(state.body.groups).toMatchObject([{ group: { service: 'alert-a' }, state: 'firing', value: 3, since: new Date(firedAt).toISOString() }]);
    // The list says when the engine last ran the rule, how it went, and each group's state.
    const listed = ((await api('GET', '/api/v1/alerts/rules')).body.rules as Array<Record<string, unknown>>).find((r) => r.id === id)!;
    expect(listed).toMatchObject({
      state: 'firing', firing_groups: 1, last_evaluated_at: new Date(firedAt).toISOString(), last_error: null,
      groups: [{ group: { service: 'alert-a' }, state: 'firing', value: 3, since: new Date(firedAt).toISOString(), last_notified: new Date(firedAt).toISOString() }],
    });
    const history = (await api('GET', `/api/v1/alerts/history?rule=${id}`)).body.history as Array<{ kind: string; delivered: number; at: string }>;
    expect(history.map((h) => [h.kind, h.delivered, Date.parse(h.at)])).toEqual([['firing', 1, firedAt]]);

    // Still above the threshold while the first two are in the window: no second notice.
    await advance(30_000);
    expect(receiver.received.filter(isRule('firing'))).toHaveLength(1);
    expect(receiver.received.filter(isRule('resolved'))).toHaveLength(0);

    // The first two leave the 1m window; the third is still in it: one, not
    // above 2, resolved with the same episode.
    await advance(createdAt + 61_000 - clock.nowMs());
    expect(clock.nowMs() - thirdAt).toBeLessThan(60_000);
    const resolved = receiver.received.filter(isRule('resolved'));
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.json).toMatchObject({ episode: firing.json.episode, count: 1 });
    expect(receiver.received.filter(isRule('firing'))).toHaveLength(1);
  });
});

describe('rule status', () => {
  it('shows the last evaluation error until the rule is fixed', async () => {
    // A regex RE2 refuses: it parses, so the rule is saved, but the store
    // refuses to run it at every evaluation.
    const body = { name: 'bad regex', query: 'service:alert-status /(?<=a)b/', window: '1m', condition: { op: '>', threshold: 1e9 }, interval: '5s', targets: [{ url: receiver.url }] };
    const made = await api('POST', '/api/v1/alerts/rules', body);
    expect(made.status).toBe(201);
    // An event for the query to read (with none, the engine skips the regex).
    await receive([{ msg: 'ab', service: 'alert-status' }]);
    const id = String(made.body.id);
    await advance(5000);
    const failed = ((await api('GET', '/api/v1/alerts/rules')).body.rules as Array<Record<string, unknown>>).find((r) => r.id === id)!;
    expect(failed).toMatchObject({ last_evaluated_at: new Date(clock.nowMs()).toISOString(), state: 'ok', groups: [] });
    expect(String(failed.last_error)).toMatch(/regular expression is not valid RE2/);

    expect((await api('PUT', `/api/v1/alerts/rules/${id}`, { ...body, query: 'service:alert-status /a+b/' })).status).toBe(200);
    await advance(5000);
    const fine = await api('GET', `/api/v1/alerts/rules/${id}`);
    expect(fine.body).toMatchObject({ last_evaluated_at: new Date(clock.nowMs()).toISOString(), last_error: null });
    expect((await api('DELETE', `/api/v1/alerts/rules/${id}`)).status).toBe(204);
  });
});

describe('PagerDuty', () => {
  it('triggers and resolves one incident: the same dedup_key, the routing key kept across edits and never shown again', async () => {
    const KEY = 'R0UTINGKEY0123456789abcdefABCDEF';
    const body = { name: 'pd heartbeat', query: 'service:alert-pd', window: '1m', condition: { op: '<', threshold: 1 }, interval: '5s', severity: 'error' };
    expect((await api('POST', '/api/v1/alerts/rules', { ...body, targets: [{ url: receiver.url, format: 'pagerduty' }] })).body).toMatchObject({ code: 'SLUICE_ERR_VALIDATION', message: expect.stringMatching(/routing_key/) });
    const made = await api('POST', '/api/v1/alerts/rules', { ...body, targets: [{ url: receiver.url, format: 'pagerduty', routing_key: KEY }] });
    const id = String(made.body.id);
    // Edited without the key: it keeps the one it had.
    const edited = await api('PUT', `/api/v1/alerts/rules/${id}`, { ...body, name: 'pd heartbeat!', targets: [{ url: receiver.url, format: 'pagerduty' }] });
    expect(edited.status).toBe(200);
    expect(JSON.stringify(edited.body)).not.toContain(KEY);
    expect(JSON.stringify((await api('GET', '/api/v1/alerts/rules')).body)).not.toContain(KEY);
    const mine = () => receiver.received.filter((r) => r.json.routing_key === KEY);

    await advance(5000);
    expect(mine().map((r) => r.json.event_action)).toEqual(['trigger']);
    const trigger = mine()[0]!.json as { dedup_key: string; payload: Record<string, unknown> };
    expect(trigger.payload).toMatchObject({ severity: 'error', summary: 'pd heartbeat!: 0 events in 1m (< 1)', timestamp: new Date(clock.nowMs()).toISOString() });

    await receive([{ msg: 'alive', service: 'alert-pd' }]);
    await advance(5000);
    expect(mine().map((r) => r.json)).toEqual([trigger, { routing_key: KEY, event_action: 'resolve', dedup_key: trigger.dedup_key }]);
    await api('DELETE', `/api/v1/alerts/rules/${id}`);
  });
});

describe('snooze', () => {
  it('holds every notice back until it ends, still storing states; the firing notice comes when it ends', async () => {
    const body = { name: 'snoozed heartbeat', query: 'service:alert-snooze', window: '1m', condition: { op: '<', threshold: 1 }, interval: '5s', targets: [{ url: receiver.url }] };
    const made = await api('POST', '/api/v1/alerts/rules', body);
    const id = String(made.body.id);
    const snooze = (b: unknown) => api('POST', `/api/v1/alerts/rules/${id}/snooze`, b);
    for (const bad of [{}, { for: '1h', until: new Date(clock.nowMs() + 60_000).toISOString() }, { until: new Date(clock.nowMs() - 1000).toISOString() }, { for: '31d' }, { until: 'tomorrow' }]) {
      expect((await snooze(bad)).body.code, JSON.stringify(bad)).toBe('SLUICE_ERR_VALIDATION');
    }
    const readOnly = await makeToken(s, 'read');
    expect((await api('POST', `/api/v1/alerts/rules/${id}/snooze`, { for: '1h' }, readOnly)).status).toBe(403);
    const snoozedAt = clock.nowMs();
    const until = snoozedAt + 10 * 60_000;
    expect((await snooze({ for: '10m' })).body).toMatchObject({ snoozed: true, snoozed_until: new Date(until).toISOString() });
    // An edit keeps the snooze.
    expect((await api('PUT', `/api/v1/alerts/rules/${id}`, { ...body, name: 'snoozed heartbeat 2' })).body).toMatchObject({ snoozed_until: new Date(until).toISOString() });
    const mine = () => receiver.received.filter((r) => (r.json.rule as { id?: string } | undefined)?.id === id);
    const rule = async () => ((await api('GET', '/api/v1/alerts/rules', undefined, readOnly)).body.rules as Array<Record<string, unknown>>).find((r) => r.id === id)!;

    // Fires while snoozed: stored, not sent.
    await advance(5000);
    expect(await rule()).toMatchObject({ state: 'firing', snoozed: true, snoozed_until: new Date(until).toISOString(), groups: [{ state: 'firing', last_notified: null }] });
    // Resolves while snoozed: stored, not sent.
    await receive([{ msg: 'alive', service: 'alert-snooze' }]);
    await advance(5000);
    expect(await rule()).toMatchObject({ state: 'ok', groups: [{ state: 'resolved' }] });
    // Fires again once the event leaves the window, still snoozed.
    await advance(60_000);
    expect(await rule()).toMatchObject({ state: 'firing', snoozed: true });
    expect(mine()).toEqual([]);
    expect((await api('GET', `/api/v1/alerts/history?rule=${id}`)).body.history).toEqual([]);

    // The snooze ends: the episode's firing notice goes out at the next evaluation.
    await advance(until - clock.nowMs() + 1);
    expect(mine().map((r) => r.json.status)).toEqual(['firing']);
    expect(await rule()).toMatchObject({ state: 'firing', snoozed: false });

    // A snooze can be lifted early.
    await snooze({ for: '1h' });
    const lifted = await api('DELETE', `/api/v1/alerts/rules/${id}/snooze`);
    expect(lifted.body).toMatchObject({ snoozed: false, snoozed_until: null });
    await receive([{ msg: 'alive again', service: 'alert-snooze' }]);
    await advance(5000);
    expect(mine().map((r) => r.json.status)).toEqual(['firing', 'resolved']);
    await api('DELETE', `/api/v1/alerts/rules/${id}`);
  });
});

describe('delivery', () => {
  it('retries a failing receiver and delivers once, with one notification id; every attempt is in the history', async () => {
    receiver.failures = [500, 503];
    const before = receiver.received.length;
    const made = await api('POST', '/api/v1/alerts/rules', {
      name: 'flaky receiver', query: 'service:alert-b', window: '1m', condition: { op: '>=', threshold: 1 }, interval: '5s', targets: [{ url: receiver.url, format: 'slack' }],
    });
    await receive([{ msg: 'one', service: 'alert-b' }]);
    await advance(5000);
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
    const opts = { allow: parseAllow(['127.0.0.1']), timeoutMs: 5000, attempts: 3, baseDelayMs: 1, signal: stop.signal, clock };
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

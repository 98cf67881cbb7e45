// Sluice → a real Alertmanager (Debian's prometheus-alertmanager) → its own
// webhook to a receiver in this test. The engine runs on a ManualClock the
// test moves and ticks by hand; Alertmanager runs on its own clock (the
// real time, even under `faketime`), so the test's clock starts 90 s behind
// Alertmanager's: a firing alert's endsAt (four resends ahead) is in
// Alertmanager's future, and a resolve's endsAt (the clock's now) in its
// past, as they would be on one host.
import type { FastifyBaseLogger } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertEngine } from '../../src/alerts/engine.js';
import { ManualClock } from '../../src/model/clock.js';
import { type Child, freePort, serverNow, startAlertmanager, until } from '../helpers/prometheus.js';
import { Receiver } from '../helpers/receiver.js';
import { advanceEngine, storeNow } from '../helpers/alerts.js';
import { auth, startServer, type TestServer } from '../helpers/server.js';
import { UNDER_FAKETIME } from '../helpers/times.js';

const RESEND_MS = 30_000;
let s: TestServer;
let engine: AlertEngine;
let am: Child;
let amPort: number;
/** Alertmanager's webhook lands here. */
let amHook: Receiver;
let clock: ManualClock;
const quiet = { warn() {}, error() {}, info() {}, debug() {} } as unknown as FastifyBaseLogger;

beforeAll(async () => {
  amHook = await new Receiver().start();
  amPort = await freePort();
  am = await startAlertmanager(amHook.url, { port: amPort });
  // Under faketime the chain below is skipped and the rest stores events
  // the engine must keep: its TTL runs on the moved clock, so Node's.
  clock = new ManualClock((UNDER_FAKETIME ? Date.now() : await serverNow(`${am.url}/-/healthy`)) - 90_000);
  s = await startServer(
    { SLUICE_WEBHOOK_ALLOW: '127.0.0.1', SLUICE_ROLES: 'api,ingest', SLUICE_ALERTMANAGER_URL: am.url, SLUICE_ALERTMANAGER_RESEND_MS: String(RESEND_MS), SLUICE_PUBLIC_URL: 'http://sluice.test' },
    { clock },
  );
  engine = new AlertEngine(s.ctx, quiet, { baseDelayMs: 5, attempts: 2 });
  s.ctx.alerts = engine;
  await engine.load();
}, 60_000);
afterAll(async () => {
  await engine?.stop();
  await s?.close();
  await am?.stop();
  await amHook?.close();
});

const receive = (rows: Parameters<typeof storeNow>[2]) => storeNow(s, clock, rows);

const advance = (ms: number) => advanceEngine(clock, engine, ms);

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${s.url}${path}`, { method, headers: { ...auth(s.adminToken), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : null });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  status: { state: string; silencedBy: string[] };
}

/** Alertmanager's active alerts named `name` (its API lists no resolved ones). */
async function amAlerts(name: string): Promise<AmAlert[]> {
  const res = await fetch(`${am.url}/api/v2/alerts?${new URLSearchParams({ filter: `alertname="${name}"` })}`);
  if (!res.ok) throw new Error(`alertmanager answered ${res.status}`);
  return (await res.json()) as AmAlert[];
}

type History = Array<{ kind: string; delivered: number; status: number; target: string; error: string; at: string }>;
const history = async (id: string) => (await api('GET', `/api/v1/alerts/history?rule=${id}`)).body.history as History;
const hooked = (name: string, status: string) => amHook.received.filter((r) => r.json.status === status && (r.json.groupLabels as Record<string, string>).alertname === name);

async function makeRule(name: string, service: string, extra: Record<string, unknown> = {}): Promise<string> {
  const made = await api('POST', '/api/v1/alerts/rules', {
    name, query: `service:${service} level:>=error`, window: '1m', condition: { op: '>', threshold: 2 }, group_by: ['service'], interval: '5s',
    labels: { team: 'payments' }, severity: 'critical', alertmanager: {}, ...extra,
  });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  return String(made.body.id);
}

// Alertmanager is a Go program: libfaketime cannot move its clock. Under
// `faketime` it and Sluice disagree by the offset (alerts would start 40
// days in its future), and the engine's TTL, which libfaketime does move,
// drops events stamped on Alertmanager's time. No deployment runs with a
// 40-day skew, so the date check leaves this chain out; the rest of the
// file runs.
describe.skipIf(UNDER_FAKETIME)('Alertmanager as a destination', () => {
  it('pushes a firing alert with its labels, re-sends it while firing, and resolves it by endsAt', async () => {
    const name = 'sluice am errors';
    const id = await makeRule(name, 'am-a');
    await receive([1, 2, 3].map((i) => ({ msg: `payment failed ${i}`, level: 'error', service: 'am-a' })));
    await advance(5000);
    const firedAt = clock.nowMs();

    const [alert] = await until('the alert in Alertmanager', async () => ((await amAlerts(name)).length > 0 ? amAlerts(name) : undefined));
    expect(alert!.labels).toEqual({ alertname: name, service: 'am-a', team: 'payments', severity: 'critical', sluice_rule_id: id });
    expect(alert!.status.state).toBe('active');
    // Go prints times its own way (no trailing zeros): compare instants.
    expect(Date.parse(alert!.startsAt)).toBe(firedAt);
    expect(Date.parse(alert!.endsAt)).toBe(firedAt + 4 * RESEND_MS);
    expect(alert!.annotations.summary).toBe(`${name}: 3 events in 1m (> 2)`);
    expect(alert!.annotations.query).toBe('service:am-a level:>=error');
    expect(String(alert!.annotations.description).split('\n').map((l) => l.replace(/^.* error am-a: /, '')).sort()).toEqual(['payment failed 1', 'payment failed 2', 'payment failed 3']);
    expect(alert!.generatorURL).toMatch(/^http:\/\/sluice\.test\/api\/v1\/search\?q=/);

    // Alertmanager routes it on to its receiver.
    await amHook.until(() => hooked(name, 'firing').length > 0, 'Alertmanager’s firing webhook', 30_000);
    const notice = hooked(name, 'firing')[0]!.json as { alerts: Array<{ labels: Record<string, string>; status: string }> };
    expect(notice.alerts.map((a) => [a.status, a.labels.service, a.labels.severity])).toEqual([['firing', 'am-a', 'critical']]);
    expect((await history(id)).map((h) => [h.kind, h.status, h.delivered, h.target])).toEqual([['firing', 200, 1, `${am.url}/api/v2/alerts`]]);

    // Not again before the resend interval; again at it, with endsAt moved on.
    await advance(5000);
    expect(await history(id)).toHaveLength(1);
    await advance(RESEND_MS - 5000);
    const resentAt = clock.nowMs();
    expect((await history(id)).map((h) => [h.kind, h.delivered])).toEqual([['resend', 1], ['firing', 1]]);
    await until('the new endsAt', async () => (Date.parse((await amAlerts(name))[0]?.endsAt ?? '') === resentAt + 4 * RESEND_MS ? true : undefined));

    // The errors leave the window: resolved, endsAt the resolve.
    await advance(firedAt + 61_000 - clock.nowMs());
    const resolvedAt = clock.nowMs();
    expect((await history(id))[0]).toMatchObject({ kind: 'resolved', delivered: 1, status: 200 });
    await until('the alert to leave Alertmanager’s active list', async () => ((await amAlerts(name)).length === 0 ? true : undefined));
    await amHook.until(() => hooked(name, 'resolved').length > 0, 'Alertmanager’s resolved webhook', 30_000);
    const resolved = hooked(name, 'resolved')[0]!.json as { alerts: Array<{ status: string; endsAt: string; labels: Record<string, string> }> };
    expect(resolved.alerts.map((a) => [a.status, a.labels.service, Date.parse(a.endsAt)])).toEqual([['resolved', 'am-a', resolvedAt]]);
    await api('DELETE', `/api/v1/alerts/rules/${id}`);
  }, 90_000);

  it('keeps pushing while Alertmanager is down; the alert arrives once it is back', async () => {
    const name = 'sluice am down';
    await am.stop();
    const id = await makeRule(name, 'am-b');
    await receive([1, 2, 3].map((i) => ({ msg: `down ${i}`, level: 'error', service: 'am-b' })));
    await advance(5000);
    const failed = await history(id);
    // Each push is tried `attempts` times (2 here), every attempt recorded.
    expect(failed.map((h) => [h.kind, h.delivered, h.status])).toEqual([['firing', 0, 0], ['firing', 0, 0]]);
    expect(failed[0]!.error).toMatch(/ECONNREFUSED/);

    am = await startAlertmanager(amHook.url, { port: amPort });
    expect(await amAlerts(name)).toEqual([]);
    await advance(RESEND_MS);
    expect((await history(id))[0]).toMatchObject({ kind: 'resend', delivered: 1, status: 200 });
    const [alert] = await until('the alert in the restarted Alertmanager', async () => ((await amAlerts(name)).length > 0 ? amAlerts(name) : undefined));
    expect(alert!.labels).toMatchObject({ alertname: name, service: 'am-b' });
    await amHook.until(() => hooked(name, 'firing').length > 0, 'Alertmanager’s firing webhook', 30_000);
    await api('DELETE', `/api/v1/alerts/rules/${id}`);
  }, 90_000);

  it('a silence in Alertmanager mutes the alert: suppressed there, and no webhook for it', async () => {
    const muted = 'sluice am muted';
    const loud = 'sluice am loud';
    const now = new Date(await serverNow(`${am.url}/-/healthy`));
    const silence = await fetch(`${am.url}/api/v2/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        matchers: [{ name: 'alertname', value: muted, isRegex: false, isEqual: true }],
        startsAt: now.toISOString(), endsAt: new Date(now.getTime() + 3_600_000).toISOString(), createdBy: 'test', comment: 'maintenance',
      }),
    });
    expect(silence.status).toBe(200);
    const { silenceID } = (await silence.json()) as { silenceID: string };

    const mutedId = await makeRule(muted, 'am-c');
    const loudId = await makeRule(loud, 'am-d');
    await receive([1, 2, 3].flatMap((i) => [{ msg: `c ${i}`, level: 'error' as const, service: 'am-c' }, { msg: `d ${i}`, level: 'error' as const, service: 'am-d' }]));
    await advance(5000);
    const [alert] = await until('the muted alert in Alertmanager', async () => ((await amAlerts(muted)).length > 0 ? amAlerts(muted) : undefined));
    expect(alert!.status).toMatchObject({ state: 'suppressed', silencedBy: [silenceID] });
    // Sluice delivered it; Alertmanager kept it from the receiver. The loud
    // one, pushed in the same tick and routed alike, shows the route works.
    expect((await history(mutedId))[0]).toMatchObject({ kind: 'firing', delivered: 1 });
    await amHook.until(() => hooked(loud, 'firing').length > 0, 'the unsilenced alert’s webhook', 30_000);
    expect(hooked(muted, 'firing')).toEqual([]);
    for (const id of [mutedId, loudId]) await api('DELETE', `/api/v1/alerts/rules/${id}`);
  }, 90_000);
});

describe('rules with an Alertmanager', () => {
  it('need a URL from the rule or SLUICE_ALERTMANAGER_URL, labels Alertmanager accepts, and a target or an Alertmanager', async () => {
    const base = { name: 'x', query: '', window: '1m', condition: { op: '>', threshold: 1 } };
    expect((await api('POST', '/api/v1/alerts/rules', base)).body).toMatchObject({ code: 'SLUICE_ERR_VALIDATION', message: expect.stringMatching(/targets, an alertmanager, or both/) });
    expect((await api('POST', '/api/v1/alerts/rules', { ...base, alertmanager: {}, labels: { 'bad-name': 'x' } })).body.code).toBe('SLUICE_ERR_VALIDATION');
    expect((await api('POST', '/api/v1/alerts/rules', { ...base, alertmanager: { url: 'ftp://x' } })).body.code).toBe('SLUICE_ERR_VALIDATION');
    const made = await api('POST', '/api/v1/alerts/rules', { ...base, alertmanager: { url: 'http://am.example:9093' } });
    expect(made.body).toMatchObject({ alertmanager: { url: 'http://am.example:9093' }, severity: 'warning', labels: {}, targets: [] });
    await api('DELETE', `/api/v1/alerts/rules/${String(made.body.id)}`);
  });

  it('are held to the webhook SSRF rules: an inside address the allow-list does not name is refused', async () => {
    const made = await api('POST', '/api/v1/alerts/rules', {
      name: 'am ssrf', query: 'service:am-ssrf', window: '1m', condition: { op: '<', threshold: 1 }, interval: '5s', alertmanager: { url: 'http://169.254.169.254:9093' },
    });
    await advance(5000);
    const [attempt] = await history(String(made.body.id));
    expect(attempt).toMatchObject({ kind: 'firing', delivered: 0, target: 'http://169.254.169.254:9093/api/v2/alerts', error: expect.stringMatching(/SLUICE_WEBHOOK_ALLOW/) });
    await api('DELETE', `/api/v1/alerts/rules/${String(made.body.id)}`);
  });
});

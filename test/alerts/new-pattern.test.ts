// The new_pattern rule kind end to end: stored events, a real receiver on
// loopback, the engine ticked on a ManualClock (as test/alerts/alerts.test.ts
// does). A pattern seen before the window is not new; a new one fires once
// it reaches the threshold, with its template and samples, and resolves once
// it is no longer new.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEngine } from '../../src/alerts/engine.js';
import type { ManualClock } from '../../src/model/clock.js';
import { type AlertRig, advanceEngine, startAlertRig, storeNow } from '../helpers/alerts.js';
import type { Receiver } from '../helpers/receiver.js';
import { auth, type TestServer } from '../helpers/server.js';

let rig: AlertRig;
let s: TestServer;
let receiver: Receiver;
let engine: AlertEngine;
let clock: ManualClock;
const MIN = 60_000;

beforeAll(async () => {
  rig = await startAlertRig();
  ({ s, receiver, engine, clock } = rig);
});
afterAll(async () => rig?.close());

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${s.url}${path}`, { method, headers: { ...auth(s.adminToken), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : null });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const rule = (extra: Record<string, unknown>): Record<string, unknown> => ({
  name: 'new errors', kind: 'new_pattern', query: 'service:np level:>=error', window: '10m', lookback: '1h',
  condition: { op: '>=', threshold: 5 }, interval: '5s', targets: [{ url: receiver.url }], ...extra,
});

describe('a new_pattern rule', () => {
  it('refuses what it cannot mean', async () => {
    expect((await api('POST', '/api/v1/alerts/rules', rule({ group_by: ['service'] }))).body.message).toMatch(/groups by pattern/);
    expect((await api('POST', '/api/v1/alerts/rules', rule({ condition: { op: '<', threshold: 5 } }))).body.message).toMatch(/condition is > or >=/);
    expect((await api('POST', '/api/v1/alerts/rules', rule({ lookback: '5m' }))).body.message).toMatch(/lookback must be from the window to 7d/);
    const threshold = await api('POST', '/api/v1/alerts/rules', { ...rule({}), kind: undefined, lookback: '1h' });
    expect(threshold.status).toBe(400);
    expect(threshold.body.message).toMatch(/lookback is for new_pattern rules/);
  });

  it('fires once when a new error shape reaches the threshold, with its template and samples, and resolves when it is no longer new', async () => {
    const old = (n: number) => Array.from({ length: n }, (_, i) => ({ service: 'np', level: 'error' as const, msg: `disk full on /dev/sda${i}` }));
    const fresh = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ service: 'np', level: 'error' as const, msg: `payment gateway timeout after ${(from + i) * 100} ms` }));
    // A shape seen 20 minutes before: known, not new.
    await storeNow(s, clock, old(10));
    clock.advance(20 * MIN);
    const made = await api('POST', '/api/v1/alerts/rules', rule({}));
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ kind: 'new_pattern', lookback: '1h' });
    const id = String(made.body.id);
    const of = (status: string) => receiver.received.filter((r) => (r.json.rule as { id: string } | undefined)?.id === id && r.json.status === status);

    await storeNow(s, clock, [...old(8), ...fresh(1, 3)]);
    await advanceEngine(clock, engine, 5000);
    expect(of('firing')).toHaveLength(0);

    await storeNow(s, clock, fresh(4, 2));
    await advanceEngine(clock, engine, 5000);
    const firing = of('firing');
    expect(firing).toHaveLength(1);
    expect(firing[0]!.json).toMatchObject({ status: 'firing', count: 5, group: { template: 'payment gateway timeout after <*> ms', pattern: expect.stringMatching(/^[0-9a-f]{16}$/) } });
    const samples = (firing[0]!.json.samples as Array<{ message: string }>).map((e) => e.message);
    expect(samples).toHaveLength(5);
    for (const m of samples) expect(m).toMatch(/^payment gateway timeout after \d+ ms$/);
    // The link searches the pattern's events by id, which any process can resolve.
    const link = new URL(String(firing[0]!.json.search_url));
    const pattern = (firing[0]!.json.group as { pattern: string }).pattern;
    expect(link.searchParams.get('q')).toBe(`(service:np level:>=error) pattern:"${pattern}"`);
    const found = await fetch(`${s.url}/api/v1/search?${link.searchParams}`, { headers: auth(s.adminToken) });
    expect(((await found.json()) as { events: unknown[] }).events).toHaveLength(5);

    // More of it while it is new: no second notice.
    await storeNow(s, clock, fresh(6, 3));
    await advanceEngine(clock, engine, 60_000);
    expect(of('firing')).toHaveLength(1);

    // Once its first events are before the window it is no longer new: resolved, once.
    await advanceEngine(clock, engine, 10 * MIN);
    expect(of('resolved')).toHaveLength(1);
    expect(of('resolved')[0]!.json).toMatchObject({ episode: firing[0]!.json.episode });
    await advanceEngine(clock, engine, 5000);
    expect(of('firing')).toHaveLength(1);
    expect(of('resolved')).toHaveLength(1);
  });
});

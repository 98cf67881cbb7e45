// Alert counts by received time: the received-minute rollup plus raw edges
// must equal counting raw events alone, for every window position.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuleCounter } from '../../src/alerts/counting.js';
import type { RuleSpec } from '../../src/alerts/rule.js';
import type { LogEvent } from '../../src/model/event.js';
import { uuidv7 } from '../../src/model/id.js';
import { eventRows } from '../../src/store/rows.js';
import { fineRollup } from '../helpers/rollup.js';
import { startServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
// A whole hour two hours before the clock: the 26 minutes of windows the
// tests look at are all in the past, and the grid lines up with minutes.
let BASE = 0;

beforeAll(async () => {
  s = await startServer({ SLUICE_ROLES: 'api,ingest' });
  BASE = Math.floor(s.ctx.clock.nowMs() / 3_600_000) * 3_600_000 - 2 * 3_600_000;
  // 20 minutes of events received every 7 s, in several inserts, some with
  // event times far in the past (received time is what counts).
  const levels = ['info', 'warn', 'error'] as const;
  for (let part = 0; part < 4; part++) {
    const events: LogEvent[] = [];
    for (let i = part; i < 20 * 60 / 7; i += 4) {
      const received = BigInt(BASE + i * 7000) * 1_000_000n + 123n;
      const time = i % 5 === 0 ? received - 3_600_000_000_000n : received;
      const level = levels[i % 3]!;
      events.push({ id: uuidv7(Number(time / 1_000_000n)), timeNs: time, receivedNs: received, service: i % 2 ? 'a' : 'b', host: 'h', level, severity: { info: 9, warn: 13, error: 17 }[level], message: `m ${i} ${i % 4 === 0 ? 'boom' : 'fine'}`, attributes: i % 3 === 0 ? { grp: `g${i % 2}` } : {}, traceId: '', spanId: '' });
    }
    await s.store.insertEvents(eventRows(events, 'test', 'w'));
  }
  // The rollup job counts the first 9 min 17 s: windows end before, across
  // and after its watermark.
  const rollup = await fineRollup(s, BigInt(BASE) * 1_000_000n);
  await rollup.run(BigInt(BASE + 9 * 60_000 + 17_000) * 1_000_000n);
});
afterAll(async () => s.close());

const rule = (query: string, group_by: string[], window: string): RuleSpec => ({
  id: '00000000-0000-0000-0000-000000000000', name: 't', query, window, condition: { op: '>', threshold: 0 }, group_by,
  interval: '15s', for: '0s', repeat: '1h', targets: [],
});

describe('alert counts', () => {
  it.each([
    ['', [], '5m'],
    ['level:>=warn', ['service'], '5m'],
    ['service:a', ['level'], '3m'],
    ['-level:info', ['service', 'level'], '10m'],
  ])('rollup + edges equal raw for %s by %j over %s', async (query, groupBy, window) => {
    const engine = new RuleCounter(s.ctx);
    const r = rule(query, groupBy, window);
    for (const offset of [0, 1, 29_999, 30_000, 59_999, 61_234, 300_000, 456_789]) {
      const now = BASE + 6 * 60_000 + offset;
      const viaRollup = await engine.counts(r, now, true);
      const viaRaw = await engine.counts(r, now, false);
      expect([...viaRollup].sort(), `${query} at +${offset}`).toEqual([...viaRaw].sort());
      expect([...viaRaw.values()].reduce((a, g) => a + g.count, 0)).toBeGreaterThan(0);
    }
    // The rollup holds what the job counted, or the equality says little.
    const rs = await s.store.query.query({ query: 'SELECT sum(count) AS n FROM logs_received_per_minute SETTINGS output_format_json_quote_64bit_integers = 0', format: 'JSONEachRow' });
    expect(Number((await rs.json<{ n: number }>())[0]!.n)).toBe(Math.ceil((9 * 60 + 17) / 7));
  });
});

describe('batched alert counts', () => {
  it('one scan for many rules gives each rule what its own raw count gives', async () => {
    const engine = new RuleCounter(s.ctx);
    const rules: RuleSpec[] = [
      rule('', [], '5m'),
      rule('boom', [], '1m'),
      rule('/m [0-9]+1 /', [], '10m'),
      rule('level:>=warn', ['service'], '5m'),
      rule('grp:*', ['grp', 'level'], '15m'),
      rule('service:nobody', [], '2m'),
      { ...rule('service:b', ['service', 'host'], '3m'), condition: { op: '<' as const, threshold: 1 } },
      { ...rule('boom', ['grp'], '5m'), condition: { op: '<=' as const, threshold: 0 } },
    ].map((r, i) => ({ ...r, id: `00000000-0000-0000-0000-00000000000${i}` }));
    for (const offset of [0, 30_000, 61_234, 456_789, 20 * 60_000]) {
      const now = BASE + 6 * 60_000 + offset;
      const batched = await engine.batchCounts(rules, now);
      for (const r of rules) {
        const alone = await engine.counts(r, now, false);
        expect([...batched.get(r.id)!].sort(), `${r.query} by ${r.group_by} over ${r.window} at +${offset}`).toEqual([...alone].sort());
      }
    }
    // The mix counted something, or the equality above says little.
    const grouped = await engine.batchCounts(rules, BASE + 10 * 60_000);
    expect([...grouped.get(rules[4]!.id)!.keys()].length).toBeGreaterThan(1);
    expect([...grouped.get(rules[1]!.id)!.values()][0]!.count).toBeGreaterThan(0);
  });
});

describe('sliding alert counts', () => {
  it('ticks on the grid that keep counts between them give what a scan of the whole window gives, with events arriving between ticks', async () => {
    const engine = new RuleCounter(s.ctx);
    const rules: RuleSpec[] = [
      rule('', [], '1m'),
      rule('boom', [], '10s'),
      rule('level:>=warn', ['service'], '2m'),
      rule('/late [0-9]+7/', ['grp'], '30s'),
      rule('', ['service'], '7s'),
    ].map((r, i) => ({ ...r, id: `00000000-0000-0000-0000-0000000001${i}0` }));
    // Live events, well after the other tests' windows and the rollup's watermark.
    const T0 = BASE + 40 * 60_000;
    const levels = ['info', 'warn', 'error'] as const;
    let n = 0;
    const insert = async (receivedNs: readonly bigint[]) => {
      const events = receivedNs.map((received): LogEvent => {
        const i = n++;
        const level = levels[i % 3]!;
        return { id: uuidv7(Number(received / 1_000_000n)), timeNs: received, receivedNs: received, service: i % 2 ? 'a' : 'b', host: 'h', level, severity: { info: 9, warn: 13, error: 17 }[level], message: `late ${i} ${i % 4 === 0 ? 'boom' : 'fine'}`, attributes: { grp: `g${i % 3}` }, traceId: '', spanId: '' };
      });
      if (events.length > 0) await s.store.insertEvents(eventRows(events, 'test', 'w'));
    };
    const ns = (msTime: number) => BigInt(msTime) * 1_000_000n;
    // Steps of the engine's half-second ticks, with a quarter-second tick, a
    // late one, a gap longer than most windows, and two ticks off the grid
    // (a test's clock), which scan whole windows, between ticks on it.
    const steps = [500, 500, 250, 500, 1750, 500, 500, 500, 61_000, 500, 500, 333, 500, 167, 500, 500, 3000, 500, 500];
    let now = T0;
    let counted = 0;
    for (const [k, step] of steps.entries()) {
      const next = now + step;
      // Received since the last tick (one at the tick's very instant, which
      // its scan may not have seen), one held in flight across the tick.
      const held = ns(now + Math.floor(step / 3)) + 5n;
      const release = s.ctx.rollup.hold(held);
      await insert([ns(now), ns(now) + 1n, ...Array.from({ length: 6 }, (_, j) => ns(now + 1 + Math.floor((j * step) / 6)) + BigInt(j)), ns(next)]);
      const atNext = await engine.batchCounts(rules, next);
      for (const r of rules) {
        const alone = await engine.counts(r, next, false);
        expect([...atNext.get(r.id)!].sort(), `${r.query} by ${r.group_by} over ${r.window}, tick ${k}`).toEqual([...alone].sort());
        counted += [...alone.values()].reduce((a, g) => a + g.count, 0);
      }
      // The held event lands after the tick, received before it: the next
      // ticks must count it.
      await insert([held]);
      release();
      now = next;
    }
    // One more tick: the held events are all counted now.
    const last = await engine.batchCounts(rules, now + 500);
    for (const r of rules) expect([...last.get(r.id)!].sort(), `${r.query} at the last tick`).toEqual([...(await engine.counts(r, now + 500, false))].sort());
    expect(counted).toBeGreaterThan(100);
  });
});

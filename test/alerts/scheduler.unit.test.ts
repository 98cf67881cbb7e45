// The scheduler on its own: due times over a clock the test moves, and
// ticks that never overlap.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RuleSpec } from '../../src/alerts/rule.js';
import { DueTimes, phaseOf, Ticker } from '../../src/alerts/scheduler.js';
import { ManualClock } from '../../src/model/clock.js';

const rule = (id: string, interval: string): RuleSpec => ({
  id, name: id, query: '', window: '1m', condition: { op: '>', threshold: 0 }, group_by: [], interval, for: '0s', repeat: '1h', targets: [],
});

describe('DueTimes', () => {
  it('runs a new rule within its first interval, at its own phase, then once per interval', () => {
    const clock = new ManualClock(1_000_000_000_000);
    const due = new DueTimes();
    const r = rule('rule-a', '10s');
    const phase = phaseOf('rule-a') % 10_000;
    const runs: number[] = [];
    const start = clock.nowMs();
    for (let t = 0; t <= 40_000; t += 500) {
      clock.set(start + t);
      if (due.take([r], clock.nowMs()).length > 0) runs.push(t);
    }
    // Due first at start + phase - interval (≤ start): the first tick runs it.
    expect(runs[0]).toBe(0);
    // Then on its phase every 10 s, give or take the 500 ms tick.
    const later = runs.slice(1);
    expect(later.length).toBe(4);
    for (let i = 1; i < later.length; i++) expect(later[i]! - later[i - 1]!).toBe(10_000);
    expect(Math.abs((later[0]! % 10_000) - (phase % 10_000))).toBeLessThanOrEqual(500);
  });

  it('spreads rules made together over the interval, and forgets deleted ones', () => {
    const due = new DueTimes();
    const rules = Array.from({ length: 40 }, (_, i) => rule(`r-${i}`, '10s'));
    const now = 2_000_000_000_000;
    due.take(rules, now);
    // Over the next interval each rule comes due once, not all in one tick.
    const perTick: number[] = [];
    for (let t = 500; t <= 10_000; t += 500) perTick.push(due.take(rules, now + t).length);
    expect(perTick.reduce((a, b) => a + b, 0)).toBe(40);
    expect(Math.max(...perTick)).toBeLessThan(40);
    due.keep(new Set(['r-1']));
    // A forgotten rule that comes back is new again: due at once.
    expect(due.take([rules[0]!], now + 10_100).map((r) => r.id)).toEqual(['r-0']);
  });

  it('runs a 1 s rule every second on the half-second ticks', () => {
    const due = new DueTimes();
    const r = rule('fast', '1s');
    const runs: number[] = [];
    for (let t = 0; t <= 10_000; t += 500) if (due.take([r], 3_000_000_000_000 + t).length > 0) runs.push(t);
    expect(runs.length).toBe(11);
    for (let i = 2; i < runs.length; i++) expect(runs[i]! - runs[i - 1]!).toBe(1000);
  });

  it('brings rules that share a scan due together, on their interval\'s grid, however they were made', () => {
    const due = new DueTimes((r) => r.id.startsWith('shared'));
    const start = 5_000_000_000_250;
    const shared = Array.from({ length: 10 }, (_, i) => rule(`shared-${i}`, '1s'));
    const alone = Array.from({ length: 10 }, (_, i) => rule(`alone-${i}`, '10s'));
    // Made a few at a time, off the grid: each is due at once when first seen.
    expect(due.take([...shared.slice(0, 5), ...alone], start)).toHaveLength(15);
    expect(due.take(shared.slice(5), start + 300).map((r) => r.id)).toEqual(shared.slice(5).map((r) => r.id));
    // Then every shared rule comes due in the same tick, on the second; the
    // spread ones over their interval, never all ten at once.
    const sharedTicks = new Set<number>();
    const aloneCounts: number[] = [];
    for (let t = start + 500; t <= start + 10_000; t += 250) {
      const got = due.take([...shared, ...alone], t);
      const s = got.filter((r) => r.id.startsWith('shared'));
      if (s.length > 0) {
        expect(s).toHaveLength(10);
        sharedTicks.add(t);
      }
      aloneCounts.push(got.length - s.length);
    }
    expect([...sharedTicks].every((t) => t % 1000 === 0)).toBe(true);
    expect(sharedTicks.size).toBe(10);
    expect(aloneCounts.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.max(...aloneCounts)).toBeLessThan(10);
  });

  it('a late tick runs a rule once, not once per missed interval', () => {
    const due = new DueTimes();
    const r = rule('late', '5s');
    due.take([r], 0);
    expect(due.take([r], 60_000)).toHaveLength(1);
    expect(due.take([r], 60_001)).toHaveLength(0);
  });
});

describe('Ticker', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks on the clock\'s grid, and a slow tick moves to the next grid point instead of shifting the rest', async () => {
    vi.useFakeTimers({ now: 7_000_000_000_130 });
    const starts: number[] = [];
    const nows: Array<number | undefined> = [];
    const ticker = new Ticker(
      async (now) => {
        starts.push(Date.now());
        nows.push(now);
        // The third tick takes 1.2 intervals.
        if (starts.length === 3) await new Promise((r) => setTimeout(r, 600));
      },
      500,
      () => undefined,
    );
    ticker.start();
    await vi.advanceTimersByTimeAsync(3_000);
    await ticker.stop();
    // First at once, then just past each multiple of 500 (the slack a
    // timer that fires early on the clock needs), skipping those the slow
    // tick covered.
    expect(starts[0]).toBe(7_000_000_000_130);
    const after = starts.slice(1).map((t) => t % 500);
    expect(after.every((off) => off > 0 && off < 10)).toBe(true);
    const grid = starts.slice(1).map((t) => t - (t % 500));
    expect(grid.slice(0, 2)).toEqual([7_000_000_000_500, 7_000_000_001_000]);
    // The slow third tick (from 1.0 s to 1.6 s) is followed at 2.0 s, not 2.1 s.
    expect(grid[2]).toBe(7_000_000_002_000);
    // Each tick evaluates at its grid point (the first at the one before it started).
    expect(nows).toEqual([7_000_000_000_000, ...grid]);
  });

  it('runs ticks one at a time, in the order asked', async () => {
    const log: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const ticker = new Ticker(
      async (now) => {
        log.push(`start ${now}`);
        if (now === 1) await gate;
        log.push(`end ${now}`);
      },
      1000,
      () => undefined,
    );
    const a = ticker.tick(1);
    const b = ticker.tick(2);
    await Promise.resolve();
    expect(log).toEqual(['start 1']);
    release();
    await Promise.all([a, b]);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('a failed tick does not stop the next', async () => {
    let n = 0;
    const ticker = new Ticker(async () => {
      if (++n === 1) throw new Error('boom');
    }, 1000, () => undefined);
    await expect(ticker.tick()).rejects.toThrow('boom');
    await expect(ticker.tick()).resolves.toBeUndefined();
    expect(n).toBe(2);
  });
});

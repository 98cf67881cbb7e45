// The evaluator on its own, with an injected clock: a table of cases.
import { describe, expect, it } from 'vitest';
import { evaluate, type GroupCount, groupKey, type GroupState } from '../../src/alerts/evaluate.js';
import type { Op } from '../../src/alerts/rule.js';

let n = 0;
const id = () => `id-${++n}`;
const rule = (op: Op, threshold: number, extra: { for?: string; repeat?: string } = {}) => ({ condition: { op, threshold }, for: extra.for ?? '0s', repeat: extra.repeat ?? '1h' });
const G = groupKey({ service: 'api' });
const counts = (c: number, key = G): Map<string, GroupCount> => new Map([[key, { labels: { service: 'api' }, count: c }]]);

/** Runs a rule over a timeline of (ms, count) and returns the states and notices. */
function run(r: ReturnType<typeof rule>, timeline: Array<[number, number | undefined]>) {
  let prev = new Map<string, GroupState>();
  const out: Array<{ at: number; state: string | undefined; notices: string[] }> = [];
  for (const [at, c] of timeline) {
    const ev = evaluate(r, c === undefined ? new Map() : counts(c), prev, at, id);
    prev = ev.states;
    out.push({ at, state: ev.states.get(G)?.state, notices: ev.notifications.map((x) => x.kind) });
  }
  return out;
}

describe('evaluate', () => {
  it.each([
    ['>', 20, 21, true], ['>', 20, 20, false], ['>=', 20, 20, true], ['<', 1, 0, true], ['<', 1, 1, false], ['<=', 5, 5, true],
  ] as const)('%s %d with %d breaches: %s', (op, threshold, value, fires) => {
    const ev = evaluate(rule(op, threshold), counts(value), new Map(), 0, id);
    expect(ev.notifications.map((x) => x.kind)).toEqual(fires ? ['firing'] : []);
  });

  it('fires once, stays firing without repeating before `repeat`, then resolves', () => {
    expect(run(rule('>', 2), [[0, 3], [15_000, 5], [30_000, 1], [45_000, 0]])).toEqual([
      { at: 0, state: 'firing', notices: ['firing'] },
      { at: 15_000, state: 'firing', notices: [] },
      { at: 30_000, state: 'resolved', notices: ['resolved'] },
      { at: 45_000, state: 'resolved', notices: [] },
    ]);
  });

  it('waits `for` in pending, and a dip back resets it', () => {
    const r = rule('>', 2, { for: '30s' });
    expect(run(r, [[0, 3], [15_000, 3], [20_000, 0], [25_000, 3], [50_000, 3], [55_000, 3]]).map((x) => [x.state, x.notices.join()])).toEqual([
      ['pending', ''], ['pending', ''], ['ok', ''], ['pending', ''], ['pending', ''], ['firing', 'firing'],
    ]);
  });

  it('repeats a firing notice every `repeat` while it lasts', () => {
    const r = rule('>', 0, { repeat: '1m' });
    expect(run(r, [[0, 1], [30_000, 1], [60_000, 1], [90_000, 1], [120_000, 1]]).map((x) => x.notices.join())).toEqual(['firing', '', 'firing', '', 'firing']);
  });

  it('keeps one episode id across firing, repeats and the resolve, and a fresh id per notice', () => {
    let prev = new Map<string, GroupState>();
    const notices = [];
    for (const [at, c] of [[0, 5], [60_000, 5], [61_000, 0]] as const) {
      const ev = evaluate(rule('>', 1, { repeat: '1m' }), counts(c), prev, at, id);
      prev = ev.states;
      notices.push(...ev.notifications);
    }
    expect(notices.map((x) => x.kind)).toEqual(['firing', 'firing', 'resolved']);
    expect(new Set(notices.map((x) => x.episode)).size).toBe(1);
    expect(new Set(notices.map((x) => x.id)).size).toBe(3);
    expect(notices[2]!.startedAt).toBe(0);
  });

  it('treats a group that went quiet as zero: a > rule resolves, then forgets it', () => {
    expect(run(rule('>', 2), [[0, 5], [15_000, undefined], [30_000, undefined]])).toEqual([
      { at: 0, state: 'firing', notices: ['firing'] },
      { at: 15_000, state: 'resolved', notices: ['resolved'] },
      { at: 30_000, state: undefined, notices: [] },
    ]);
  });

  it('fires a silence rule for a zero-filled group, and resolves when lines come back', () => {
    expect(run(rule('<', 1), [[0, 0], [15_000, 0], [30_000, 4]]).map((x) => x.notices.join())).toEqual(['firing', '', 'resolved']);
  });

  it('keeps groups apart', () => {
    const a = groupKey({ service: 'a' });
    const b = groupKey({ service: 'b' });
    const c = new Map<string, GroupCount>([[a, { labels: { service: 'a' }, count: 9 }], [b, { labels: { service: 'b' }, count: 1 }]]);
    const ev = evaluate(rule('>', 5), c, new Map(), 0, id);
    expect(ev.notifications).toHaveLength(1);
    expect(ev.notifications[0]).toMatchObject({ kind: 'firing', labels: { service: 'a' }, value: 9 });
    expect(ev.states.get(b)?.state).toBe('ok');
  });

  it('picks up from a persisted state: no second firing, and the resolve still comes', () => {
    const persisted = new Map<string, GroupState>([[G, { state: 'firing', since: 0, value: 5, lastNotified: 0, episode: 'e1' }]]);
    const still = evaluate(rule('>', 2), counts(5), persisted, 10_000, id);
    expect(still.notifications).toEqual([]);
    const done = evaluate(rule('>', 2), counts(0), still.states, 20_000, id);
    expect(done.notifications).toMatchObject([{ kind: 'resolved', episode: 'e1' }]);
  });
});

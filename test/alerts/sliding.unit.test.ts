// The kept counts on their own: which ticks can use them, and their bound.
import { describe, expect, it } from 'vitest';
import type { RuleSpec } from '../../src/alerts/rule.js';
import { GRID_MS, SlidingCounts, type Tally } from '../../src/alerts/sliding.js';

const rule = (window: string, query = ''): RuleSpec => ({
  id: 'r', name: 'r', query, window, condition: { op: '>', threshold: 0 }, group_by: ['host'], interval: '1s', for: '0s', repeat: '1h', targets: [],
});
const NOW = 1_800_000_000_000;

describe('SlidingCounts', () => {
  it('serves ticks on the grid only', () => {
    const s = new SlidingCounts();
    expect(s.fits(rule('1m'), NOW)).toBe(true);
    expect(s.fits(rule('1m'), NOW + GRID_MS)).toBe(true);
    expect(s.fits(rule('1m'), NOW + 1)).toBe(false);
  });

  it('keeps settled buckets, counts the rest once, and starts afresh when the rule changes', () => {
    const s = new SlidingCounts();
    const r = rule('10s');
    const b = (msTime: number) => msTime / GRID_MS - 1; // the bucket ending at msTime
    const t = (n: number): Tally => new Map([['["h1"]', n]]);
    expect(s.from(r, NOW)).toBe(NOW - 10_000);
    // Settled up to NOW - 250: the last bucket is counted, not kept.
    expect(s.take(r, NOW, NOW - 10_000, NOW - 250, [{ bucket: b(NOW - 5000), tally: t(2) }, { bucket: b(NOW), tally: t(3) }]).get('["h1"]')).toBe(5);
    expect(s.from(r, NOW + 500)).toBe(NOW - 250);
    expect(s.take(r, NOW + 500, NOW - 250, NOW + 250, [{ bucket: b(NOW), tally: t(3) }]).get('["h1"]')).toBe(5);
    // 5 s later the bucket at NOW - 5000 has left the window.
    expect(s.from(r, NOW + 5000)).toBe(NOW + 250);
    expect(s.take(r, NOW + 5000, NOW + 250, NOW + 4750, []).get('["h1"]')).toBe(3);
    // Another query: nothing kept applies.
    expect(s.from(rule('10s', 'boom'), NOW + 5500)).toBe(NOW - 4500);
  });

  it('drops a rule that keeps too many counts and counts it whole until it changes', () => {
    const s = new SlidingCounts();
    const r = rule('1m');
    const from = s.from(r, NOW);
    const many: Tally = new Map(Array.from({ length: 200_001 }, (_, i) => [`["h${i}"]`, 1]));
    const total = s.take(r, NOW, from, NOW - 250, [{ bucket: NOW / GRID_MS - 10, tally: many }]);
    expect(total.size).toBe(200_001);
    expect(s.fits(r, NOW + 500)).toBe(false);
    expect(s.fits(rule('1m', 'other'), NOW + 500)).toBe(true);
    s.keep(new Set());
    expect(s.fits(r, NOW + 500)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { clickHouseToRfc3339, formatClickHouse, formatRfc3339, parseDurationNs, parseTimeNs } from '../../src/model/time.js';

describe('time', () => {
  const ns = 1795320000123456789n;
  it.each([
    ['2026-11-22T04:00:00.123456789Z', ns],
    ['2026-11-22T05:00:00.123456789+01:00', ns],
    ['2026-11-22 04:00:00.123456789', ns],
    ['2026-11-22T04:00:00.123456789123Z', ns],
    [1795320000, 1795320000000000000n],
    [1795320000.5, 1795320000500000000n],
    [1795320000123, 1795320000123000000n],
    ['1795320000123456', 1795320000123456000n],
    ['1795320000123456789', ns],
  ])('reads %s', (input, expected) => {
    expect(parseTimeNs(input)).toBe(expected);
  });

  it('refuses what is not a time', () => {
    for (const v of ['yesterday', '2026-13-45T99:00:00Z', -5, '', true]) expect(parseTimeNs(v)).toBeUndefined();
  });

  it('formats nanoseconds for the API and the store, and back', () => {
    expect(formatRfc3339(ns)).toBe('2026-11-22T04:00:00.123456789Z');
    expect(formatClickHouse(ns)).toBe('2026-11-22 04:00:00.123456789');
    expect(clickHouseToRfc3339('2026-11-22 04:00:00.123456789')).toBe('2026-11-22T04:00:00.123456789Z');
  });

  it('reads durations', () => {
    expect(parseDurationNs('15m')).toBe(900_000_000_000n);
    expect(parseDurationNs('7d')).toBe(604_800_000_000_000n);
    expect(parseDurationNs('15 minutes')).toBeUndefined();
  });
});

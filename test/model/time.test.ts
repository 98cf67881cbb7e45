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

  it('reads the common RFC 3339 shape by arithmetic exactly as Date.parse reads it', () => {
    // The reference: the shape's second and zone through Date.parse, the
    // fraction's digits as nanoseconds (what parseIsoNs did before its
    // arithmetic path).
    const reference = (s: string): bigint | undefined => {
      const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
      if (!m) return undefined;
      const ms = Date.parse(m[1]! + m[3]!);
      return Number.isNaN(ms) ? undefined : BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
    };
    const dates = ['1969-12-31', '1970-01-01', '2000-02-29', '2024-02-29', '2026-02-28', '2026-02-29', '2026-02-30', '2026-02-31', '2026-04-31', '2026-12-31', '2100-02-29', '2400-02-29', '9999-12-31', '2026-00-10', '2026-13-01', '2026-06-00', '2026-06-32'];
    const clocks = ['00:00:00', '23:59:59', '24:00:00', '23:60:00', '23:59:60', '12:34:56'];
    const fractions = ['', '.', '.1', '.123', '.123456', '.123456789', '.1234567891'];
    const zones = ['Z', '+00:00', '-00:00', '+01:00', '-05:30', '+14:00', '+23:59', '+24:00', '-00:60', 'z', '+0100', ''];
    let checked = 0;
    for (const d of dates) for (const c of clocks) for (const f of fractions) for (const z of zones) {
      const s = `${d}T${c}${f}${z}`;
      const want = reference(s);
      if (want === undefined) continue; // outside the shape: the general path's own tests
      expect([s, parseTimeNs(s)]).toEqual([s, want]);
      checked++;
    }
    expect(checked).toBeGreaterThan(1000);
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

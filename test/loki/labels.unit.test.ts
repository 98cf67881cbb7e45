// Loki's time parameters as Sluice reads them: whole digits are seconds up
// to 10 of them and nanoseconds past that; float seconds; RFC 3339.
import { describe, expect, it } from 'vitest';
import { timeParam } from '../../src/loki/labels.js';

describe('timeParam', () => {
  it.each([
    ['1700000000', 1_700_000_000_000_000_000n],
    ['1700000000.5', 1_700_000_000_500_000_000n],
    ['1700000000123456789', 1_700_000_000_123_456_789n],
    // Fewer than 19 digits past 10 are nanoseconds too, as in Loki.
    ['17000000001', 17_000_000_001n],
    ['2023-11-14T22:13:20.25Z', 1_700_000_000_250_000_000n],
  ])('%s', (v, ns) => {
    expect(timeParam(v, 'start')).toBe(ns);
  });

  it('a 400 for what is none of them; nothing for an empty value', () => {
    expect(() => timeParam('yesterday', 'start')).toThrow(/start must be/);
    expect(timeParam('', 'start')).toBeUndefined();
  });
});

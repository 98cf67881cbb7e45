import { describe, expect, it } from 'vitest';
import { uuidv7, uuidv7Ms } from '../../src/model/id.js';

// ClickHouse compares UUIDs by their second half, then their first.
const clickHouseKey = (id: string) => id.replace(/-/g, '').slice(16) + id.replace(/-/g, '').slice(0, 16);

describe('uuidv7', () => {
  it('carries the millisecond and the version and variant bits', () => {
    const id = uuidv7(1_790_000_000_123);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidv7Ms(id)).toBe(1_790_000_000_123);
  });

  it('orders ids that share a millisecond as they were made, as strings and as ClickHouse sorts UUIDs', () => {
    // Interleaved: events of one time need not come one after another.
    const ms = [1_790_000_000_456, 1_790_000_000_457];
    const made: Record<number, string[]> = { [ms[0]!]: [], [ms[1]!]: [] };
    for (let i = 0; i < 3000; i++) {
      const m = ms[i % 3 === 0 ? 1 : 0]!;
      made[m]!.push(uuidv7(m));
    }
    for (const ids of Object.values(made)) {
      expect([...ids].sort()).toEqual(ids);
      expect([...ids].sort((a, b) => (clickHouseKey(a) < clickHouseKey(b) ? -1 : 1))).toEqual(ids);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('sorts by time across milliseconds', () => {
    const ids = [5, 1, 4, 2, 3].map((d) => uuidv7(1_790_000_000_000 + d));
    expect([...ids].sort().map(uuidv7Ms)).toEqual([1, 2, 3, 4, 5].map((d) => 1_790_000_000_000 + d));
  });
});

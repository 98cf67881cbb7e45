// Times for events a test stores and reads back, taken from the clock when
// the test file starts: a suite that stamps literal dates rots with the
// calendar (retention clamps old times to the received time, and fixed
// search windows stop covering them). Literal dates stay only in tests of
// parsing and formatting that store nothing, or of old/future times on
// purpose.
import { formatClickHouse, formatRfc3339 } from '../../src/model/time.js';

const HOUR = 3_600_000;

export interface TestTimes {
  /** The base instant in ms: a whole hour, one to two hours before the clock read. */
  readonly base: number;
  /** base + offset, in ms. */
  ms(offsetMs?: number): number;
  /** base + offset as nanoseconds. */
  ns(offsetMs?: number, extraNs?: bigint): bigint;
  /** base + offset as ISO 8601 with milliseconds (what JSON loggers write). */
  iso(offsetMs?: number): string;
  /** base + offset + extra as Sluice prints times: RFC 3339 with nanoseconds. */
  rfc(offsetMs?: number, extraNs?: bigint): string;
  /** base + offset as ClickHouse DateTime64(9) text. */
  ch(offsetMs?: number): string;
  /** base + offset in whole or fractional epoch seconds. */
  sec(offsetMs?: number): number;
  /** A search window around base: { from, to } in ISO 8601. */
  range(fromOffsetMs: number, toOffsetMs: number): { from: string; to: string };
}

/**
 * `hoursBack` whole hours before the current hour (default 1): recent enough
 * for any retention, old enough that nothing is in the future, and on a
 * whole hour so minute and hour buckets line up with it.
 */
export function testTimes(hoursBack = 1, now = Date.now()): TestTimes {
  const base = Math.floor(now / HOUR) * HOUR - hoursBack * HOUR;
  const ns = (o = 0, extra = 0n): bigint => BigInt(base + o) * 1_000_000n + extra;
  return {
    base,
    ms: (o = 0) => base + o,
    ns,
    iso: (o = 0) => new Date(base + o).toISOString(),
    rfc: (o = 0, extra = 0n) => formatRfc3339(ns(o, extra)),
    ch: (o = 0) => formatClickHouse(ns(o)),
    sec: (o = 0) => (base + o) / 1000,
    range: (a, b) => ({ from: new Date(base + a).toISOString(), to: new Date(base + b).toISOString() }),
  };
}

/** Whether this run is under `faketime` (the date-independence check). */
export const UNDER_FAKETIME = process.env.FAKETIME !== undefined && (process.env.LD_PRELOAD ?? '').includes('faketime');

/**
 * How long a poll keeps trying: `ms`, or five times that under faketime,
 * where everything runs slower (scripts/vitest.mjs). A budget for waiting,
 * never a timing assertion.
 */
export function patience(ms: number): number {
  return UNDER_FAKETIME ? ms * 5 : ms;
}

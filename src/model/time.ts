// Times are nanoseconds since the epoch as bigint: a JS number cannot hold
// them, and every event carries nanosecond time.

import { systemClock } from './clock.js';

const NS_PER_MS = 1_000_000n;

/** The system clock's now; code inside serve reads ctx.clock instead. */
export function nowNs(): bigint {
  return systemClock.nowNs();
}

const ISO = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d{1,9})\d*)?\s*(Z|z|[+-]\d{2}:?\d{2}|UTC)?$/;

// Loggers write one shape far more than any other: 2026-11-22T04:00:00.123Z,
// or with an offset as syslog daemons write it. It is read digit by digit
// and turned into a time by arithmetic: a regular expression and Date.parse
// per event were a fifth of decoding an NDJSON body (bench/ingest profile,
// #17). Values the arithmetic does not cover (hour 24, second 60, a year
// before 1970…) take the general path, so what is accepted, and the time it
// gives, are Date.parse's.
const COMMON = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;
const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

/** The value of `n` digits of `s` from `at`, or -1 when one is not a digit. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Days from 1970-01-01 to the first of month `m` (1–12) of year `y` (H. Hinnant's days_from_civil). */
function daysToMonth(y: number, m: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5);
  return era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
}

/** The common shape read by arithmetic; undefined when `s` is not in it or its values need Date.parse. */
function commonIsoNs(s: string): bigint | undefined {
  const n = s.length;
  if (n < 20 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return undefined;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return undefined;
  let i = 19;
  let frac = 0;
  if (s.charCodeAt(i) === 46) {
    let k = i + 1;
    while (k < n && k - i <= 9 && s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57) k++;
    const len = k - i - 1;
    if (len === 0) return undefined;
    frac = digits(s, i + 1, len) * POW10[9 - len]!;
    i = k;
  }
  let offsetMin = 0;
  const z = s.charCodeAt(i);
  if (z === 90 && i + 1 === n) {
    // Z
  } else if ((z === 43 || z === 45) && i + 6 === n && s.charCodeAt(i + 3) === 58) {
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
    offsetMin = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else {
    return undefined;
  }
  const seconds = (daysToMonth(y, mo) + d - 1) * 86_400 + h * 3600 + mi * 60 + sec - offsetMin * 60;
  return BigInt(seconds) * 1_000_000_000n + BigInt(frac);
}

/** Parses an RFC 3339 / ISO 8601 time (nanoseconds kept). No zone = UTC. */
export function parseIsoNs(s: string): bigint | undefined {
  const fast = commonIsoNs(s);
  if (fast !== undefined) return fast;
  const c = COMMON.exec(s);
  if (c) {
    const ms = Date.parse(c[1]! + c[3]!);
    if (Number.isNaN(ms)) return undefined;
    return BigInt(ms) * NS_PER_MS + (c[2] ? BigInt(c[2].padEnd(9, '0')) : 0n);
  }
  const m = ISO.exec(s.trim());
  if (!m) return undefined;
  const [, date, clock, frac = '', zone = 'Z'] = m;
  let z = zone === 'UTC' || zone === 'z' ? 'Z' : zone;
  if (/^[+-]\d{4}$/.test(z)) z = `${z.slice(0, 3)}:${z.slice(3)}`;
  const ms = Date.parse(`${date}T${clock}${clock!.length === 5 ? ':00' : ''}${z}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * NS_PER_MS + BigInt(frac.padEnd(9, '0'));
}

/**
 * Reads an epoch number whose unit is guessed from its size: seconds (with
 * a fraction), milliseconds, microseconds or nanoseconds.
 */
export function parseEpochNs(v: number | string): bigint | undefined {
  const s = String(v).trim();
  if (!/^\d+(\.\d+)?$/.test(s)) return undefined;
  const [int = '0', frac = ''] = s.split('.');
  const digits = int.replace(/^0+/, '').length;
  if (digits <= 11) return BigInt(int) * 1_000_000_000n + BigInt(frac.slice(0, 9).padEnd(9, '0')); // seconds (to year 5138)
  if (digits <= 14) return BigInt(int) * NS_PER_MS + BigInt(frac.slice(0, 6).padEnd(6, '0')); // ms
  if (digits <= 17) return BigInt(int) * 1000n + BigInt(frac.slice(0, 3).padEnd(3, '0')); // µs
  if (digits <= 20) return BigInt(int); // ns
  return undefined;
}

export function parseTimeNs(v: unknown): bigint | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? parseEpochNs(v) : undefined;
  if (typeof v === 'string') return parseIsoNs(v) ?? parseEpochNs(v);
  return undefined;
}

// The range a JS Date can hold; a time outside it is shown as its number.
const MAX_MS = 8_640_000_000_000_000n;

/** RFC 3339 with nanoseconds, always UTC: 2026-11-22T05:20:25.123456789Z */
export function formatRfc3339(ns: bigint): string {
  const ms = ns / NS_PER_MS;
  if (ns < 0n || ms > MAX_MS) return `${ns}ns`;
  const iso = new Date(Number(ms)).toISOString(); // ...T05:20:25.123Z
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

/** ClickHouse DateTime64(9) text: 2026-11-22 05:20:25.123456789 */
export function formatClickHouse(ns: bigint): string {
  const r = formatRfc3339(ns);
  return `${r.slice(0, 10)} ${r.slice(11, 29)}`;
}

/** ClickHouse DateTime64(9) text (UTC) to RFC 3339. */
export function clickHouseToRfc3339(s: string): string {
  const [date, clock = '00:00:00'] = s.split(' ');
  const [hms, frac = ''] = clock.split('.');
  return `${date}T${hms}.${frac.padEnd(9, '0')}Z`;
}

export function clickHouseToNs(s: string): bigint | undefined {
  return parseIsoNs(s);
}

const UNITS: Record<string, bigint> = { s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n, d: 86_400_000_000_000n, w: 604_800_000_000_000n };

/** "15m", "2h", "7d" to nanoseconds. */
export function parseDurationNs(s: string): bigint | undefined {
  const m = /^(\d{1,6})(s|m|h|d|w)$/.exec(s.trim());
  if (!m) return undefined;
  return BigInt(m[1]!) * UNITS[m[2]!]!;
}

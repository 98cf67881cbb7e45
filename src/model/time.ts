// Times are nanoseconds since the epoch as bigint: a JS number cannot hold
// them, and every event carries nanosecond time.

import { systemClock } from './clock.js';

const NS_PER_MS = 1_000_000n;

/** The system clock's now; code inside serve reads ctx.clock instead. */
export function nowNs(): bigint {
  return systemClock.nowNs();
}

const ISO = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d{1,9})\d*)?\s*(Z|z|[+-]\d{2}:?\d{2}|UTC)?$/;

// Loggers write one shape far more than any other (zone Z, or an offset as
// syslog daemons write it); its seconds and zone parse once per distinct
// second.
const COMMON = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;
let lastSecondText = '';
let lastSecondNs = 0n;

/** Parses an RFC 3339 / ISO 8601 time (nanoseconds kept). No zone = UTC. */
export function parseIsoNs(s: string): bigint | undefined {
  const c = COMMON.exec(s);
  if (c) {
    const second = c[3] === 'Z' ? c[1]! : c[1]! + c[3];
    if (second !== lastSecondText) {
      const ms = Date.parse(c[1]! + c[3]!);
      if (Number.isNaN(ms)) return undefined;
      lastSecondText = second;
      lastSecondNs = BigInt(ms) * NS_PER_MS;
    }
    return lastSecondNs + (c[2] ? BigInt(c[2].padEnd(9, '0')) : 0n);
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

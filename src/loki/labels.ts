// Loki's labels and times as Sluice reads them: the label names a Loki push
// maps onto Sluice's columns (src/ingest/loki), read back the same way by
// the query API; other names are event attributes.
import { SluiceError } from '../errors.js';
import { parseDurationNs, parseIsoNs } from '../model/time.js';

// Label name → column.
export const LABEL_COLUMNS: ReadonlyMap<string, string> = new Map([
  ['service_name', 'service'], ['service', 'service'], ['app', 'service'], ['job', 'service'],
  ['level', 'level'], ['detected_level', 'level'], ['severity', 'level'],
  ['host', 'host'], ['hostname', 'host'], ['instance', 'host'],
]);

// Loki takes ns epoch, float seconds or RFC 3339.
export function timeParam(v: string | undefined, name: string): bigint | undefined {
  if (v === undefined || v === '') return undefined;
  // Loki's rule: whole digits are seconds up to 10 of them, nanoseconds past that.
  if (/^\d{11,19}$/.test(v)) return BigInt(v);
  const seconds = /^\d+(\.\d+)?$/.test(v) ? Number(v) : undefined;
  const t = seconds !== undefined ? (seconds < 1e10 ? BigInt(Math.round(seconds * 1e9)) : undefined) : parseIsoNs(v);
  if (t === undefined) throw new SluiceError('SLUICE_ERR_INVALID_TIME_RANGE', `${name} must be Unix nanoseconds, seconds or RFC 3339`);
  return t;
}

/** [start, end) from Loki's start, end and since; by default the `defaultSpanNs` before end (now). */
export function lokiRange(q: { start?: string; end?: string; since?: string }, nowNs: bigint, defaultSpanNs: bigint): { startNs: bigint; endNs: bigint } {
  const endNs = timeParam(q.end, 'end') ?? nowNs;
  const since = q.since ? parseDurationNs(q.since) : undefined;
  return { startNs: timeParam(q.start, 'start') ?? endNs - (since ?? defaultSpanNs), endNs };
}

// from/to parameters: RFC 3339, epoch numbers, "now", or a duration back
// from now ("15m", "2h", "7d").
import { SluiceError } from '../errors.js';
import { nowNs, parseDurationNs, parseTimeNs } from '../model/time.js';

export function parseTimeParam(value: string | undefined, now: bigint): bigint | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'now') return now;
  const back = parseDurationNs(value.replace(/^-/, ''));
  if (back !== undefined) return now - back;
  const t = parseTimeNs(value);
  if (t === undefined) throw new SluiceError('SLUICE_ERR_INVALID_TIME_RANGE', `cannot read time ${JSON.stringify(value).slice(0, 80)}: use RFC 3339 or a duration like 15m`);
  return t;
}

export interface TimeRange {
  readonly fromNs: bigint;
  readonly toNs: bigint;
}

export function parseTimeRange(q: { from?: string | undefined; to?: string | undefined }, defaultSpanNs: bigint, now = nowNs()): TimeRange {
  const toNs = parseTimeParam(q.to, now) ?? now;
  const fromNs = parseTimeParam(q.from, now) ?? toNs - defaultSpanNs;
  if (fromNs > toNs) throw new SluiceError('SLUICE_ERR_INVALID_TIME_RANGE', 'from is after to');
  return { fromNs, toNs };
}

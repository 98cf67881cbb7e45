// Small formatting helpers shared by the views.
import type { LogEvent } from './api';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Epoch milliseconds of a server time (RFC 3339 with up to nanoseconds; Date reads at most milliseconds). */
export function epochMs(iso: string): number {
  return Date.parse(iso.replace(/(\.\d{3})\d+/, '$1'));
}

/** Local wall-clock time with milliseconds: 14:03:07.123. */
export function clock(iso: string): string {
  const d = new Date(epochMs(iso));
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** Local date and time: 2026-11-22 14:03:07.123. */
export function dateTime(iso: string): string {
  const d = new Date(epochMs(iso));
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(iso)}`;
}

/** Local date and time to the second: 2026-11-22 14:03:07. */
export function when(iso: string): string {
  return dateTime(iso).slice(0, 19);
}

/** A count with its noun: "1 event", "12 events" (`many` for irregular plurals). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

export function levelClass(level: string): string {
  return `lvl lvl-${level}`;
}

/** Every field of an event as [name, value] pairs, attributes last. */
export function eventFields(e: LogEvent): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['time', e.time],
    ['received_at', e.received_at],
    ['service', e.service],
    ['host', e.host],
    ['level', e.level],
    ['severity', String(e.severity)],
    ['source', e.source],
  ];
  if (e.trace_id) out.push(['trace_id', e.trace_id]);
  if (e.span_id) out.push(['span_id', e.span_id]);
  for (const [k, v] of Object.entries(e.attributes).sort(([a], [b]) => a.localeCompare(b))) out.push([k, v]);
  out.push(['id', e.id]);
  return out;
}

/** A search-language term that matches a field's value exactly. */
export function fieldTerm(name: string, value: string): string {
  const simple = /^[A-Za-z0-9_.@:\-/]+$/.test(value) && !value.includes('*');
  return `${name}:${simple ? value : JSON.stringify(value)}`;
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

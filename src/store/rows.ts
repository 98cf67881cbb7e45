// LogEvent to a JSONEachRow line of the logs table. The hot path builds one
// string per event, not an intermediate object.
import type { LogEvent } from '../model/event.js';
import { formatClickHouse } from '../model/time.js';

const q = JSON.stringify;

export function eventRow(e: LogEvent, source: string, writer: string): string {
  return (
    '{"id":"' + e.id +
    '","time":"' + formatClickHouse(e.timeNs) +
    '","received_at":"' + formatClickHouse(e.receivedNs) +
    '","service":' + q(e.service) +
    ',"host":' + q(e.host) +
    ',"level":"' + e.level +
    '","severity":' + e.severity +
    ',"message":' + q(e.message) +
    ',"attributes":' + q(e.attributes) +
    ',"trace_id":' + q(e.traceId) +
    ',"span_id":' + q(e.spanId) +
    ',"source":' + q(source) +
    ',"writer":' + q(writer) +
    '}\n'
  );
}

export function eventRows(events: readonly LogEvent[], source: string, writer: string): Buffer {
  let s = '';
  for (const e of events) s += eventRow(e, source, writer);
  return Buffer.from(s, 'utf8');
}

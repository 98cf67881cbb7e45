// Reading events back in the one published event format.
import type { EventJson } from '../model/event.js';
import type { Level } from '../model/levels.js';
import { clickHouseToRfc3339 } from '../model/time.js';

/** Columns every event read selects, in the published format's order. */
// Aliases differ from column names: ClickHouse lets an alias shadow its
// column in WHERE and ORDER BY.
export const EVENT_COLUMNS = `toString(id) AS event_id, toString(time) AS event_time, toString(received_at) AS event_received_at,
  service, host, level, severity, message, attributes, trace_id, span_id, source`;

export interface EventRow {
  event_id: string;
  event_time: string;
  event_received_at: string;
  service: string;
  host: string;
  level: string;
  severity: number;
  message: string;
  attributes: Record<string, string>;
  trace_id: string;
  span_id: string;
  source: string;
}

export function toEventJson(r: EventRow): EventJson {
  return {
    id: r.event_id,
    time: clickHouseToRfc3339(r.event_time),
    received_at: clickHouseToRfc3339(r.event_received_at),
    service: r.service,
    host: r.host,
    level: r.level as Level,
    severity: Number(r.severity),
    message: r.message,
    attributes: r.attributes,
    trace_id: r.trace_id,
    span_id: r.span_id,
    source: r.source,
  };
}

/**
 * The SETTINGS clause of a read: read-only, time- and scan-limited, 64-bit
 * integers as JSON numbers on both engines, no query cache. Only checked
 * integers go in.
 */
export function readSettings(limits: { timeoutSeconds: number; maxRowsToRead: number }): string {
  for (const n of [limits.timeoutSeconds, limits.maxRowsToRead]) {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error('read settings take whole numbers');
  }
  return (
    'SETTINGS readonly = 1, max_execution_time = ' + String(limits.timeoutSeconds) +
    ', max_rows_to_read = ' + String(limits.maxRowsToRead) +
    ", read_overflow_mode = 'throw', output_format_json_quote_64bit_integers = 0, use_query_cache = 0"
  );
}

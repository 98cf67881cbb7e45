// The one event shape every source becomes and every read API returns.
import type { Level } from './levels.js';
import { formatRfc3339 } from './time.js';

/** A normalized event, ready to store. Times are epoch nanoseconds. */
export interface LogEvent {
  id: string;
  timeNs: bigint;
  receivedNs: bigint;
  service: string;
  host: string;
  level: Level;
  severity: number;
  message: string;
  attributes: Record<string, string>;
  traceId: string;
  spanId: string;
}

/** The published event format (docs/api.md): what every read API returns. */
export interface EventJson {
  id: string;
  time: string;
  received_at: string;
  service: string;
  host: string;
  level: Level;
  severity: number;
  message: string;
  attributes: Record<string, string>;
  trace_id: string;
  span_id: string;
  source: string;
}

/** JSON schema of EventJson, used as the response schema of read routes. */
export const eventJsonSchema = {
  $id: 'sluice/event',
  type: 'object',
  required: ['id', 'time', 'received_at', 'service', 'host', 'level', 'severity', 'message', 'attributes', 'trace_id', 'span_id', 'source'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', description: 'UUIDv7 made from the event time, so ids sort by time' },
    time: { type: 'string', description: 'RFC 3339 with nanoseconds, UTC' },
    received_at: { type: 'string', description: 'RFC 3339 with nanoseconds, UTC' },
    service: { type: 'string' },
    host: { type: 'string' },
    level: { type: 'string', enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] },
    severity: { type: 'integer', minimum: 1, maximum: 24, description: 'OpenTelemetry severity number' },
    message: { type: 'string' },
    attributes: { type: 'object', additionalProperties: { type: 'string' } },
    trace_id: { type: 'string' },
    span_id: { type: 'string' },
    source: { type: 'string', description: 'Name of the token that sent the event' },
  },
} as const;

/** A stored event in the published format (what the live tail sends). */
export function logEventToJson(e: LogEvent, source: string): EventJson {
  return {
    id: e.id,
    time: formatRfc3339(e.timeNs),
    received_at: formatRfc3339(e.receivedNs),
    service: e.service,
    host: e.host,
    level: e.level,
    severity: e.severity,
    message: e.message,
    attributes: e.attributes,
    trace_id: e.traceId,
    span_id: e.spanId,
    source,
  };
}

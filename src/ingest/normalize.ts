// Any decoded record becomes a LogEvent here. Everything after this knows
// nothing of wire formats or of which logger wrote the record.
import type { ErrorCode } from '../errors.js';
import type { LogEvent } from '../model/event.js';
import { uuidv7 } from '../model/id.js';
import { guessLevel } from '../model/level-guess.js';
import { type LevelInfo, LEVEL_SEVERITY, parseLevel } from '../model/levels.js';
import { formatRfc3339, parseTimeNs } from '../model/time.js';
import { parseLogfmt } from './logfmt.js';

export interface NormalizeContext {
  readonly receivedNs: bigint;
  /** The time of an event that carries none; the received time when unset. */
  readonly defaultTimeNs?: bigint;
  readonly defaultService: string;
  readonly defaultHost: string;
  readonly maxAttributes: number;
  /** Events older than this would be dropped by the TTL at insert. */
  readonly oldestNs: bigint;
  /** Events further in the future than this are clamped too. */
  readonly newestNs: bigint;
}

export interface Rejection {
  readonly code: ErrorCode;
  readonly message: string;
}

export type Normalized = LogEvent | Rejection;

export function isRejection(r: Normalized): r is Rejection {
  return (r as Rejection).code !== undefined;
}

// Which field each well-known key feeds, in priority order: the first
// present (non-empty) key of a field wins, and none of them becomes an
// attribute. Keys are matched after nested objects are flattened with dots,
// so {"service":{"name":"api"}} is service.name.
const FIELD_KEYS = {
  message: ['msg', 'message', '@message', 'log'],
  time: ['time', 'timestamp', 'ts', '@timestamp', 't'],
  level: ['level', 'severity', 'lvl', 'loglevel', 'levelname', 'log.level', 'severity_text', 'level_name'],
  service: ['service', 'service.name', 'service_name', 'app', 'application'],
  host: ['host', 'hostname', 'host.name'],
  traceId: ['trace_id', 'traceId', 'trace.id', 'traceid'],
  spanId: ['span_id', 'spanId', 'span.id', 'spanid'],
} as const;
type Field = keyof typeof FIELD_KEYS;
const FIELDS = Object.keys(FIELD_KEYS) as Field[];
const SLOT = new Map<string, { field: number; rank: number }>();
FIELDS.forEach((f, field) => FIELD_KEYS[f].forEach((k, rank) => SLOT.set(k, { field, rank })));

interface Picked {
  values: unknown[];
  ranks: number[];
  keys: string[];
  attributes: Record<string, string>;
  count: number;
}

// One pass over the object: well-known keys go to their field, everything
// else to the attributes (flattened, as text).
function visit(obj: Record<string, unknown>, prefix: string, depth: number, p: Picked): void {
  for (const k in obj) {
    const v = obj[k];
    const key = prefix === '' ? k : prefix + '.' + k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 8) {
      visit(v as Record<string, unknown>, key, depth + 1, p);
      continue;
    }
    const slot = SLOT.get(key);
    if (slot !== undefined) {
      if (v !== undefined && v !== null && v !== '' && slot.rank < p.ranks[slot.field]!) {
        p.values[slot.field] = v;
        p.ranks[slot.field] = slot.rank;
        p.keys[slot.field] = key;
      }
      continue;
    }
    p.attributes[key] = asText(v);
    p.count++;
  }
}

function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function levelOf(v: unknown, key: string): LevelInfo | undefined {
  // A numeric `severity` is an OpenTelemetry severity number; a numeric
  // `level` is pino's/bunyan's 10..60.
  return parseLevel(v, key === 'severity' ? 'otel' : 'pino');
}

const NONE = 99;

// One Picked for every call: normalizeObject never runs inside itself, and
// three arrays per event were garbage the collector paid for (#17).
const picked: Picked = { values: new Array(FIELDS.length), ranks: new Array(FIELDS.length).fill(NONE), keys: new Array(FIELDS.length).fill(''), attributes: {}, count: 0 };

/** Normalizes one JSON object. */
export function normalizeObject(obj: Record<string, unknown>, ctx: NormalizeContext): Normalized {
  const p = picked;
  p.values.fill(undefined);
  p.ranks.fill(NONE);
  p.attributes = {};
  p.count = 0;
  visit(obj, '', 0, p);
  const [rawMessage, rawTime, rawLevel, rawService, rawHost, rawTrace, rawSpan] = p.values;
  const attributes = p.attributes;
  if (p.count > ctx.maxAttributes) {
    return { code: 'SLUICE_ERR_TOO_MANY_ATTRIBUTES', message: `the event has ${p.count} attributes; the limit is ${ctx.maxAttributes}` };
  }

  let level = rawLevel === undefined ? undefined : levelOf(rawLevel, p.keys[2]!);
  if (rawLevel !== undefined && level === undefined) attributes.level_original = asText(rawLevel);
  level ??= { level: 'info', severity: LEVEL_SEVERITY.info };

  let message: string;
  if (rawMessage !== undefined) {
    message = asText(rawMessage);
    if (message.endsWith('\n')) message = message.slice(0, message.endsWith('\r\n') ? -2 : -1);
  }
  else message = p.count > 0 ? JSON.stringify(attributes) : '';

  let timeNs = ctx.defaultTimeNs ?? ctx.receivedNs;
  if (rawTime !== undefined) {
    const t = parseTimeNs(rawTime);
    if (t === undefined) return { code: 'SLUICE_ERR_INVALID_TIME', message: `cannot read time ${JSON.stringify(asText(rawTime)).slice(0, 80)}` };
    timeNs = t;
  }
  return finish(
    {
      timeNs,
      service: asText(rawService) || ctx.defaultService,
      host: asText(rawHost) || ctx.defaultHost,
      level,
      message,
      attributes,
      traceId: asText(rawTrace),
      spanId: asText(rawSpan),
    },
    ctx,
  );
}

/** Normalizes one line of text: JSON and logfmt are parsed, other text is the message. */
export function normalizeLine(line: string, ctx: NormalizeContext): Normalized {
  const trimmed = line.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        return normalizeObject(parsed as Record<string, unknown>, ctx);
      }
    } catch {
      // not JSON: fall through to text
    }
  }
  const kv = parseLogfmt(line);
  if (kv !== undefined && (kv.msg !== undefined || kv.level !== undefined || kv.message !== undefined || kv.time !== undefined || kv.ts !== undefined)) {
    return normalizeObject(kv, ctx);
  }
  const level = guessLevel(line) ?? { level: 'info' as const, severity: LEVEL_SEVERITY.info };
  return finish(
    { timeNs: ctx.defaultTimeNs ?? ctx.receivedNs, service: ctx.defaultService, host: ctx.defaultHost, level, message: line, attributes: {}, traceId: '', spanId: '' },
    ctx,
  );
}

/** What a source knows of an event before `finish` makes it a LogEvent. */
export interface EventParts {
  timeNs: bigint;
  service: string;
  host: string;
  level: LevelInfo;
  message: string;
  attributes: Record<string, string>;
  traceId: string;
  spanId: string;
}

// Exported for drains whose records come with typed fields (OTLP): they build
// the parts themselves and share the retention clamping and ids.
export function finish(p: EventParts, ctx: NormalizeContext): LogEvent {
  let timeNs = p.timeNs;
  // An event older than the retention would be dropped by the TTL at insert:
  // keep it at the received time, with its own time as an attribute, rather
  // than acknowledge it and lose it. Far-future times are clamped alike.
  if (timeNs < ctx.oldestNs || timeNs > ctx.newestNs) {
    p.attributes.original_time = formatRfc3339(timeNs);
    timeNs = ctx.receivedNs;
  }
  return {
    id: uuidv7(Number(timeNs / 1_000_000n)),
    timeNs,
    receivedNs: ctx.receivedNs,
    service: p.service,
    host: p.host,
    level: p.level.level,
    severity: p.level.severity,
    message: p.message,
    attributes: p.attributes,
    traceId: p.traceId,
    spanId: p.spanId,
  };
}

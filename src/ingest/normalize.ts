// Any decoded record becomes a LogEvent here. Everything after this knows
// nothing of wire formats or of which logger wrote the record.
import type { ErrorCode } from '../errors.js';
import type { LogEvent } from '../model/event.js';
import { uuidv7 } from '../model/id.js';
import { type LevelInfo, LEVEL_SEVERITY, parseLevel } from '../model/levels.js';
import { formatRfc3339, parseTimeNs } from '../model/time.js';
import { parseLogfmt } from './logfmt.js';

export interface NormalizeContext {
  readonly receivedNs: bigint;
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

// First key present wins. Keys are matched after nested objects are
// flattened with dots, so {"service":{"name":"api"}} is service.name.
const MESSAGE_KEYS = ['msg', 'message', '@message', 'log'];
const TIME_KEYS = ['time', 'timestamp', 'ts', '@timestamp', 't'];
const LEVEL_KEYS = ['level', 'severity', 'lvl', 'loglevel', 'levelname', 'log.level', 'severity_text', 'level_name'];
const SERVICE_KEYS = ['service', 'service.name', 'service_name', 'app', 'application'];
const HOST_KEYS = ['host', 'hostname', 'host.name'];
const TRACE_KEYS = ['trace_id', 'traceId', 'trace.id', 'traceid'];
const SPAN_KEYS = ['span_id', 'spanId', 'span.id', 'spanid'];

type Flat = Map<string, unknown>;

function flatten(obj: Record<string, unknown>, prefix: string, out: Flat, depth: number): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix === '' ? k : `${prefix}.${k}`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 8) {
      flatten(v as Record<string, unknown>, key, out, depth + 1);
    } else {
      out.set(key, v);
    }
  }
}

function take(flat: Flat, keys: readonly string[]): unknown {
  for (const k of keys) {
    if (flat.has(k)) {
      const v = flat.get(k);
      flat.delete(k);
      if (v !== undefined && v !== null && v !== '') return v;
    }
  }
  return undefined;
}

function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function levelOf(v: unknown, key: 'level' | 'severity'): LevelInfo | undefined {
  // A numeric `severity` is an OpenTelemetry severity number; a numeric
  // `level` is pino's/bunyan's 10..60.
  return parseLevel(v, key === 'severity' ? 'otel' : 'pino');
}

/** Normalizes one JSON object. */
export function normalizeObject(obj: Record<string, unknown>, ctx: NormalizeContext): Normalized {
  const flat: Flat = new Map();
  flatten(obj, '', flat, 0);
  const hadSeverityKey = !flat.has('level') && flat.has('severity');
  const rawMessage = take(flat, MESSAGE_KEYS);
  const rawTime = take(flat, TIME_KEYS);
  const rawLevel = take(flat, LEVEL_KEYS);
  const service = asText(take(flat, SERVICE_KEYS));
  const host = asText(take(flat, HOST_KEYS));
  const traceId = asText(take(flat, TRACE_KEYS));
  const spanId = asText(take(flat, SPAN_KEYS));

  if (flat.size > ctx.maxAttributes) {
    return { code: 'SLUICE_ERR_TOO_MANY_ATTRIBUTES', message: `the event has ${flat.size} attributes; the limit is ${ctx.maxAttributes}` };
  }
  const attributes: Record<string, string> = {};
  for (const [k, v] of flat) attributes[k] = asText(v);

  let level = rawLevel === undefined ? undefined : levelOf(rawLevel, hadSeverityKey ? 'severity' : 'level');
  if (rawLevel !== undefined && level === undefined) attributes.level_original = asText(rawLevel);
  level ??= { level: 'info', severity: LEVEL_SEVERITY.info };

  let message: string;
  if (rawMessage !== undefined) message = asText(rawMessage).replace(/\r?\n$/, '');
  else message = Object.keys(attributes).length > 0 ? JSON.stringify(attributes) : '';

  let timeNs = ctx.receivedNs;
  if (rawTime !== undefined) {
    const t = parseTimeNs(rawTime);
    if (t === undefined) return { code: 'SLUICE_ERR_INVALID_TIME', message: `cannot read time ${JSON.stringify(asText(rawTime)).slice(0, 80)}` };
    timeNs = t;
  }
  return finish(
    { timeNs, service: service || ctx.defaultService, host: host || ctx.defaultHost, level, message, attributes, traceId, spanId },
    ctx,
  );
}

// A level marker near the start of a plain line: "ERROR ...", "[warn] ...",
// "level=..." is logfmt and handled before this.
const MARKER = /^(?:\S+\s+){0,3}?[[(<]?(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRIT|CRITICAL|FATAL|PANIC|EMERG|SEVERE|trace|debug|info|warn|warning|error|fatal)[\])>:]?(?:\s|$)/;

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
  const marker = MARKER.exec(line.slice(0, 120));
  const level = (marker && parseLevel(marker[1])) || { level: 'info' as const, severity: LEVEL_SEVERITY.info };
  return finish(
    { timeNs: ctx.receivedNs, service: ctx.defaultService, host: ctx.defaultHost, level, message: line, attributes: {}, traceId: '', spanId: '' },
    ctx,
  );
}

interface Partial {
  timeNs: bigint;
  service: string;
  host: string;
  level: LevelInfo;
  message: string;
  attributes: Record<string, string>;
  traceId: string;
  spanId: string;
}

function finish(p: Partial, ctx: NormalizeContext): LogEvent {
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

// OTLP logs → LogEvent[]. Works on the OTLP/JSON shape: a JSON body as
// parsed, or a protobuf body after toObject (same keys; only the id and
// bytes encodings differ, see IdEncoding). Pure: no I/O.
import type { LogEvent } from '../../model/event.js';
import { type LevelInfo, LEVEL_SEVERITY, levelFromSeverityNumber, parseLevel } from '../../model/levels.js';
import { SluiceError } from '../../errors.js';
import { finish, type NormalizeContext } from '../normalize.js';
import type { Decoded, Rejection } from '../pipeline.js';

/** traceId/spanId: hex strings in OTLP/JSON, base64 (bytes) from protobuf toObject. */
export type IdEncoding = 'hex' | 'base64';


type Obj = Record<string, unknown>;
const MAX_DEPTH = 32;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function list(v: unknown, what: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new SluiceError('SLUICE_ERR_VALIDATION', `${what} must be an array`);
  return v;
}

/** An AnyValue as a plain JS value (for JSON and text). */
function plain(v: unknown, depth = 0): unknown {
  if (!isObj(v) || depth > MAX_DEPTH) return null;
  if (v.stringValue !== undefined) return String(v.stringValue);
  if (v.boolValue !== undefined) return Boolean(v.boolValue);
  if (v.intValue !== undefined) {
    // int64: a JSON number when it fits, its decimal text otherwise.
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : String(v.intValue);
  }
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.bytesValue !== undefined) return String(v.bytesValue);
  if (isObj(v.arrayValue)) return list(v.arrayValue.values, 'arrayValue.values').map((x) => plain(x, depth + 1));
  if (isObj(v.kvlistValue)) {
    const out: Obj = {};
    for (const kv of list(v.kvlistValue.values, 'kvlistValue.values')) {
      if (isObj(kv) && typeof kv.key === 'string') out[kv.key] = plain(kv.value, depth + 1);
    }
    return out;
  }
  return null;
}

/** An AnyValue as attribute or message text: strings as they are, the rest as JSON. */
function text(v: unknown): string {
  const p = plain(v);
  if (p === null) return '';
  if (typeof p === 'string') return p;
  if (typeof p === 'object') return JSON.stringify(p);
  return String(p);
}

function addAttributes(into: Record<string, string>, kvs: unknown, what: string): void {
  for (const kv of list(kvs, what)) {
    if (isObj(kv) && typeof kv.key === 'string' && kv.key !== '') into[kv.key] = text(kv.value);
  }
}

// 64-bit times: decimal strings in OTLP/JSON (numbers accepted too, as the
// spec asks), Long→String from protobuf. 0 or absent means unset.
function nanos(v: unknown): bigint | undefined | 'bad' {
  if (v === undefined || v === null || v === '' || v === 0 || v === '0') return undefined;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return BigInt(Math.trunc(v));
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt(v);
  return 'bad';
}

function id(v: unknown, enc: IdEncoding): string {
  if (typeof v !== 'string' || v === '') return '';
  const hex = enc === 'hex' ? v.toLowerCase() : Buffer.from(v, 'base64').toString('hex');
  // An all-zero id is OTLP's "no id".
  return /^0*$/.test(hex) ? '' : hex;
}

function levelOf(rec: Obj, attributes: Record<string, string>): LevelInfo {
  const n = Number(rec.severityNumber ?? 0);
  if (Number.isInteger(n) && n >= 1 && n <= 24) return levelFromSeverityNumber(n);
  const t = typeof rec.severityText === 'string' ? rec.severityText : '';
  if (t === '') return { level: 'info', severity: LEVEL_SEVERITY.info };
  const parsed = parseLevel(t);
  if (parsed === undefined) attributes.level_original = t;
  return parsed ?? { level: 'info', severity: LEVEL_SEVERITY.info };
}

/** The events of an ExportLogsServiceRequest; records that cannot be stored are counted. */
export function otlpEvents(request: unknown, ctx: NormalizeContext, ids: IdEncoding): Decoded {
  if (!isObj(request)) throw new SluiceError('SLUICE_ERR_VALIDATION', 'the body must be an ExportLogsServiceRequest object');
  const events: LogEvent[] = [];
  const rejections: Rejection[] = [];
  let records = 0;
  const reject = (code: Rejection['code'], message: string) => rejections.push({ index: records - 1, code, message });
  for (const rl of list(request.resourceLogs, 'resourceLogs')) {
    if (!isObj(rl)) continue;
    const resource: Record<string, string> = {};
    if (isObj(rl.resource)) addAttributes(resource, rl.resource.attributes, 'resource.attributes');
    const { 'service.name': service, 'host.name': host, ...resourceRest } = resource;
    for (const sl of list(rl.scopeLogs, 'scopeLogs')) {
      if (!isObj(sl)) continue;
      const scope: Record<string, string> = {};
      if (isObj(sl.scope)) {
        // The collector's names for the scope when it leaves OTLP.
        if (typeof sl.scope.name === 'string' && sl.scope.name !== '') scope['otel.scope.name'] = sl.scope.name;
        if (typeof sl.scope.version === 'string' && sl.scope.version !== '') scope['otel.scope.version'] = sl.scope.version;
        addAttributes(scope, sl.scope.attributes, 'scope.attributes');
      }
      for (const rec of list(sl.logRecords, 'logRecords')) {
        records++;
        if (!isObj(rec)) {
          reject('SLUICE_ERR_INVALID_EVENT', `log record ${records - 1} is not an object`);
          continue;
        }
        const attributes: Record<string, string> = { ...resourceRest, ...scope };
        addAttributes(attributes, rec.attributes, 'attributes');
        if (typeof rec.eventName === 'string' && rec.eventName !== '') attributes['event.name'] = rec.eventName;
        const count = Object.keys(attributes).length;
        if (count > ctx.maxAttributes) {
          reject('SLUICE_ERR_TOO_MANY_ATTRIBUTES', `log record ${records - 1} has ${count} attributes; the limit is ${ctx.maxAttributes}`);
          continue;
        }
        const t = nanos(rec.timeUnixNano);
        const observed = nanos(rec.observedTimeUnixNano);
        if (t === 'bad' || observed === 'bad') {
          reject('SLUICE_ERR_INVALID_TIME', `log record ${records - 1} has a time that is not a count of nanoseconds`);
          continue;
        }
        const level = levelOf(rec, attributes);
        events.push(
          finish(
            {
              timeNs: t ?? observed ?? ctx.receivedNs,
              service: service || ctx.defaultService,
              host: host || ctx.defaultHost,
              level,
              message: text(rec.body),
              attributes,
              traceId: id(rec.traceId, ids),
              spanId: id(rec.spanId, ids),
            },
            ctx,
          ),
        );
      }
    }
  }
  return { events, rejections, records };
}

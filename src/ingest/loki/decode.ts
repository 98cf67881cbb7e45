// Loki push bodies → LogEvent[]. Both wire shapes (snappy protobuf, JSON;
// and the legacy JSON of /api/prom/push) become streams of entries first,
// then one mapping: labels and structured metadata name the service, level
// and host; the rest are attributes. A line that is JSON or logfmt is parsed
// as /api/v1/ingest would, so pino-loki's JSON lines keep their fields.
import { SluiceError } from '../../errors.js';
import type { LogEvent } from '../../model/event.js';
import { parseLevel } from '../../model/levels.js';
import { formatRfc3339, parseIsoNs } from '../../model/time.js';
import { parseLogfmt } from '../logfmt.js';
import { isRejection, type NormalizeContext, normalizeObject } from '../normalize.js';
import type { Decoded, Rejection } from '../pipeline.js';
import { parseLabels } from './labels.js';
import { PushRequest } from './schema.js';

export interface LokiEntry {
  readonly ns: bigint | undefined;
  readonly line: string;
  readonly metadata: Record<string, string>;
}

export interface LokiStream {
  readonly labels: Record<string, string> | string;
  readonly entries: LokiEntry[];
}


type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

// The first label present (labels, then structured metadata) feeds the field.
const SERVICE = ['service_name', 'service', 'app', 'job'];
const LEVEL = ['level', 'detected_level', 'severity'];
const HOST = ['host', 'hostname', 'instance'];

function bad(message: string): SluiceError {
  return new SluiceError('SLUICE_ERR_VALIDATION', message);
}

function nsOf(v: unknown): bigint | undefined {
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return BigInt(Math.trunc(v));
  return undefined;
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObj(v)) return out;
  for (const [k, x] of Object.entries(v)) out[k] = typeof x === 'string' ? x : JSON.stringify(x);
  return out;
}

/** Streams of a JSON push (current or legacy shape). */
export function jsonStreams(body: unknown): LokiStream[] {
  if (!isObj(body) || !Array.isArray(body.streams)) throw bad('the body must be {"streams": [...]}');
  return body.streams.map((s: unknown, i): LokiStream => {
    if (!isObj(s)) throw bad(`streams[${i}] is not an object`);
    if (Array.isArray(s.values)) {
      if (!isObj(s.stream)) throw bad(`streams[${i}].stream must be an object of labels`);
      const labels = stringMap(s.stream);
      const entries = s.values.map((v: unknown, j): LokiEntry => {
        if (!Array.isArray(v) || v.length < 2 || typeof v[1] !== 'string') throw bad(`streams[${i}].values[${j}] must be [timestamp, line] or [timestamp, line, metadata]`);
        return { ns: nsOf(v[0]), line: v[1], metadata: stringMap(v[2]) };
      });
      return { labels, entries };
    }
    if (typeof s.labels === 'string' && Array.isArray(s.entries)) {
      const entries = s.entries.map((e: unknown, j): LokiEntry => {
        if (!isObj(e) || typeof e.line !== 'string') throw bad(`streams[${i}].entries[${j}] must be {"ts": …, "line": …}`);
        return { ns: typeof e.ts === 'string' ? parseIsoNs(e.ts) : undefined, line: e.line, metadata: {} };
      });
      return { labels: parseLabels(s.labels), entries };
    }
    throw bad(`streams[${i}] has neither stream/values nor labels/entries`);
  });
}

/** Streams of a protobuf PushRequest (already snappy-decoded). */
export function protobufStreams(body: Buffer): LokiStream[] {
  let obj: Obj;
  try {
    obj = PushRequest.toObject(PushRequest.decode(body), { longs: String }) as Obj;
  } catch (e) {
    throw new SluiceError('SLUICE_ERR_INVALID_PROTOBUF', `the body is not a valid logproto.PushRequest: ${(e as Error).message}`);
  }
  return ((obj.streams as Obj[] | undefined) ?? []).map((s) => ({
    labels: parseLabels(typeof s.labels === 'string' ? s.labels : ''),
    entries: ((s.entries as Obj[] | undefined) ?? []).map((e): LokiEntry => {
      const ts = isObj(e.timestamp) ? e.timestamp : {};
      const seconds = nsOf(ts.seconds ?? '0');
      const nanos = Number(ts.nanos ?? 0);
      const metadata: Record<string, string> = {};
      for (const p of (e.structuredMetadata as Obj[] | undefined) ?? []) {
        if (typeof p.name === 'string') metadata[p.name] = typeof p.value === 'string' ? p.value : '';
      }
      return {
        ns: seconds === undefined || !Number.isInteger(nanos) || nanos < 0 ? undefined : seconds * 1_000_000_000n + BigInt(nanos),
        line: typeof e.line === 'string' ? e.line : '',
        metadata,
      };
    }),
  }));
}

function pick(keys: readonly string[], ...sets: Array<Record<string, string>>): { value: string; key: string; from: Record<string, string> } | undefined {
  for (const set of sets) {
    for (const key of keys) {
      const value = set[key];
      if (value !== undefined && value !== '') return { value, key, from: set };
    }
  }
  return undefined;
}

function lineObject(line: string): Obj {
  if (line.trimStart().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(line);
      if (isObj(parsed)) return parsed;
    } catch {
      // not JSON: text
    }
  }
  const kv = parseLogfmt(line);
  if (kv !== undefined && (kv.msg !== undefined || kv.message !== undefined || kv.level !== undefined)) return kv;
  return { message: line };
}

/** The events of a push. Entries that cannot be stored are reported, the rest kept. */
export function lokiEvents(streams: readonly LokiStream[], ctx: NormalizeContext, maxLineBytes: number): Decoded {
  const events: LogEvent[] = [];
  const rejections: Rejection[] = [];
  let entries = 0;
  // Entries are numbered across the push in the order they were sent.
  const reject = (r: Omit<Rejection, 'index'>) => rejections.push({ index: entries - 1, code: r.code, message: r.message });
  for (const stream of streams) {
    if (typeof stream.labels === 'string') {
      for (let k = 0; k < stream.entries.length; k++) {
        entries++;
        reject({ code: 'SLUICE_ERR_VALIDATION', message: `bad stream labels: ${stream.labels}` });
      }
      continue;
    }
    const labels = stream.labels;
    for (const entry of stream.entries) {
      entries++;
      if (entry.ns === undefined) {
        reject({ code: 'SLUICE_ERR_INVALID_TIME', message: 'an entry timestamp is not Unix nanoseconds as a string' });
        continue;
      }
      if (Buffer.byteLength(entry.line) > maxLineBytes) {
        reject({ code: 'SLUICE_ERR_LINE_TOO_LARGE', message: `an entry line is longer than SLUICE_MAX_LINE_BYTES (${maxLineBytes})` });
        continue;
      }
      const meta = entry.metadata;
      const usedLabels = new Set<string>();
      const usedMeta = new Set<string>();
      const obj = lineObject(entry.line);
      // The entry's own timestamp is the event time, exactly (as RFC 3339,
      // so a small number is never taken for seconds).
      obj.time = formatRfc3339(entry.ns);
      for (const [field, keys] of [['service', SERVICE], ['level', LEVEL], ['host', HOST]] as const) {
        const hit = pick(keys, labels, meta);
        if (hit === undefined) continue;
        // A level word we cannot read stays an attribute, not a lost label.
        if (field === 'level' && parseLevel(hit.value) === undefined) continue;
        obj[field] = hit.value;
        (hit.from === meta ? usedMeta : usedLabels).add(hit.key);
        // winston-loki repeats the level label as metadata: say it once.
        for (const k of keys) if (meta[k] === hit.value) usedMeta.add(k);
      }
      const ev = normalizeObject(obj, ctx);
      if (isRejection(ev)) {
        reject(ev);
        continue;
      }
      // Labels and metadata the line does not already carry, but not the
      // ones that became service, level or host.
      for (const [k, v] of Object.entries(labels)) if (!usedLabels.has(k) && !(k in ev.attributes)) ev.attributes[k] = v;
      for (const [k, v] of Object.entries(meta)) {
        if (usedMeta.has(k) || k in ev.attributes) continue;
        if ((k === 'trace_id' || k === 'traceID' || k === 'traceId') && ev.traceId === '') ev.traceId = v;
        else if ((k === 'span_id' || k === 'spanID' || k === 'spanId') && ev.spanId === '') ev.spanId = v;
        else ev.attributes[k] = v;
      }
      if (Object.keys(ev.attributes).length > ctx.maxAttributes) {
        reject({ code: 'SLUICE_ERR_TOO_MANY_ATTRIBUTES', message: `an entry has more than ${ctx.maxAttributes} attributes with its labels` });
        continue;
      }
      events.push(ev);
    }
  }
  return { events, rejections, records: entries };
}

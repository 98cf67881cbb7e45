// /api/v1/ingest bodies: NDJSON, a JSON object or array, or plain text lines.
// Each record is normalized on its own, so one bad line never costs the
// valid ones beside it.
import { type ErrorCode, SluiceError } from '../errors.js';
import type { LogEvent } from '../model/event.js';
import { type LineMeta, LineRuns } from './line-meta.js';
import { isRejection, type NormalizeContext, type Normalized, normalizeLine, normalizeObject } from './normalize.js';
import type { Decoded, Rejection } from './pipeline.js';

export type BodyKind = 'ndjson' | 'json' | 'text';

/** Media types of /api/v1/ingest and the body kind each is read as. */
export const BODY_KINDS: ReadonlyMap<string, BodyKind> = new Map([
  ['application/x-ndjson', 'ndjson'],
  ['application/ndjson', 'ndjson'],
  ['application/jsonl', 'ndjson'],
  ['application/x-jsonlines', 'ndjson'],
  ['application/json', 'json'],
  ['text/plain', 'text'],
]);

class Collector implements Decoded {
  readonly events: LogEvent[] = [];
  readonly rejections: Rejection[] = [];
  records = 0;

  add(index: number, r: Normalized): void {
    this.records++;
    if (isRejection(r)) this.reject(index, r.code, r.message, false);
    else this.events.push(r);
  }

  reject(index: number, code: ErrorCode, message: string, count = true): void {
    if (count) this.records++;
    this.rejections.push({ index, code, message });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function eachLine(text: string, maxLineBytes: number, c: Collector, fn: (line: string, index: number) => void): void {
  let start = 0;
  let index = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    let line = text.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim().length > 0) {
      // Characters bound bytes from below; count bytes only when it matters.
      if (line.length * 3 > maxLineBytes && Buffer.byteLength(line) > maxLineBytes) {
        c.reject(index, 'SLUICE_ERR_LINE_TOO_LARGE', `line is longer than SLUICE_MAX_LINE_BYTES (${maxLineBytes} bytes)`);
      } else {
        fn(line, index);
      }
    }
    index++;
    start = end + 1;
  }
}

export function decodeBody(kind: BodyKind, body: Buffer, ctx: NormalizeContext, maxLineBytes: number, meta?: LineMeta): Decoded {
  const c = new Collector();
  const text = body.toString('utf8');
  if (kind === 'json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new SluiceError('SLUICE_ERR_MALFORMED_JSON', `the body is not valid JSON: ${(e as Error).message}`);
    }
    const items = Array.isArray(parsed) ? parsed : [parsed];
    items.forEach((item, index) => {
      if (isObject(item)) c.add(index, normalizeObject(item, ctx));
      else if (typeof item === 'string' && item.length > 0) c.add(index, normalizeLine(item, ctx));
      else c.reject(index, 'SLUICE_ERR_INVALID_EVENT', 'an event must be a JSON object or a string');
    });
  } else if (kind === 'ndjson') {
    eachLine(text, maxLineBytes, c, (line, index) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (e) {
        c.reject(index, 'SLUICE_ERR_MALFORMED_JSON', `line ${index + 1} is not valid JSON: ${(e as Error).message}`);
        return;
      }
      if (isObject(parsed)) c.add(index, normalizeObject(parsed, ctx));
      else c.reject(index, 'SLUICE_ERR_INVALID_EVENT', `line ${index + 1} is not a JSON object`);
    });
  } else if (meta !== undefined) {
    const runs = new LineRuns(meta);
    const local: { -readonly [K in keyof NormalizeContext]: NormalizeContext[K] } = { ...ctx };
    eachLine(text, maxLineBytes, c, (line, index) => {
      runs.at(index);
      local.defaultTimeNs = runs.timeNs(index);
      const r = normalizeLine(line, local);
      if (!isRejection(r)) runs.fill(r.attributes);
      c.add(index, r);
    });
  } else {
    eachLine(text, maxLineBytes, c, (line, index) => c.add(index, normalizeLine(line, ctx)));
  }
  return c;
}

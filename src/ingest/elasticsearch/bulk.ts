// An Elasticsearch _bulk body → LogEvent[] and one result item per action,
// in request order (clients match items to what they sent by position).
// Pure: no I/O. Documents are ECS or any JSON: normalizeObject maps
// @timestamp, message, log.level, service.name and host.name; the index is
// kept as the attribute `_index`.
import { ERRORS, type ErrorCode, SluiceError } from '../../errors.js';
import type { LogEvent } from '../../model/event.js';
import { isRejection, type NormalizeContext, normalizeObject } from '../normalize.js';
import type { Decoded, Rejection } from '../pipeline.js';

export interface BulkError {
  readonly type: string;
  readonly reason: string;
  readonly sluice_code: ErrorCode;
}

export interface BulkItem {
  readonly action: string;
  readonly index: string;
  readonly id: string | undefined;
  /** 201 when the document becomes an event; the event is `events[event]`. */
  readonly status: number;
  readonly event?: number;
  readonly error?: BulkError;
}

export interface BulkParsed extends Decoded {
  readonly items: BulkItem[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const ACTIONS = new Set(['index', 'create', 'update', 'delete']);

function requestError(line: number, reason: string): SluiceError {
  return new SluiceError('SLUICE_ERR_VALIDATION', `action/metadata line [${line}]: ${reason}`);
}

function itemError(code: ErrorCode, type: string, reason: string): { status: number; error: BulkError } {
  return { status: ERRORS[code].status, error: { type, reason, sluice_code: code } };
}

/**
 * Parses NDJSON action/source pairs. A broken action line breaks the pairing
 * of everything after it, so it fails the whole request (as Elasticsearch
 * does); a broken document fails only its own item.
 */
export function parseBulk(body: string, defaultIndex: string | undefined, ctx: NormalizeContext, maxLineBytes: number): BulkParsed {
  const lines = body.split('\n');
  const items: BulkItem[] = [];
  const events: LogEvent[] = [];
  let i = 0;
  // rsyslog leaves blank lines between pairs; \r\n is allowed.
  const next = (): { text: string; n: number } | undefined => {
    while (i < lines.length) {
      const text = lines[i]!.replace(/\r$/, '');
      i++;
      if (text.trim() !== '') return { text, n: i };
    }
    return undefined;
  };
  for (let line = next(); line !== undefined; line = next()) {
    let action: unknown;
    try {
      action = JSON.parse(line.text);
    } catch (e) {
      throw new SluiceError('SLUICE_ERR_MALFORMED_JSON', `action/metadata line [${line.n}] is not valid JSON: ${(e as Error).message}`);
    }
    const keys = isObj(action) ? Object.keys(action) : [];
    const name = keys[0];
    if (keys.length !== 1 || name === undefined || !isObj(action)) throw requestError(line.n, 'expected an object with one action');
    if (!ACTIONS.has(name)) throw requestError(line.n, `unknown action [${name}]`);
    const meta = action[name];
    if (!isObj(meta)) throw requestError(line.n, `the metadata of [${name}] must be an object`);
    // `_type` (Elasticsearch ≤ 6, rsyslog's default) is ignored.
    const index = typeof meta._index === 'string' && meta._index !== '' ? meta._index : (defaultIndex ?? '');
    const id = typeof meta._id === 'string' || typeof meta._id === 'number' ? String(meta._id) : undefined;
    if (name === 'delete') {
      items.push({ action: name, index, id, ...itemError('SLUICE_ERR_VALIDATION', 'action_request_validation_exception', 'Sluice keeps logs as sent: delete is not supported') });
      continue;
    }
    const source = next();
    if (source === undefined) throw requestError(line.n, `[${name}] has no source line after it`);
    if (name === 'update') {
      items.push({ action: name, index, id, ...itemError('SLUICE_ERR_VALIDATION', 'action_request_validation_exception', 'Sluice keeps logs as sent: update is not supported') });
      continue;
    }
    if (Buffer.byteLength(source.text) > maxLineBytes) {
      items.push({ action: name, index, id, ...itemError('SLUICE_ERR_LINE_TOO_LARGE', 'document_parsing_exception', `the document is longer than SLUICE_MAX_LINE_BYTES (${maxLineBytes})`) });
      continue;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(source.text);
    } catch (e) {
      items.push({ action: name, index, id, ...itemError('SLUICE_ERR_MALFORMED_JSON', 'document_parsing_exception', `line [${source.n}] is not valid JSON: ${(e as Error).message}`) });
      continue;
    }
    if (!isObj(doc)) {
      items.push({ action: name, index, id, ...itemError('SLUICE_ERR_INVALID_EVENT', 'document_parsing_exception', `line [${source.n}] is not a JSON object`) });
      continue;
    }
    const ev = normalizeObject(doc, ctx);
    if (isRejection(ev)) {
      items.push({ action: name, index, id, ...itemError(ev.code, 'document_parsing_exception', ev.message) });
      continue;
    }
    if (index !== '') ev.attributes._index = index;
    items.push({ action: name, index, id: id ?? ev.id, status: 201, event: events.length });
    events.push(ev);
  }
  const rejections: Rejection[] = [];
  items.forEach((it, index) => it.error && rejections.push({ index, code: it.error.sluice_code, message: it.error.reason }));
  return { items, events, rejections, records: items.length };
}

/** The compact _bulk answer: `took`, `errors` and one item per action. */
export function bulkResponse(items: readonly BulkItem[], tookMs: number): string {
  let errors = false;
  const out = items.map((it) => {
    if (it.error !== undefined) {
      errors = true;
      return { [it.action]: { _index: it.index, _id: it.id ?? null, status: it.status, error: it.error } };
    }
    return {
      [it.action]: {
        _index: it.index, _id: it.id, _version: 1, result: 'created',
        _shards: { total: 1, successful: 1, failed: 0 }, _seq_no: 0, _primary_term: 1, status: it.status,
      },
    };
  });
  return JSON.stringify({ took: tookMs, errors, items: out });
}

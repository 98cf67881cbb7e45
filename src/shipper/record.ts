// One line (or joined record) of an app's output to the event object the
// shipper sends. JSON lines (pino, bunyan, winston, zap, logrus) go as they
// are — the server maps their fields; logfmt lines are parsed; plain lines
// get the level guessed from their markers. The time the line was read is
// attached when the line has none, so a batch that waits in the spool keeps
// the real time.
import { parseLogfmt } from '../ingest/logfmt.js';
import { guessLevel } from '../model/level-guess.js';
import type { Line } from './lines.js';

export interface RecordContext {
  readonly service: string | undefined;
  readonly host: string;
  readonly attrs: Readonly<Record<string, string>>;
}

const TIME_KEYS = ['time', 'timestamp', 'ts', '@timestamp', 't'];

function hasAny(o: Record<string, unknown>, keys: readonly string[]): boolean {
  return keys.some((k) => o[k] !== undefined && o[k] !== null && o[k] !== '');
}

// Read times with a counter below the millisecond, so lines read in the same
// millisecond keep their order when sorted by time. The millisecond part is
// formatted once per millisecond.
let lastMs = 0;
let sub = 0;
let msText = '';

export function readTime(ms = Date.now()): string {
  if (ms <= lastMs) {
    sub++;
    if (sub > 999_999) {
      lastMs++;
      sub = 0;
      msText = new Date(lastMs).toISOString().slice(0, 23);
    }
  } else {
    lastMs = ms;
    sub = 0;
    msText = new Date(lastMs).toISOString().slice(0, 23);
  }
  return msText + String(sub).padStart(6, '0') + 'Z';
}

const q = JSON.stringify;
// logfmt is tried only when the line starts like it (`key=`).
const LOGFMT_START = /^[A-Za-z_][A-Za-z0-9_.-]*=/;

/**
 * The record as a JSON string. A JSON object line is checked by parsing but
 * sent as its own text with the missing fields appended, which is cheaper
 * than building it again.
 */
export function toRecord(line: Line, readAt: string, stream: 'stdout' | 'stderr' | undefined, ctx: RecordContext, file?: string): string {
  const t = line.text;
  let extra = '';
  const add = (k: string, v: string) => (extra += ',' + q(k) + ':' + q(v));
  let obj: Record<string, unknown> | undefined;
  if (t.charCodeAt(0) === 0x7b /* { */ && !line.truncated) {
    try {
      const parsed: unknown = JSON.parse(t);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) obj = parsed as Record<string, unknown>;
    } catch {
      // not JSON
    }
  }
  let head: string;
  if (obj) {
    const body = t.trimEnd();
    head = body.slice(0, -1).trimEnd();
    if (!hasAny(obj, TIME_KEYS)) add('time', readAt);
    if (ctx.service !== undefined && obj.service === undefined && obj.app === undefined) add('service', ctx.service);
    if (obj.host === undefined && obj.hostname === undefined) add('host', ctx.host);
    for (const [k, v] of Object.entries(ctx.attrs)) if (obj[k] === undefined) add(k, v);
    if (Object.keys(obj).length === 0) extra = extra.slice(1);
  } else {
    const kv = LOGFMT_START.test(t) && !t.includes('\n') ? parseLogfmt(t) : undefined;
    if (kv && (kv.msg !== undefined || kv.level !== undefined || kv.message !== undefined)) {
      const o: Record<string, unknown> = kv;
      if (!hasAny(o, TIME_KEYS)) o.time = readAt;
      if (ctx.service !== undefined && o.service === undefined && o.app === undefined) o.service = ctx.service;
      if (o.host === undefined && o.hostname === undefined) o.host = ctx.host;
      for (const [k, v] of Object.entries(ctx.attrs)) if (o[k] === undefined) o[k] = v;
      head = q(o).slice(0, -1);
    } else {
      head = '{"msg":' + q(t);
      const level = guessLevel(t);
      if (level) add('level', level.level);
      add('time', readAt);
      if (ctx.service !== undefined) add('service', ctx.service);
      add('host', ctx.host);
      for (const [k, v] of Object.entries(ctx.attrs)) add(k, v);
    }
  }
  if (stream) add('stream', stream);
  if (file) add('file', file);
  if (line.truncated) add('sluice.truncated', 'true');
  if (line.invalidUtf8) add('sluice.invalid_utf8', 'true');
  return head + extra + '}';
}

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

// A read time as RFC 3339 with nanoseconds: the millisecond, then `sub`
// nanoseconds that keep lines read in the same millisecond in order. The
// millisecond part is formatted once per millisecond.
let lastMs = -1;
let msText = '';

export function timeText(ms: number, sub: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    msText = new Date(ms).toISOString().slice(0, 23);
  }
  return msText + String(sub).padStart(6, '0') + 'Z';
}

const q = JSON.stringify;

function closesObject(t: string): boolean {
  let i = t.length - 1;
  while (i > 0 && (t.charCodeAt(i) === 0x20 || t.charCodeAt(i) === 0x09 || t.charCodeAt(i) === 0x0d)) i--;
  return t.charCodeAt(i) === 0x7d; // }
}
// logfmt is tried only when the line starts like it (`key=`).
const LOGFMT_START = /^[A-Za-z_][A-Za-z0-9_.-]*=/;

// What a plain line's record ends with is the same for every line of a
// context: built once.
const plainTails = new WeakMap<RecordContext, string>();
function plainTail(ctx: RecordContext): string {
  let t = plainTails.get(ctx);
  if (t === undefined) {
    t = (ctx.service !== undefined ? ',"service":' + q(ctx.service) : '') + ',"host":' + q(ctx.host);
    for (const [k, v] of Object.entries(ctx.attrs)) t += ',' + q(k) + ':' + q(v);
    plainTails.set(ctx, t);
  }
  return t;
}

/**
 * The record as a JSON string. A JSON object line is checked by parsing but
 * sent as its own text with the missing fields appended, which is cheaper
 * than building it again.
 */
export function toRecord(line: Line, readAt: string, stream: 'stdout' | 'stderr' | undefined, ctx: RecordContext, file?: string): string {
  const t = line.text;
  let head: string;
  // Parsed only when it opens and closes like an object: a failed parse
  // throws, and an exception costs several times a successful parse.
  const obj = t.charCodeAt(0) === 0x7b /* { */ && !line.truncated && closesObject(t) ? parseObject(t) : undefined;
  if (obj) {
    head = t.trimEnd().slice(0, -1).trimEnd();
    let extra = '';
    if (!hasAny(obj, TIME_KEYS)) extra += ',"time":"' + readAt + '"';
    if (ctx.service !== undefined && obj.service === undefined && obj.app === undefined) extra += ',"service":' + q(ctx.service);
    if (obj.host === undefined && obj.hostname === undefined) extra += ',"host":' + q(ctx.host);
    for (const k in ctx.attrs) if (obj[k] === undefined) extra += ',' + q(k) + ':' + q(ctx.attrs[k]);
    // An empty object has no field for the first comma to follow.
    head += head.length === 1 ? extra.slice(1) : extra;
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
      const level = guessLevel(t);
      head = '{"msg":' + q(t) + (level ? ',"level":"' + level.level + '"' : '') + ',"time":"' + readAt + '"' + plainTail(ctx);
    }
  }
  if (stream) head += ',"stream":"' + stream + '"';
  if (file) head += ',"file":' + q(file);
  if (line.truncated) head += ',"sluice.truncated":"true"';
  if (line.invalidUtf8) head += ',"sluice.invalid_utf8":"true"';
  return head + '}';
}

function parseObject(t: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(t);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // not JSON after all
  }
}

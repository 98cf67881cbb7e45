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
// millisecond keep their order when sorted by time.
let lastMs = 0;
let sub = 0;

export function readTime(ms = Date.now()): string {
  if (ms <= lastMs) {
    sub++;
    if (sub > 999_999) {
      lastMs++;
      sub = 0;
    }
  } else {
    lastMs = ms;
    sub = 0;
  }
  return new Date(lastMs).toISOString().slice(0, 23) + String(sub).padStart(6, '0') + 'Z';
}

export function toRecord(line: Line, readAt: string, stream: 'stdout' | 'stderr' | undefined, ctx: RecordContext, file?: string): string {
  let obj: Record<string, unknown> | undefined;
  const t = line.text;
  if (t.startsWith('{') && !line.truncated) {
    try {
      const parsed: unknown = JSON.parse(t);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) obj = parsed as Record<string, unknown>;
    } catch {
      // not JSON
    }
  }
  if (!obj) {
    const kv = t.includes('=') && !t.includes('\n') ? parseLogfmt(t) : undefined;
    if (kv && (kv.msg !== undefined || kv.level !== undefined || kv.message !== undefined)) obj = kv;
  }
  if (!obj) {
    obj = { msg: t };
    const level = guessLevel(t);
    if (level) obj.level = level.level;
  }
  if (!hasAny(obj, TIME_KEYS)) obj.time = readAt;
  if (ctx.service !== undefined && obj.service === undefined && obj.app === undefined) obj.service = ctx.service;
  if (obj.host === undefined && obj.hostname === undefined) obj.host = ctx.host;
  for (const [k, v] of Object.entries(ctx.attrs)) if (obj[k] === undefined) obj[k] = v;
  if (stream) obj.stream = stream;
  if (file) obj.file = file;
  if (line.truncated) obj['sluice.truncated'] = 'true';
  if (line.invalidUtf8) obj['sluice.invalid_utf8'] = 'true';
  return JSON.stringify(obj);
}

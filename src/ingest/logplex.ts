// POST /api/v1/drains/logplex (scope ingest): Heroku's HTTPS log drains.
// The body is RFC 6587 octet-counted frames of Logplex's RFC 5424-like
// messages (no STRUCTURED-DATA field). Logplex drops a batch for good on any
// 4xx and retries on 5xx, so every temporary condition answers 503; the
// Logplex-Frame-Id header makes a retried batch store once.
// https://github.com/heroku/logplex/blob/master/doc/README.http_drains.md
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { SluiceError } from '../errors.js';
import type { LogEvent } from '../model/event.js';
import { parseLevel } from '../model/levels.js';
import { type DrainDeps, lenientKey, registerDrain } from './drain.js';
import { parseLogfmt } from './logfmt.js';
import type { Decoded, Rejection } from './pipeline.js';
import type { NormalizeContext } from './normalize.js';
import { syslogEvent } from './syslog/event.js';
import { parseLogplexMessage } from './syslog/parse.js';

export interface FrameProblem {
  /** 1-based position of the frame in the body. */
  readonly frame: number;
  /** Byte offset where the frame starts. */
  readonly offset: number;
  readonly message: string;
}

export interface SplitBody {
  readonly frames: Buffer[];
  readonly problems: FrameProblem[];
}

const FRAME_START = /(\d{1,9}) <\d{1,3}>[1-9]/g;

/** The next offset at or after `from` where a frame (`LEN <PRI>V`) starts, or -1. */
function nextFrameStart(text: string, from: number): number {
  FRAME_START.lastIndex = from;
  for (let m = FRAME_START.exec(text); m; m = FRAME_START.exec(text)) {
    // Take the whole number: the match must not begin inside a longer one.
    const at = m.index;
    if (at === from || !/\d/.test(text[at - 1] ?? '')) return at;
    FRAME_START.lastIndex = at + 1;
  }
  return -1;
}

function startsFrame(text: string, at: number): boolean {
  FRAME_START.lastIndex = at;
  const m = FRAME_START.exec(text);
  return m !== null && m.index === at;
}

/**
 * Splits a logplex-1 body into frames. A frame whose declared length does not
 * land on the end of the body or on the next frame is reported and skipped,
 * and reading resumes at the next place a frame starts, so a wrong length or
 * a cut frame never costs its valid neighbours.
 */
export function splitFrames(body: Buffer, maxFrameBytes: number): SplitBody {
  // latin1 keeps one character per byte, so string offsets are byte offsets.
  const text = body.toString('latin1');
  const frames: Buffer[] = [];
  const problems: FrameProblem[] = [];
  let pos = 0;
  let n = 0;
  const skipTo = (from: number, message: string, at: number): boolean => {
    problems.push({ frame: n, offset: at, message });
    const next = nextFrameStart(text, from);
    if (next < 0) return false;
    pos = next;
    return true;
  };
  while (pos < text.length) {
    while (pos < text.length && (text[pos] === '\n' || text[pos] === '\r' || text[pos] === ' ')) pos++;
    if (pos >= text.length) break;
    n++;
    const at = pos;
    const m = /^(\d{1,9}) /.exec(text.slice(pos, pos + 11));
    if (!m) {
      if (!skipTo(pos + 1, 'expected a frame length (digits and a space)', at)) break;
      continue;
    }
    const len = Number(m[1]);
    const start = pos + m[0].length;
    const end = start + len;
    if (end > text.length) {
      if (!skipTo(start, `the frame declares ${len} bytes but only ${text.length - start} follow`, at)) break;
      continue;
    }
    // A declared length is right when the frame is a message (`<PRI>…`) that
    // ends where Logplex ends each one, with LF, or at the end of the body,
    // or where the next frame starts.
    let next = end;
    while (next < text.length && (text[next] === '\n' || text[next] === '\r')) next++;
    const fits = text[end - 1] === '\n' || next >= text.length || startsFrame(text, next);
    if (text[start] !== '<' || !fits) {
      if (!skipTo(start, `the frame declares ${len} bytes, which do not end where its message does`, at)) break;
      continue;
    }
    if (len > maxFrameBytes) {
      problems.push({ frame: n, offset: at, message: `the frame is ${len} bytes, longer than SLUICE_MAX_LINE_BYTES (${maxFrameBytes})` });
    } else if (len > 0) {
      frames.push(body.subarray(start, end));
    }
    pos = end;
  }
  return { frames, problems };
}

const DRAIN_TOKEN = /^d\.[0-9a-f-]{36}$/i;

/** One Logplex message as an event; `service` (from ?service=) wins over APP-NAME. */
export function logplexEvent(frame: Buffer, nctx: NormalizeContext, service: string | undefined): LogEvent {
  const m = parseLogplexMessage(frame.toString('utf8'));
  // Two layouts are seen: `host app web.1 -` (logplex_http_drain.erl) and
  // `heroku web.3 d.<drain token> -` (the labs article): positions, not names.
  const labs = DRAIN_TOKEN.test(m.procId);
  const source = labs ? m.hostname : m.appName;
  const dyno = labs ? m.appName : m.procId;
  const attributes: Record<string, string> = {};
  if (source !== '') attributes['heroku.source'] = source;
  if (dyno !== '') {
    attributes['heroku.dyno'] = dyno;
    attributes['heroku.process_type'] = dyno.split('.')[0]!;
  }
  let level;
  if (source === 'heroku' && dyno === 'router') {
    // at=info method=GET path="/" host=… status=200 …: every pair is an
    // attribute; `at` gives the level (router errors are at=error).
    const kv = parseLogfmt(m.message);
    if (kv) {
      Object.assign(attributes, kv);
      level = parseLevel(kv.at);
    }
  }
  // HOSTNAME is the literal `host` (or `heroku`) and PROCID is the dyno,
  // already kept above: neither is worth a field of its own.
  return syslogEvent({ ...m, procId: '', hostname: '' }, nctx, { attributes, service: service ?? source, host: dyno, level });
}

function sendText(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').send(text + '\n');
}

const MEDIA_TYPES: ReadonlyMap<string, 'logplex'> = new Map(['', 'application/logplex-1', 'application/x-logplex-1', 'text/plain'].map((t) => [t, 'logplex']));

interface LogplexDecoded extends Decoded {
  /** Frames in the body, good and bad. */
  readonly seen: number;
  readonly problems: readonly FrameProblem[];
}

export async function logplexRoutes(app: FastifyInstance, opts: { deps: DrainDeps; registry: Registry }): Promise<void> {
  const mismatches = new Counter({
    name: 'sluice_logplex_msg_count_mismatch_total',
    help: 'Logplex requests whose Logplex-Msg-Count differed from the frames in the body (what parsed was stored)',
    registers: [opts.registry],
  });

  registerDrain<'logplex', { service?: string }, LogplexDecoded>(app, opts.deps, {
    routes: [{ method: 'POST', url: '/api/v1/drains/logplex' }],
    mediaTypes: MEDIA_TYPES,
    accepts: 'Heroku drains send application/logplex-1',
    querystring: { type: 'object', properties: { service: { type: 'string', minLength: 1, maxLength: 256 } } },
    // A malformed Frame-Id must not turn into a 400 (Logplex would drop
    // the batch): it is then simply not used for deduplication.
    idempotencyKey: (req) => lenientKey(req.headers['logplex-frame-id']),
    decode({ query, body, limits, context }) {
      const { frames, problems } = splitFrames(body, limits.maxLineBytes);
      const rejections = problems.map((p): Rejection => ({ index: p.frame - 1, code: 'SLUICE_ERR_INVALID_FRAME', message: p.message }));
      if (frames.length === 0) {
        opts.deps.pipeline.reject(rejections);
        if (problems.length === 0) throw new SluiceError('SLUICE_ERR_EMPTY_BODY');
        throw new SluiceError('SLUICE_ERR_INVALID_FRAME', `no frame was valid: frame ${problems[0]!.frame} at byte ${problems[0]!.offset}: ${problems[0]!.message}`);
      }
      const nctx = context({ service: query.service });
      const events = frames.map((f) => logplexEvent(f, nctx, query.service));
      return { events, rejections, records: frames.length + problems.length, seen: frames.length + problems.length, problems };
    },
    respond(reply, { accepted, problems, seen }, { req }) {
      const declared = req.headers['logplex-msg-count'];
      const mismatch = declared !== undefined && Number(declared) !== seen;
      if (mismatch) mismatches.inc();
      let text = `stored ${accepted}`;
      if (problems.length > 0) {
        text += `; ${problems.length} invalid: ` + problems.slice(0, 5).map((p) => `frame ${p.frame} at byte ${p.offset}: ${p.message}`).join('; ');
      }
      if (mismatch) text += `; Logplex-Msg-Count says ${String(declared)} but the body holds ${seen}`;
      return sendText(reply, 200, text);
    },
    // Logplex reads only the status; a short text body is for people
    // testing with curl. Logplex drops a batch for good on any 4xx: a rate
    // limit is "later", not "never".
    renderError: (reply, err) => sendText(reply, err.code === 'SLUICE_ERR_RATE_LIMITED' ? 503 : err.statusCode, `${err.code}: ${err.message}`),
  });
}

// Syslog messages into fields: RFC 5424, RFC 3164 ("BSD", as observed) and
// Heroku's Logplex layout (RFC 5424 header with no STRUCTURED-DATA field).
// Pure functions; a message that does not parse comes back as `raw` with the
// reason, so the caller can still store it.
import { parseIsoNs } from '../../model/time.js';

export interface SdElement {
  readonly id: string;
  readonly params: Array<[string, string]>;
}

export interface SyslogMessage {
  readonly format: '5424' | '3164' | 'logplex' | 'raw';
  /** 0-23, undefined without a PRI. */
  readonly facility: number | undefined;
  /** 0-7, undefined without a PRI. */
  readonly severity: number | undefined;
  /** Undefined when the message has no (readable) time. */
  readonly timeNs: bigint | undefined;
  /** The timestamp text when it could not be read. */
  readonly badTime: string | undefined;
  readonly hostname: string;
  readonly appName: string;
  readonly procId: string;
  readonly msgId: string;
  readonly sd: readonly SdElement[];
  readonly message: string;
  /** Why the message did not parse (format 'raw'). */
  readonly error: string | undefined;
}

const FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'audit', 'alert', 'clock2',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
];

export function facilityName(f: number): string {
  return FACILITIES[f] ?? String(f);
}

class ParseError extends Error {}

function raw(text: string, error: string, pri?: { facility: number; severity: number }): SyslogMessage {
  return {
    format: 'raw', facility: pri?.facility, severity: pri?.severity, timeNs: undefined, badTime: undefined,
    hostname: '', appName: '', procId: '', msgId: '', sd: [], message: text, error,
  };
}

// Trailers senders leave inside a frame: the LF rsyslog, syslog-ng and
// Logplex count into the octet length, CRLF, and NUL.
function trimTrailer(s: string): string {
  let end = s.length;
  while (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c !== 10 && c !== 13 && c !== 0) break;
    end--;
  }
  return end === s.length ? s : s.slice(0, end);
}

/** `<PRI>` at the start: its value and where it ends. */
function readPri(s: string): { facility: number; severity: number; end: number } | undefined {
  if (s.charCodeAt(0) !== 60 /* < */) return undefined;
  let v = 0;
  let i = 1;
  for (; i < s.length && i <= 4; i++) {
    const c = s.charCodeAt(i);
    if (c === 62 /* > */) break;
    if (c < 48 || c > 57) return undefined;
    v = v * 10 + (c - 48);
  }
  if (i === 1 || s.charCodeAt(i) !== 62 || v > 191) return undefined;
  return { facility: v >> 3, severity: v & 7, end: i + 1 };
}

/** Reads the next SP-terminated header field. */
function field(s: string, at: { i: number }, name: string): string {
  const j = s.indexOf(' ', at.i);
  if (j < 0) throw new ParseError(`the header ends before ${name}`);
  const v = s.slice(at.i, j);
  if (v.length === 0) throw new ParseError(`${name} is empty (two spaces in the header)`);
  at.i = j + 1;
  return v === '-' ? '' : v;
}

function time(text: string): { timeNs: bigint | undefined; badTime: string | undefined } {
  if (text === '') return { timeNs: undefined, badTime: undefined };
  const t = parseIsoNs(text);
  return t === undefined ? { timeNs: undefined, badTime: text } : { timeNs: t, badTime: undefined };
}

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/**
 * STRUCTURED-DATA from position `at.i`. `\"`, `\\` and `\]` are unescaped;
 * a backslash before anything else is kept as it is (RFC 5424 §6.3.3 says a
 * receiver must treat it so), which is how unknown escapes are tolerated.
 */
function readSd(s: string, at: { i: number }): SdElement[] {
  if (s[at.i] === '-') {
    at.i++;
    return [];
  }
  const out: SdElement[] = [];
  let i = at.i;
  while (s[i] === '[') {
    i++;
    const idEnd = nameEnd(s, i);
    if (idEnd === i) throw new ParseError(`an SD-ELEMENT at ${i} has no SD-ID`);
    const id = s.slice(i, idEnd);
    i = idEnd;
    const params: Array<[string, string]> = [];
    while (s[i] === ' ') {
      i++;
      const ne = nameEnd(s, i);
      if (ne === i || s[ne] !== '=' || s[ne + 1] !== '"') throw new ParseError(`SD-PARAM at ${i} in [${id}] is not name="value"`);
      const name = s.slice(i, ne);
      i = ne + 2;
      let value = '';
      for (;;) {
        const q = s.indexOf('"', i);
        const b = s.indexOf('\\', i);
        if (q < 0) throw new ParseError(`the value of ${id} ${name} has no closing quote`);
        if (b >= 0 && b < q) {
          const next = s[b + 1];
          value += s.slice(i, b) + (next === '"' || next === '\\' || next === ']' ? next : '\\' + (next ?? ''));
          i = b + 2;
          continue;
        }
        value += s.slice(i, q);
        i = q + 1;
        break;
      }
      params.push([name, value]);
    }
    if (s[i] !== ']') throw new ParseError(`[${id}] is not closed with ]`);
    i++;
    out.push({ id, params });
  }
  if (out.length === 0) throw new ParseError('STRUCTURED-DATA is neither - nor [');
  at.i = i;
  return out;
}

function nameEnd(s: string, i: number): number {
  let j = i;
  while (j < s.length && j - i < 32) {
    const c = s.charCodeAt(j);
    if (c <= 32 || c > 126 || c === 61 /* = */ || c === 93 /* ] */ || c === 34 /* " */) break;
    j++;
  }
  return j;
}

function parse5424(s: string, pri: { facility: number; severity: number }, at: { i: number }, withSd: boolean): SyslogMessage {
  const ts = field(s, at, 'TIMESTAMP');
  const hostname = field(s, at, 'HOSTNAME');
  const appName = field(s, at, 'APP-NAME');
  const procId = field(s, at, 'PROCID');
  let msgId: string;
  let sd: SdElement[] = [];
  if (withSd) {
    msgId = field(s, at, 'MSGID');
    sd = readSd(s, at);
    // SP before MSG; tolerate a missing one rather than refuse the message.
    if (s[at.i] === ' ') at.i++;
  } else {
    // Logplex: MSGID is the last header field and MSG follows it directly;
    // a message that ends right after MSGID has an empty MSG.
    const j = s.indexOf(' ', at.i);
    msgId = j < 0 ? s.slice(at.i) : s.slice(at.i, j);
    at.i = j < 0 ? s.length : j + 1;
    if (msgId === '-') msgId = '';
  }
  return {
    format: withSd ? '5424' : 'logplex', facility: pri.facility, severity: pri.severity, ...time(ts),
    hostname, appName, procId, msgId, sd, message: stripBom(s.slice(at.i)), error: undefined,
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const BSD_TIME = /^([A-Z][a-z]{2}) ([ \d]?\d) (\d{2}):(\d{2}):(\d{2}) /;
const ISO_TIME = /^(\d{4}-\d{2}-\d{2}T\S+) /;
const TAG = /^([^\s[\]:]{1,48})(?:\[([^\]\s]{0,128})\])?:(?: |$)/;

/**
 * An RFC 3164 time has no year and no zone: it is read in this process's
 * time zone, in the year that keeps it from lying more than a day ahead.
 */
export function bsdTimeNs(m: RegExpExecArray, now: Date): bigint | undefined {
  const month = MONTHS.indexOf(m[1]!);
  if (month < 0) return undefined;
  const at = (year: number) => new Date(year, month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])).getTime();
  let ms = at(now.getFullYear());
  if (ms > now.getTime() + 86_400_000) ms = at(now.getFullYear() - 1);
  return Number.isNaN(ms) ? undefined : BigInt(ms) * 1_000_000n;
}

function parse3164(s: string, pri: { facility: number; severity: number }, start: number, nowMs: number): SyslogMessage {
  let rest = s.slice(start);
  let timeNs: bigint | undefined;
  let badTime: string | undefined;
  let isoForm = false;
  const bsd = BSD_TIME.exec(rest);
  const iso = bsd ? null : ISO_TIME.exec(rest);
  if (bsd) {
    timeNs = bsdTimeNs(bsd, new Date(nowMs));
    if (timeNs === undefined) badTime = bsd[0].trim();
    rest = rest.slice(bsd[0].length);
  } else if (iso) {
    // rsyslog's RSYSLOG_ForwardFormat: an RFC 3339 time in the 3164 slot.
    ({ timeNs, badTime } = time(iso[1]!));
    rest = rest.slice(iso[0].length);
    isoForm = true;
  }
  let hostname = '';
  // A timestamp is followed by HOSTNAME unless the next word is already the
  // TAG (`prog:` / `prog[pid]:`), as local senders write it.
  if (bsd || iso) {
    const sp = rest.indexOf(' ');
    const word = sp < 0 ? rest : rest.slice(0, sp);
    if (sp > 0 && !TAG.test(rest)) {
      hostname = word;
      rest = rest.slice(sp + 1);
    }
  }
  let appName = '';
  let procId = '';
  const tag = TAG.exec(rest);
  if (tag) {
    appName = tag[1]!;
    procId = tag[2] ?? '';
    rest = rest.slice(tag[0].length);
  } else if (isoForm) {
    // The forward format writes the tag even when it has no colon.
    const m = /^([A-Za-z0-9_./-]{1,48}) /.exec(rest);
    if (m) {
      appName = m[1]!;
      rest = rest.slice(m[0].length);
    }
  }
  return {
    format: '3164', facility: pri.facility, severity: pri.severity, timeNs, badTime,
    hostname, appName, procId, msgId: '', sd: [], message: rest, error: undefined,
  };
}

/**
 * Parses one syslog message (a frame's text, trailer included or not);
 * `nowMs` places an RFC 3164 time, which has no year.
 */
export function parseSyslog(text: string, nowMs: number = Date.now()): SyslogMessage {
  const s = trimTrailer(text);
  const pri = readPri(s);
  if (!pri) return raw(s, 'the message does not start with <PRI>');
  const c = s.charCodeAt(pri.end);
  const d = s.charCodeAt(pri.end + 1);
  // VERSION: "1" followed by SP is RFC 5424; anything else is read as 3164.
  if (c >= 49 && c <= 57 && d === 32) {
    try {
      return parse5424(s, pri, { i: pri.end + 2 }, true);
    } catch (e) {
      if (e instanceof ParseError) return raw(s, `RFC 5424: ${e.message}`, pri);
      throw e;
    }
  }
  return parse3164(s, pri, pri.end, nowMs);
}

/**
 * Parses a message as Logplex writes it: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME
 * PROCID MSGID MSG`, with no STRUCTURED-DATA field (a strict RFC 5424 parser
 * would read MSG's first word as SD and fail).
 */
export function parseLogplexMessage(text: string): SyslogMessage {
  const s = trimTrailer(text);
  const pri = readPri(s);
  if (!pri) return raw(s, 'the message does not start with <PRI>');
  if (!/^[1-9]\d{0,2} /.test(s.slice(pri.end, pri.end + 4))) return raw(s, 'the message has no syslog VERSION after <PRI>', pri);
  try {
    return parse5424(s, pri, { i: s.indexOf(' ', pri.end) + 1 }, false);
  } catch (e) {
    if (e instanceof ParseError) return raw(s, `logplex: ${e.message}`, pri);
    throw e;
  }
}

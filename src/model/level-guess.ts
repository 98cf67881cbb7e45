// Guesses the level of a plain text line from the marker its logger put in
// the header, however long that header is: `081109 203615 148 INFO dfs.X:`,
// `- 1117838570 2005.06.03 R02-M1-N0 2005-06-03-15.42.50.675872 R02-M1-N0 RAS
// KERNEL FATAL ...`, `[Sun Dec 04 04:47:44 2005] [error]`, `level=warn`,
// logcat's `1702  2395 D Tag:`, glog's `E0102 12:00:00`, sshd's `error:`.
//
// A header is fields (numbers, dates, hosts, ids, `org.foo.Bar:`, bracketed
// or quoted groups) with at most one plain word in a row (a host, a month);
// the free text starts at the first two plain words in a row, and the scan
// stops there, so `exited with error code 3` or `Connection error` never
// count. Lower-case markers (`error:`, `[warn]`) also need a field, not a
// word, before them; upper-case ones (`ERROR`) are a marker by their form.
// The scan is one pass over the header's characters, and stops after 400 of
// them or 40 tokens, so a line without a marker costs no more than that.
import { type LevelInfo, parseLevel } from './levels.js';

const must = (word: string): LevelInfo => {
  const l = parseLevel(word);
  if (!l) throw new Error(`no level for ${word}`);
  return l;
};
const table = (pairs: Array<[string, string]>): ReadonlyMap<string, LevelInfo> => new Map(pairs.map(([k, v]) => [k, must(v)]));
const same = (words: string): Array<[string, string]> => words.split(' ').map((w) => [w, w]);

// zerolog's console writer abbreviates to three letters (FTL, TRC).
const UPPER = table([
  ...same('TRACE DEBUG INFO NOTICE WARN WARNING ERROR ERR CRIT CRITICAL ALERT EMERG FATAL PANIC SEVERE VERBOSE DBG INF WRN'),
  ['FTL', 'fatal'], ['TRC', 'trace'],
]);
const LOWER = table(same('trace debug info notice warn warning error err crit critical alert emerg fatal panic severe verbose'));
// logcat and bracketed single letters; `A` is logcat's assert.
const LETTERS = table([...same('V D I W E F'), ['A', 'fatal']]);
// First letter and length of every level word, so that most words are
// turned away before a slice and a map lookup: `KERNEL`, `APP`, `worker`.
const shape = (first: number, length: number): number => ((first | 32) << 4) | Math.min(length, 15);
const SHAPES = new Set([...UPPER.keys(), ...LOWER.keys(), ...LETTERS.keys()].map((w) => shape(w.charCodeAt(0), w.length)));
const KEYS = new Set(['level', 'lvl', 'severity', 'loglevel', 'log_level', 'log.level']);
const CALENDAR = new Set('Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec Mon Tue Wed Thu Fri Sat Sun'.split(' '));

// glog `E0102 12:00:00`; logcat's tag after the letter, `Tag:` or `Tag  :`.
const GLOG = /[IWEF]\d{4} \d\d:\d\d:\d\d/y;
const LOGCAT_TAG = /[ \t]+\S*?[ \t]*:/y;
const MAX_CHARS = 400;
const MAX_TOKENS = 40;
const MAX_WORD = 9; // the longest level word or key: `CRITICAL`, `log_level`

// What a token looks like, for what may follow it.
const START = 0;
const WORD = 1;
const NUMBER = 2;
const FIELD = 3;
type Kind = typeof START | typeof WORD | typeof NUMBER | typeof FIELD;

const TAB = 9;
const SPACE = 32;
const QUOTE = 34;
const COLON = 58;
const EQUALS = 61;
const PIPE = 124;
// Bits for the closing brackets a token holds, to tell `[Sun` from `[main]`.
const closeBit = (c: number): number => (c === 93 ? 1 : c === 41 ? 2 : c === 125 ? 4 : 0);
const openBit = (c: number): number => (c === 91 ? 1 : c === 40 ? 2 : c === 123 ? 4 : 0);
const isUpper = (c: number): boolean => c >= 65 && c <= 90;
const isOpen = (c: number): boolean => c === 91 || c === 40 || c === 60 || c === 123; // [ ( < {
const isTrail = (c: number): boolean => c === 93 || c === 41 || c === 62 || c === 125 || c === COLON || c === 44 || c === 59; // ] ) > } : , ;

export function guessLevel(line: string): LevelInfo | undefined {
  const end = Math.min(line.length, MAX_CHARS);
  let prev: Kind = START;
  let group = 0; // the closeBit ending an open `[Sun Dec 04 ...]`, or -1 for `msg="a b"`
  let i = 0;
  for (let n = 0; n < MAX_TOKENS; n++) {
    for (; i < end; i++) {
      const c = line.charCodeAt(i);
      // `a | b`: what a pipe separates are fields
      if (c === PIPE) prev = prev === WORD ? FIELD : prev;
      else if (c !== SPACE && c !== TAB) break;
    }
    if (i >= end) return undefined;
    const s = i;
    let letters = 0;
    let caps = 0;
    let digits = 0;
    let soft = 0; // `-` `'` `,` `.` `;` `!` `?`, which a word of text may hold
    let hard = 0;
    let closes = 0;
    let quotes = 0;
    let eq = -1;
    // Ranges first: most characters are letters and digits.
    for (; i < end; i++) {
      const c = line.charCodeAt(i);
      if (c >= 97) {
        if (c <= 122 || c >= 128) letters++;
        else if (c === PIPE) break;
        else {
          hard++;
          closes |= closeBit(c);
        }
      } else if (c >= 65) {
        if (c <= 90) {
          letters++;
          caps++;
        } else {
          hard++;
          closes |= closeBit(c);
        }
      } else if (c >= 48 && c <= 57) digits++;
      else if (c === SPACE || c === TAB) break;
      else if (c === 45 || c === 39 || c === 44 || c === 46 || c === 59 || c === 33 || c === 63) soft++;
      else {
        hard++;
        closes |= closeBit(c);
        if (c === QUOTE) quotes++;
        else if (c === EQUALS && eq < 0) eq = i;
      }
    }
    if (group !== 0) {
      // Inside `[Sun Dec 04 ...]` or `msg="a b c"`: no marker, no free text.
      if (group === -1 ? quotes > 0 : (closes & group) !== 0) {
        group = 0;
        prev = FIELD;
      }
      continue;
    }
    // Times, numbers, `-`: most of a header holds no letter, so no marker.
    const found = letters > 0 ? marker(line, s, i, prev, letters, caps, eq) : undefined;
    if (found) return found;
    const kind: Kind = letters === 0 ? (digits > 0 ? NUMBER : FIELD)
      : digits > 0 || hard > 0 || (caps === letters && letters > 1) ? FIELD
      : soft > 0 && !textWord(line, s, i) ? FIELD
      : i - s === 3 && CALENDAR.has(line.slice(s, i)) ? FIELD
      : WORD;
    if (kind === WORD && prev === WORD) return undefined;
    const open = openBit(line.charCodeAt(s));
    if (open !== 0 && (closes & open) === 0) group = open;
    else if (quotes === 1 && (line.charCodeAt(s) === QUOTE || (eq >= 0 && line.charCodeAt(eq + 1) === QUOTE))) group = -1;
    prev = kind;
  }
  return undefined;
}

// `high-speed`, `can't`, `done.`: punctuation inside or at the end of a word.
function textWord(line: string, s: number, e: number): boolean {
  for (let k = s; k < e; k++) {
    const c = line.charCodeAt(k);
    if (c === 45 || c === 39) {
      if (k === s || k === e - 1) return false;
    } else if ((c === 44 || c === 46 || c === 59 || c === 33 || c === 63) && k !== e - 1) return false;
  }
  return true;
}

function marker(line: string, s: number, e: number, prev: Kind, letters: number, caps: number, eq: number): LevelInfo | undefined {
  const first = line.charCodeAt(s);
  if (e - s === 1) return logcatLetter(line, s, prev);
  if (e - s === 5 && letters === 1 && (first === 73 || first === 87 || first === 69 || first === 70)) {
    GLOG.lastIndex = s;
    if (GLOG.test(line)) return LETTERS.get(line[s]!);
  }
  // logcat's brief format: `D/Tag( 1702): ...` or `D/Tag: ...`
  if (line.charCodeAt(s + 1) === 47 && isUpper(first) && prev !== WORD && e - s > 2) {
    const letter = LETTERS.get(line[s]!);
    if (letter && (line.charCodeAt(e - 1) === COLON || line.lastIndexOf('(', e - 1) > s)) return letter;
  }
  let a = s;
  let b = e;
  while (a < b && isOpen(line.charCodeAt(a))) a++;
  while (b > a && isTrail(line.charCodeAt(b - 1))) b--;
  if (eq > a && eq - a <= MAX_WORD) {
    if (!KEYS.has(line.slice(a, eq).toLowerCase())) return undefined;
    return parseLevel(line.slice(eq + 1, b).replace(/^["']|["']$/g, ''));
  }
  if (letters !== b - a) return caps >= 3 && isUpper(line.charCodeAt(a)) ? upperPrefix(line, a, b) : undefined;
  if (!SHAPES.has(shape(line.charCodeAt(a), b - a))) return undefined;
  const bare = line.slice(a, b);
  if (caps === letters) {
    const upper = UPPER.get(bare);
    if (upper) return upper;
  }
  if (prev === WORD) return undefined;
  if (a > s && b - a === 1) return LETTERS.get(bare);
  const lower = LOWER.get(caps === 0 ? bare : bare.toLowerCase());
  if (!lower) return undefined;
  // `[error]`, `error:` and tab- or pipe-delimited fields; a bare `error` is text.
  if (a > s || line.charCodeAt(e - 1) === COLON) return lower;
  const before = s > 0 ? line.charCodeAt(s - 1) : 0;
  const after = e < line.length ? line.charCodeAt(e) : 0;
  return (before === TAB || before === PIPE) && (after === TAB || after === PIPE) ? lower : undefined;
}

// `WARN[0000]` (logrus) and `WARNING:root:msg` (Python's basicConfig).
function upperPrefix(line: string, a: number, b: number): LevelInfo | undefined {
  let k = a;
  while (k < b && isUpper(line.charCodeAt(k))) k++;
  const next = line.charCodeAt(k);
  return k - a >= 3 && k - a <= MAX_WORD && (next === 91 || next === COLON) ? UPPER.get(line.slice(a, k)) : undefined;
}

// logcat threadtime: `03-17 16:13:38.811  1702  2395 D WindowManager: ...`,
// the letter between the tid and the tag.
function logcatLetter(line: string, s: number, prev: Kind): LevelInfo | undefined {
  if (prev !== NUMBER) return undefined;
  const letter = LETTERS.get(line[s]!);
  if (!letter) return undefined;
  LOGCAT_TAG.lastIndex = s + 1;
  return LOGCAT_TAG.test(line) ? letter : undefined;
}

// The first step of pattern mining: a message becomes tokens, with the parts
// that are certainly variable masked as `<*>` (Loki's and Drain's mark).
//
// Tokens are split on whitespace, and a token into segments at the
// punctuation that joins a key to its value or wraps a value (`uid=0`,
// `(host)`, `[42]`, `a,b`), so `rhost=10.0.0.1` becomes `rhost=<*>` and
// keeps its key. A segment with a digit in it is a variable: numbers,
// times, ids, IPs and ports, hex, `blk_-1608…`, `test9`. A segment that names a
// month or a weekday is one too (a timestamp spelt out, `[Sun Dec 04`). Every other word
// stays as it is here; whether it varies is for the miner to learn from how
// many values it takes (./miner.ts).
//
// `SQL_DIGIT_SEGMENT` does the digit step in the store (`replaceRegexpAll`),
// so a range is grouped by shape there and the miner sees each shape once:
// masking an already masked message gives the same tokens.
export const WILDCARD = '<*>';

// The punctuation between segments; `<` and `>` among them, so `<*>` is a
// segment of its own and masking is idempotent.
const DELIMITERS = `=:,()[]{}"';|<>`;
// Month and weekday names, whole or in three letters, capitalised as dates
// write them (`Jul`, `Monday,`, `MAY`; the word `may` in a sentence stays).
const NAMES = 'january february march april may june july august september october november december monday tuesday wednesday thursday friday saturday sunday';
const CALENDAR_WORDS = new Set(NAMES.split(' ').flatMap((w) => [w, w.slice(0, 3)]).concat('sept', 'tues', 'thur', 'thurs'));
function isCalendarWord(token: string, from: number, to: number): boolean {
  if (to - from < 3 || to - from > 10) return false;
  const first = token.charCodeAt(from);
  if (first < 65 || first > 90) return false;
  const end = token.charCodeAt(to - 1) === 46 ? to - 1 : to; // a trailing `.`
  return CALENDAR_WORDS.has(token.slice(from, end).toLowerCase());
}

/** A run of non-delimiter, non-space characters with a digit in it: what `maskToken` turns into `<*>`, for `replaceRegexpAll` (RE2). */
export const SQL_DIGIT_SEGMENT = `[^\\s${DELIMITERS.replace(/[[\]\\]/g, '\\$&')}]*[0-9][^\\s${DELIMITERS.replace(/[[\]\\]/g, '\\$&')}]*`;

const IS_DELIMITER = new Uint8Array(128);
for (const c of DELIMITERS) IS_DELIMITER[c.charCodeAt(0)] = 1;

/** One whitespace-free token with its variable segments masked. */
export function maskToken(token: string): string {
  // One pass over the characters, finding segments between delimiters;
  // most tokens come back unchanged, without a new string.
  let out: string | undefined;
  let from = 0; // start of the current segment
  let digit = false;
  let copied = 0; // characters of `token` already in `out`
  for (let i = 0; i <= token.length; i++) {
    const c = i < token.length ? token.charCodeAt(i) : 61; // a delimiter at the end
    if (c < 128 && IS_DELIMITER[c] === 1) {
      if (i > from && (digit || isCalendarWord(token, from, i))) {
        out = (out ?? '') + token.slice(copied, from) + WILDCARD;
        copied = i;
      }
      from = i + 1;
      digit = false;
    } else if (c >= 48 && c <= 57) digit = true;
  }
  return out === undefined ? token : out + token.slice(copied);
}

/**
 * White space between tokens: RE2's `\s` (the store's regexes), not
 * JavaScript's, which also counts Unicode spaces — the two sides must cut
 * a message alike, or a pattern's events differ between the store and the
 * tail.
 */
export const SPACE = /[ \t\n\f\r]+/;

/** The masked tokens of a message. */
export function maskedTokens(message: string): string[] {
  const out: string[] = [];
  for (const token of message.split(SPACE)) if (token !== '') out.push(maskToken(token));
  return out;
}

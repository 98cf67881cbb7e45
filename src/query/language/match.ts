// The search language as an in-process predicate over events, for filters
// that run on events as they are stored (live tail). It follows the SQL
// compiler's semantics; the reference tests hold both to the same answers.
// Regexes run as JavaScript RegExp, which agrees with RE2 on the common
// syntax; a leading (?i) becomes the i flag.
import { RE2JS } from 're2js';
import { isLevel, LEVELS } from '../../model/levels.js';
import type { EventJson } from '../../model/event.js';
import { field as columnOf } from '../columns.js';
import { PATTERN_FIELD, patternMatcher } from './pattern-term.js';
import { levelRange, SEPARATOR_CLASS, tokenize } from './compile.js';
import { type CompareOp, type Node, parseQuery, syntaxError } from './parse.js';

export type Matcher = (e: EventJson) => boolean;

/** Reads a field's value as the SQL compiler does: its column (../columns.ts), or the attribute of that name. */
function reader(field: string): (e: EventJson) => string {
  const column = columnOf(field);
  return column ? column.read : (e) => e.attributes[field] ?? '';
}

function escapeRegex(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

function textMatcher(value: string, prefix: boolean): Matcher {
  const tokens = tokenize(value);
  if (tokens.length === 0) {
    const needle = value.toLowerCase();
    return (e) => e.message.toLowerCase().includes(needle);
  }
  const re = new RegExp(
    '(?:^|' + SEPARATOR_CLASS + ')' + tokens.map(escapeRegex).join(SEPARATOR_CLASS + '+') + (prefix ? '' : '(?:$|' + SEPARATOR_CLASS + ')'),
    'iu',
  );
  return (e) => re.test(e.message);
}

function numberOf(value: string, field: string, pos: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw syntaxError(`${field} compares with numbers: ${JSON.stringify(value)} is not one`, pos);
  return n;
}

/** ClickHouse's toFloat64OrNull: a plain decimal number or nothing. */
function asNumber(s: string): number | undefined {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

function compare(op: CompareOp, a: number, b: number): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
  }
}

/**
 * `*` globs without a backtracking regex: the pieces must appear in order,
 * the first at the start and the last at the end. Linear in the value.
 */
function globMatcher(pattern: string): { test(s: string): boolean } {
  const pieces = pattern.split('*');
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  return {
    test(s: string): boolean {
      if (pieces.length === 1) return s === pattern;
      if (!s.startsWith(first) || !s.endsWith(last) || s.length < first.length + last.length) return false;
      let at = first.length;
      const end = s.length - last.length;
      for (let i = 1; i < pieces.length - 1; i++) {
        const p = pieces[i]!;
        const found = s.indexOf(p, at);
        if (found === -1 || found + p.length > end) return false;
        at = found + p.length;
      }
      return true;
    },
  };
}

/** A user's regex as the live paths run it: RE2's dialect and linear time, as in the store. */
export interface LiveRegex {
  test(s: string): boolean;
  /** The first match's groups, by number (0: the whole match) or by name; undefined when nothing matches. */
  match(s: string): { group(ref: number | string): string | undefined } | undefined;
}

/**
 * An RE2 pattern (the store's dialect) for filters that run in JavaScript:
 * the live tail, on the ingest path, and LogQL pipelines. Through re2js, a
 * port of RE2, so matching takes linear time whatever the pattern (a
 * JavaScript regex can backtrack for minutes on `(a+)+$` or `.*.*.*x`);
 * `.` matches newlines, as the store's match() does; what RE2 cannot
 * compile is a syntax error (400) rather than a crash.
 */
export function liveRegex(pattern: string, pos: number): LiveRegex {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, RE2JS.DOTALL);
  } catch (err) {
    throw syntaxError(`invalid regular expression: ${(err as Error).message}`, pos);
  }
  return {
    test: (s) => re.matcher(s).find(),
    match: (s) => {
      const m = re.matcher(s);
      if (!m.find()) return undefined;
      return { group: (ref) => m.group(ref) ?? undefined };
    },
  };
}

function levelBounds(op: CompareOp, value: string, pos: number): [number, number] {
  const v = value.toLowerCase();
  if (!isLevel(v)) throw syntaxError(`unknown level ${JSON.stringify(value)}: use ${LEVELS.join(', ')}`, pos);
  return levelRange(op, v);
}

function build(n: Node): Matcher {
  switch (n.type) {
    case 'all':
      return () => true;
    case 'and': {
      const parts = n.children.map(build);
      return (e) => parts.every((p) => p(e));
    }
    case 'or': {
      const parts = n.children.map(build);
      return (e) => parts.some((p) => p(e));
    }
    case 'not': {
      const inner = build(n.child);
      return (e) => !inner(e);
    }
    case 'word':
      return textMatcher(n.value, n.prefix);
    case 'phrase':
      return textMatcher(n.value, false);
    case 'regex': {
      const re = liveRegex(n.value, n.pos);
      return (e) => re.test(e.message);
    }
    case 'exists': {
      const column = columnOf(n.field);
      if (column?.filter === 'level') return () => true;
      if (column) return (e) => column.read(e) !== '';
      return (e) => Object.hasOwn(e.attributes, n.field);
    }
    case 'range': {
      if (columnOf(n.field)?.filter === 'level') {
        const [low] = levelBounds('>=', n.low, n.pos);
        const [, high] = levelBounds('<=', n.high, n.pos);
        return (e) => e.severity >= low && e.severity <= high;
      }
      const low = numberOf(n.low, n.field, n.pos);
      const high = numberOf(n.high, n.field, n.pos);
      const read = reader(n.field);
      return (e) => {
        const v = asNumber(read(e));
        return v !== undefined && v >= low && v <= high;
      };
    }
    case 'field': {
      if (n.field === PATTERN_FIELD) {
        const fits = patternMatcher(n.op, n.value, n.wildcard, n.pos);
        return (e) => fits(e.message);
      }
      const kind = columnOf(n.field)?.filter;
      if (kind === 'level') {
        if (n.op === '=') {
          const v = n.value.toLowerCase();
          levelBounds('=', v, n.pos);
          return (e) => e.level === v;
        }
        const [low, high] = levelBounds(n.op, n.value, n.pos);
        return (e) => e.severity >= low && e.severity <= high;
      }
      if (kind === 'message') return textMatcher(n.value.replace(/\*$/, ''), n.value.endsWith('*'));
      const read = reader(n.field);
      if (n.op !== '=') {
        const b = numberOf(n.value, n.field, n.pos);
        return (e) => {
          const v = asNumber(read(e));
          return v !== undefined && compare(n.op, v, b);
        };
      }
      if (n.wildcard) {
        const re = globMatcher(n.value);
        return (e) => re.test(read(e));
      }
      return (e) => read(e) === n.value;
    }
  }
}

export function compileMatcher(query: Node | string): Matcher {
  return build(typeof query === 'string' ? parseQuery(query) : query);
}

/** `service:x`, exactly: the one term the live tail can look up by service. */
function isServiceTerm(n: Node): n is Extract<Node, { type: 'field' }> {
  return n.type === 'field' && n.field === 'service' && n.op === '=' && !n.wildcard;
}

/** Whether the query is only `service:x` terms joined by OR: its services decide it alone. */
export function onlyServices(n: Node): boolean {
  return isServiceTerm(n) || (n.type === 'or' && n.children.every(onlyServices));
}

/**
 * The services an event must have to match, when the query names them
 * (`service:api`, `service:api AND level:error`, `service:a OR service:b`);
 * undefined when any service could match. The live tail uses it to offer a
 * viewer only its services' events instead of running its filter on all.
 */
export function requiredServices(n: Node): ReadonlySet<string> | undefined {
  switch (n.type) {
    case 'field':
      return isServiceTerm(n) ? new Set([n.value]) : undefined;
    case 'and': {
      let out: Set<string> | undefined;
      for (const c of n.children) {
        const s = requiredServices(c);
        if (s !== undefined) out = out === undefined ? new Set(s) : new Set([...out].filter((x) => s.has(x)));
      }
      return out;
    }
    case 'or': {
      const out = new Set<string>();
      for (const c of n.children) {
        const s = requiredServices(c);
        if (s === undefined) return undefined;
        for (const x of s) out.add(x);
      }
      return out;
    }
    default:
      return undefined;
  }
}

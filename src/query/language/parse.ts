// The search language, one parser for search, tail filters and alert rules.
//
//   timeout              a whole token of the message (case-insensitive)
//   time*                a token prefix
//   "connection reset"   consecutive tokens
//   /err(or)?\d+/        RE2 on the message
//   service:api  status:>=500  status:500..599  level:>=warn  host:web-*  user.id:*
//   -term  NOT term  a AND b  a b (implicit AND)  a OR b  ( … )
//
// Errors carry the position (0-based character offset) they point at.
import { SluiceError } from '../../errors.js';

export type CompareOp = '=' | '>' | '>=' | '<' | '<=';

export type Node =
  | { type: 'all' }
  | { type: 'and'; children: Node[] }
  | { type: 'or'; children: Node[] }
  | { type: 'not'; child: Node }
  | { type: 'word'; value: string; prefix: boolean; pos: number }
  | { type: 'phrase'; value: string; pos: number }
  | { type: 'regex'; value: string; pos: number }
  | { type: 'field'; field: string; op: CompareOp; value: string; wildcard: boolean; pos: number }
  | { type: 'range'; field: string; low: string; high: string; pos: number }
  | { type: 'exists'; field: string; pos: number };

export const MAX_QUERY_LENGTH = 4096;
const MAX_DEPTH = 32;

export function syntaxError(message: string, position: number): SluiceError {
  return new SluiceError('SLUICE_ERR_QUERY_SYNTAX', `${message} (at position ${position})`, { details: { position } });
}

const FIELD = /^[A-Za-z_@][A-Za-z0-9_.@-]*$/;
const SPECIAL = new Set([' ', '\t', '\n', '\r', '(', ')']);

class Parser {
  #i = 0;
  #depth = 0;

  constructor(private readonly s: string) {}

  parse(): Node {
    this.#skip();
    if (this.#i >= this.s.length) return { type: 'all' };
    const node = this.#or();
    this.#skip();
    if (this.#i < this.s.length) {
      throw syntaxError(this.s[this.#i] === ')' ? 'unmatched )' : `unexpected ${JSON.stringify(this.s[this.#i])}`, this.#i);
    }
    return node;
  }

  #skip(): void {
    while (this.#i < this.s.length && /\s/.test(this.s[this.#i]!)) this.#i++;
  }

  #keyword(word: 'AND' | 'OR' | 'NOT'): boolean {
    const end = this.#i + word.length;
    if (this.s.startsWith(word, this.#i) && (end >= this.s.length || SPECIAL.has(this.s[end]!))) {
      this.#i = end;
      return true;
    }
    return false;
  }

  #or(): Node {
    const children = [this.#and()];
    for (;;) {
      this.#skip();
      if (!this.#keyword('OR')) break;
      this.#skip();
      if (this.#i >= this.s.length || this.s[this.#i] === ')') throw syntaxError('OR needs a term after it', this.#i);
      children.push(this.#and());
    }
    return children.length === 1 ? children[0]! : { type: 'or', children };
  }

  #and(): Node {
    const children = [this.#unary()];
    for (;;) {
      this.#skip();
      if (this.#i >= this.s.length || this.s[this.#i] === ')') break;
      const save = this.#i;
      if (this.#keyword('OR')) {
        this.#i = save;
        break;
      }
      if (this.#keyword('AND')) {
        this.#skip();
        if (this.#i >= this.s.length || this.s[this.#i] === ')') throw syntaxError('AND needs a term after it', this.#i);
      }
      children.push(this.#unary());
    }
    return children.length === 1 ? children[0]! : { type: 'and', children };
  }

  #unary(): Node {
    this.#skip();
    const start = this.#i;
    if (this.#keyword('NOT')) {
      this.#skip();
      if (this.#i >= this.s.length) throw syntaxError('NOT needs a term after it', start);
      return { type: 'not', child: this.#nested(() => this.#unary()) };
    }
    if (this.s[this.#i] === '-' && this.#i + 1 < this.s.length && !/\s/.test(this.s[this.#i + 1]!)) {
      this.#i++;
      return { type: 'not', child: this.#nested(() => this.#unary()) };
    }
    return this.#primary();
  }

  #nested<T>(f: () => T): T {
    if (++this.#depth > MAX_DEPTH) throw syntaxError(`nesting deeper than ${MAX_DEPTH}`, this.#i);
    try {
      return f();
    } finally {
      this.#depth--;
    }
  }

  #primary(): Node {
    const start = this.#i;
    const c = this.s[this.#i];
    if (c === '(') {
      this.#i++;
      this.#skip();
      if (this.#i >= this.s.length) throw syntaxError('unclosed (', start);
      if (this.s[this.#i] === ')') throw syntaxError('empty parentheses', start);
      const inner = this.#nested(() => this.#or());
      this.#skip();
      if (this.s[this.#i] !== ')') throw syntaxError('unclosed (', start);
      this.#i++;
      return inner;
    }
    if (c === ')') throw syntaxError('unmatched )', start);
    if (c === '"') return { type: 'phrase', value: this.#quoted(), pos: start };
    if (c === '/') return { type: 'regex', value: this.#regex(), pos: start };
    const raw = this.#bare();
    // (Callers stop at the end and at ')', so this is a safety net.)
    if (raw.length === 0) throw syntaxError('expected a term', start);
    const colon = raw.indexOf(':');
    if (colon > 0 && FIELD.test(raw.slice(0, colon))) {
      return this.#fieldTerm(raw.slice(0, colon), raw.slice(colon + 1), start, start + colon + 1);
    }
    if (raw === 'AND' || raw === 'OR') throw syntaxError(`${raw} needs a term before it`, start);
    return this.#word(raw, start);
  }

  /** Characters up to whitespace or a parenthesis; `field:"…"` keeps its quotes. */
  #bare(): string {
    const start = this.#i;
    while (this.#i < this.s.length && !SPECIAL.has(this.s[this.#i]!)) {
      if (this.s[this.#i] === ':' && this.s[this.#i + 1] === '"') {
        const field = this.s.slice(start, this.#i);
        this.#i++;
        const value = this.#quoted();
        if (this.#i < this.s.length && !SPECIAL.has(this.s[this.#i]!)) throw syntaxError('expected a space after the quoted value', this.#i);
        return `${field}:${JSON.stringify(value)}`;
      }
      this.#i++;
    }
    return this.s.slice(start, this.#i);
  }

  #quoted(): string {
    const start = this.#i;
    this.#i++; // opening quote
    let out = '';
    while (this.#i < this.s.length) {
      const ch = this.s[this.#i]!;
      if (ch === '\\' && this.#i + 1 < this.s.length) {
        out += this.s[this.#i + 1];
        this.#i += 2;
        continue;
      }
      if (ch === '"') {
        this.#i++;
        return out;
      }
      out += ch;
      this.#i++;
    }
    throw syntaxError('unclosed "', start);
  }

  #regex(): string {
    const start = this.#i;
    this.#i++;
    let out = '';
    while (this.#i < this.s.length) {
      const ch = this.s[this.#i]!;
      if (ch === '\\' && this.s[this.#i + 1] === '/') {
        out += '/';
        this.#i += 2;
        continue;
      }
      if (ch === '/') {
        this.#i++;
        if (out.length === 0) throw syntaxError('empty regular expression', start);
        return out;
      }
      out += ch;
      this.#i++;
    }
    throw syntaxError('unclosed /', start);
  }

  #word(raw: string, pos: number): Node {
    const star = raw.indexOf('*');
    if (star !== -1 && star !== raw.length - 1) throw syntaxError('a word takes * only at its end', pos + star);
    const value = star === -1 ? raw : raw.slice(0, -1);
    if (value.length === 0) throw syntaxError('* needs a prefix', pos);
    return { type: 'word', value, prefix: star !== -1, pos };
  }

  #fieldTerm(field: string, rest: string, pos: number, valuePos: number): Node {
    if (rest.length === 0) throw syntaxError(`${field}: needs a value`, valuePos);
    if (rest.startsWith('"')) return { type: 'field', field, op: '=', value: JSON.parse(rest) as string, wildcard: false, pos };
    if (rest === '*') return { type: 'exists', field, pos };
    const cmp = /^(>=|<=|>|<)(.*)$/.exec(rest);
    if (cmp) {
      if (cmp[2]!.length === 0) throw syntaxError(`${field}:${cmp[1]} needs a value`, valuePos + cmp[1]!.length);
      return { type: 'field', field, op: cmp[1] as CompareOp, value: cmp[2]!, wildcard: false, pos };
    }
    const range = /^([^.]+)\.\.([^.]+)$/.exec(rest);
    if (range) return { type: 'range', field, low: range[1]!, high: range[2]!, pos };
    return { type: 'field', field, op: '=', value: rest, wildcard: rest.includes('*'), pos };
  }
}

export function parseQuery(q: string): Node {
  if (q.length > MAX_QUERY_LENGTH) throw syntaxError(`the query is longer than ${MAX_QUERY_LENGTH} characters`, MAX_QUERY_LENGTH);
  return new Parser(q).parse();
}

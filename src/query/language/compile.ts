// Compiles a parsed query to a ClickHouse boolean expression over the logs
// table. Every user value — words, phrases, regexes, attribute keys, field
// values — becomes a query parameter; the SQL text holds only the fixed
// fragments below and column names from the column table (../columns.ts).
import { isLevel, LEVEL_SEVERITY, LEVELS, type Level } from '../../model/levels.js';
import { attributeSql, field as columnOf } from '../columns.js';
import { type CompareOp, type Node, parseQuery, syntaxError } from './parse.js';
import { PATTERN_FIELD, patternRegex } from './pattern-term.js';

export interface Compiled {
  readonly sql: string;
  readonly params: Record<string, unknown>;
}

// ClickHouse's splitByNonAlpha tokenizer: ASCII letters and digits and every
// non-ASCII character are token characters; other ASCII characters separate.
export const SEPARATOR_CLASS = '[\\x00-\\x2F\\x3A-\\x40\\x5B-\\x60\\x7B-\\x7F]';
const TOKEN_SPLIT = new RegExp(SEPARATOR_CLASS + '+');

export function tokenize(text: string): string[] {
  return text.split(TOKEN_SPLIT).filter((t) => t.length > 0);
}

function escapeRegex(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** RE2 pattern for consecutive tokens, the last one possibly a prefix. */
function tokensPattern(tokens: readonly string[], lastIsPrefix: boolean): string {
  const body = tokens.map(escapeRegex).join(SEPARATOR_CLASS + '+');
  return '(?i)(?:^|' + SEPARATOR_CLASS + ')' + body + (lastIsPrefix ? '' : '(?:$|' + SEPARATOR_CLASS + ')');
}

function likePattern(value: string): string {
  return value.replace(/[\\%_]/g, '\\$&').replace(/\*/g, '%');
}

/** The severity numbers a level comparison admits, inclusive. */
export function levelRange(op: CompareOp, level: Level): [number, number] {
  const low = LEVEL_SEVERITY[level];
  const high = low + 3;
  switch (op) {
    case '=':
      return [low, high];
    case '>=':
      return [low, 24];
    case '>':
      return [high + 1, 24];
    case '<=':
      return [1, high];
    case '<':
      return [1, low - 1];
  }
}

class Compiler {
  readonly params: Record<string, unknown> = {};
  #n = 0;

  constructor(private readonly prefix: string) {}

  param(type: string, value: unknown): string {
    const name = `${this.prefix}${this.#n++}`;
    this.params[name] = value;
    return '{' + name + ':' + type + '}';
  }

  node(n: Node): string {
    switch (n.type) {
      case 'all':
        return '1';
      case 'and':
        return '(' + n.children.map((c) => this.node(c)).join(' AND ') + ')';
      case 'or':
        return '(' + n.children.map((c) => this.node(c)).join(' OR ') + ')';
      case 'not':
        return 'NOT (' + this.node(n.child) + ')';
      case 'word':
        return this.text(n.value, n.prefix);
      case 'phrase':
        return this.text(n.value, false);
      case 'regex':
        return 'match(message, ' + this.param('String', n.value) + ')';
      case 'exists':
        return this.exists(n.field);
      case 'range':
        return this.range(n.field, n.low, n.high, n.pos);
      case 'field':
        return this.field(n.field, n.op, n.value, n.wildcard, n.pos);
    }
  }

  /** Whole tokens of the message, in order; the last may be a prefix. */
  text(value: string, prefix: boolean): string {
    const tokens = tokenize(value);
    if (tokens.length === 0) {
      // Only separators (e.g. "->"): a plain case-insensitive substring.
      return 'positionCaseInsensitiveUTF8(message, ' + this.param('String', value) + ') > 0';
    }
    if (tokens.length === 1 && !prefix) return 'hasTokenCaseInsensitive(message, ' + this.param('String', tokens[0]) + ')';
    return 'match(message, ' + this.param('String', tokensPattern(tokens, prefix)) + ')';
  }

  value(field: string): string {
    return columnOf(field)?.name ?? attributeSql(field, (t, v) => this.param(t, v));
  }

  exists(field: string): string {
    const column = columnOf(field);
    if (column?.filter === 'level') return '1';
    if (column !== undefined) return column.name + " != ''";
    return 'mapContains(attributes, ' + this.param('String', field) + ')';
  }

  level(op: CompareOp, value: string, pos: number): string {
    const v = value.toLowerCase();
    if (!isLevel(v)) throw syntaxError(`unknown level ${JSON.stringify(value)}: use ${LEVELS.join(', ')}`, pos);
    if (op === '=') return 'level = ' + this.param('String', v);
    const [low, high] = levelRange(op, v);
    return 'severity BETWEEN ' + this.param('UInt8', low) + ' AND ' + this.param('UInt8', high);
  }

  number(value: string, field: string, pos: number): number {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw syntaxError(`${field} compares with numbers: ${JSON.stringify(value)} is not one`, pos);
    return n;
  }

  field(field: string, op: CompareOp, value: string, wildcard: boolean, pos: number): string {
    if (field === PATTERN_FIELD) return 'match(message, ' + this.param('String', patternRegex(op, value, wildcard, pos)) + ')';
    const kind = columnOf(field)?.filter;
    if (kind === 'level') {
      if (wildcard) throw syntaxError('level takes no wildcard', pos);
      return this.level(op, value, pos);
    }
    if (kind === 'message') {
      if (op !== '=') throw syntaxError('message takes no comparison', pos);
      return this.text(value.replace(/\*$/, ''), value.endsWith('*'));
    }
    const x = this.value(field);
    if (op !== '=') {
      return 'toFloat64OrNull(' + x + ') ' + op + ' ' + this.param('Float64', this.number(value, field, pos));
    }
    if (wildcard) return x + ' LIKE ' + this.param('String', likePattern(value));
    return x + ' = ' + this.param('String', value);
  }

  range(field: string, low: string, high: string, pos: number): string {
    if (columnOf(field)?.filter === 'level') {
      const a = low.toLowerCase();
      const b = high.toLowerCase();
      if (!isLevel(a) || !isLevel(b)) throw syntaxError(`level ranges take level names: ${LEVELS.join(', ')}`, pos);
      return 'severity BETWEEN ' + this.param('UInt8', LEVEL_SEVERITY[a]) + ' AND ' + this.param('UInt8', LEVEL_SEVERITY[b] + 3);
    }
    const x = this.value(field);
    return (
      'toFloat64OrNull(' + x + ') BETWEEN ' +
      this.param('Float64', this.number(low, field, pos)) + ' AND ' + this.param('Float64', this.number(high, field, pos))
    );
  }
}

/** Compiles an AST (or query text) to a WHERE expression with parameters named `${prefix}N`. */
export function compileQuery(query: Node | string, prefix = 'q'): Compiled {
  const ast = typeof query === 'string' ? parseQuery(query) : query;
  const c = new Compiler(prefix);
  return { sql: c.node(ast), params: c.params };
}

/**
 * The same query over the per-minute rollups (the columns ../columns.ts marks
 * `rollup`: service and level), or undefined when it names anything they do
 * not keep.
 */
export function compileForRollup(query: Node | string, prefix = 'r'): Compiled | undefined {
  const ast = typeof query === 'string' ? parseQuery(query) : query;
  const c = new Compiler(prefix);
  const walk = (n: Node): string | undefined => {
    switch (n.type) {
      case 'all':
        return '1';
      case 'and':
      case 'or': {
        const parts = n.children.map(walk);
        if (parts.some((p) => p === undefined)) return undefined;
        return '(' + parts.join(n.type === 'and' ? ' AND ' : ' OR ') + ')';
      }
      case 'not': {
        const inner = walk(n.child);
        return inner === undefined ? undefined : 'NOT (' + inner + ')';
      }
      case 'field': {
        const column = columnOf(n.field);
        if (!column?.rollup) return undefined;
        if (column.filter === 'string' && n.op === '=') {
          return column.name + (n.wildcard ? ' LIKE ' + c.param('String', likePattern(n.value)) : ' = ' + c.param('String', n.value));
        }
        if (column.filter === 'level') {
          const v = n.value.toLowerCase();
          if (!isLevel(v)) throw syntaxError(`unknown level ${JSON.stringify(n.value)}: use ${LEVELS.join(', ')}`, n.pos);
          const [low, high] = levelRange(n.op, v);
          const levels = LEVELS.filter((l) => LEVEL_SEVERITY[l] >= low && LEVEL_SEVERITY[l] + 3 <= high);
          return column.name + ' IN ' + c.param('Array(String)', levels);
        }
        return undefined;
      }
      default:
        return undefined;
    }
  };
  const sql = walk(ast);
  return sql === undefined ? undefined : { sql, params: c.params };
}

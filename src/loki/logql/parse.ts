// LogQL to a small AST, parsed with Grafana's own grammar
// (@grafana/lezer-logql), so what Grafana's editor accepts is what is read
// here. The grammar accepts all of LogQL; this file takes the subset Sluice
// answers so far and refuses the rest with a 400 that names the construct,
// never a wrong answer. docs/grafana.md lists the subset.
import { parser } from '@grafana/lezer-logql';
import type { SyntaxNode } from '@lezer/common';
import { SluiceError } from '../../errors.js';

export type MatchOp = '=' | '!=' | '=~' | '!~';
export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

export type FilterOp = '|=' | '!=' | '|~' | '!~';
/** A line filter; several values are its `or` alternatives. */
export interface LineFilter {
  readonly op: FilterOp;
  readonly values: readonly string[];
}

/** `| drop a, b` or `| keep a, b`: which stream labels a result keeps, in pipeline order. */
export interface LabelStage {
  readonly mode: 'drop' | 'keep';
  readonly names: readonly string[];
}

export interface LogQuery {
  readonly kind: 'log';
  readonly matchers: readonly Matcher[];
  readonly filters: readonly LineFilter[];
  readonly labels: readonly LabelStage[];
}

export type RangeFn = 'count_over_time' | 'rate' | 'bytes_over_time' | 'bytes_rate';
export interface RangeAggregation {
  readonly kind: 'range';
  readonly fn: RangeFn;
  readonly log: LogQuery;
  readonly rangeNs: bigint;
  readonly offsetNs: bigint;
}

export type VectorOp = 'sum' | 'count' | 'min' | 'max' | 'avg';
export interface VectorAggregation {
  readonly kind: 'aggregate';
  readonly op: VectorOp;
  /** `by` labels, or `without` labels; neither: everything into one series. */
  readonly grouping: { readonly mode: 'by' | 'without'; readonly labels: readonly string[] } | undefined;
  readonly expr: MetricQuery;
}

export interface NumberLiteral {
  readonly kind: 'number';
  readonly value: number;
}

/** `vector(n)`: one series without labels, n at every step. */
export interface VectorLiteral {
  readonly kind: 'vector';
  readonly value: number;
}

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '^';
export interface Binary {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly left: MetricQuery;
  readonly right: MetricQuery;
}

export type MetricQuery = RangeAggregation | VectorAggregation | NumberLiteral | VectorLiteral | Binary;
export type Query = LogQuery | MetricQuery;

export function logqlError(message: string): SluiceError {
  return new SluiceError('SLUICE_ERR_LOGQL', message);
}

function unsupported(node: SyntaxNode, q: string): SluiceError {
  const text = q.slice(node.from, node.to);
  return logqlError(`not supported yet: ${node.name} (${JSON.stringify(text.length > 60 ? text.slice(0, 57) + '...' : text)} at position ${node.from}); docs/grafana.md lists what is`);
}

const GO_ESCAPES: Readonly<Record<string, string>> = { a: '\u0007', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };
const UNIT_NS: Readonly<Record<string, bigint>> = {
  ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n, d: 86_400_000_000_000n, w: 604_800_000_000_000n, y: 31_536_000_000_000_000n,
};

const MATCH_OPS: Readonly<Record<string, MatchOp>> = { Eq: '=', Neq: '!=', Re: '=~', Nre: '!~' };
const FILTER_OPS: Readonly<Record<string, FilterOp>> = { PipeExact: '|=', Neq: '!=', PipeMatch: '|~', Nre: '!~' };
const RANGE_FNS: Readonly<Record<string, RangeFn>> = { CountOverTime: 'count_over_time', Rate: 'rate', BytesOverTime: 'bytes_over_time', BytesRate: 'bytes_rate' };
const VECTOR_OPS: Readonly<Record<string, VectorOp>> = { Sum: 'sum', Count: 'count', Min: 'min', Max: 'max', Avg: 'avg' };
const BINARY_OPS: Readonly<Record<string, BinaryOp>> = { Add: '+', Sub: '-', Mul: '*', Div: '/', Mod: '%', Pow: '^' };

/**
 * The `item` nodes of one of the grammar's lists, in order: a list nests to
 * the left, `Matchers(Matchers(Matcher), Matcher)`, and its inner lists have
 * the list's own name.
 */
function listItems(list: SyntaxNode | null, item: string): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = list?.firstChild ?? null; c; c = c.nextSibling) {
    if (c.name === list!.name) out.push(...listItems(c, item));
    else if (c.name === item) out.push(c);
  }
  return out;
}

/** Parses LogQL; a 400 (SLUICE_ERR_LOGQL) for a syntax error or a construct not supported yet. */
export function parseLogQL(q: string): Query {
  const tree = parser.parse(q);
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) throw logqlError(`parse error at position ${ref.from}: ${JSON.stringify(q.slice(ref.from, ref.from + 20))}`);
    },
  });
  const expr = tree.topNode.getChild('Expr');
  if (!expr) throw logqlError('empty query');
  return new Reader(q).expr(expr);
}

/** A query that must be a log query (a selector, its filters and stages); `complaint` says so when it is not. */
export function parseLogQuery(q: string, complaint = 'a stream selector was expected'): LogQuery {
  const parsed = parseLogQL(q);
  if (parsed.kind !== 'log') throw logqlError(`${complaint}, as {service_name="api"}: ${JSON.stringify(q)}`);
  return parsed;
}

class Reader {
  constructor(private readonly q: string) {}

  text(n: SyntaxNode): string {
    return this.q.slice(n.from, n.to);
  }

  /** A LogQL string: Go-quoted "…" (unescaped in one pass) or raw `…`. */
  string(n: SyntaxNode): string {
    const t = this.text(n);
    if (t.startsWith('`')) return t.slice(1, -1);
    const body = t.slice(1, -1);
    let bad: string | undefined;
    const out = body.replace(/\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-7]{3})|(.))/gs, (_m, x?: string, u?: string, U?: string, o?: string, c?: string) => {
      if (x !== undefined) return String.fromCharCode(parseInt(x, 16));
      if (u !== undefined) return String.fromCharCode(parseInt(u, 16));
      if (U !== undefined) return String.fromCodePoint(parseInt(U, 16));
      if (o !== undefined) return String.fromCharCode(parseInt(o, 8));
      const simple = GO_ESCAPES[c!];
      if (simple === undefined) bad ??= c;
      return simple ?? '';
    });
    if (bad !== undefined) throw logqlError(`unknown escape \\${bad} in ${t} at position ${n.from}`);
    return out;
  }

  duration(n: SyntaxNode): bigint {
    const text = this.text(n);
    // Loki takes compound durations (1h30m), in Go's units plus d, w, y.
    const parts = text.match(/\d+(?:ms|[smhdwy])/g);
    if (!parts || parts.join('') !== text) throw logqlError(`not supported yet: the duration ${text} at position ${n.from}`);
    let total = 0n;
    for (const p of parts) {
      const unit = p.endsWith('ms') ? 'ms' : p.slice(-1);
      total += BigInt(p.slice(0, -unit.length)) * UNIT_NS[unit]!;
    }
    if (total <= 0n) throw logqlError(`the duration ${text} must be positive`);
    return total;
  }

  expr(n: SyntaxNode): Query {
    const child = n.firstChild!;
    if (child.name === 'LogExpr') return this.log(child);
    if (child.name === 'MetricExpr') return this.metric(child);
    throw unsupported(child, this.q);
  }

  log(n: SyntaxNode): LogQuery {
    const selector = n.getChild('Selector');
    if (!selector) throw unsupported(n, this.q);
    const filters: LineFilter[] = [];
    const labels: LabelStage[] = [];
    const pipeline = n.getChild('PipelineExpr');
    if (pipeline) this.pipeline(pipeline, filters, labels);
    return { kind: 'log', matchers: this.matchers(selector), filters, labels };
  }

  matchers(selector: SyntaxNode): Matcher[] {
    const out = listItems(selector.getChild('Matchers'), 'Matcher').map((m) => this.matcher(m));
    if (out.length === 0) throw logqlError('a stream selector needs at least one matcher, as {service_name="api"}');
    return out;
  }

  matcher(m: SyntaxNode): Matcher {
    const name = m.getChild('Identifier')!;
    const op = MATCH_OPS[name.nextSibling?.name ?? ''];
    const value = m.getChild('String');
    if (!op || !value) throw unsupported(m, this.q);
    return { name: this.text(name), op, value: this.string(value) };
  }

  pipeline(p: SyntaxNode, into: LineFilter[], labels: LabelStage[]): void {
    for (let c = p.firstChild; c; c = c.nextSibling) {
      if (c.name === 'PipelineExpr') this.pipeline(c, into, labels);
      else if (c.name === 'PipelineStage') {
        const stage = c.firstChild!;
        if (stage.name === 'LineFilters') this.lineFilters(stage, into);
        else if (stage.name === 'Pipe' && (stage.nextSibling?.name === 'DropLabelsExpr' || stage.nextSibling?.name === 'KeepLabelsExpr')) labels.push(this.labelStage(stage.nextSibling));
        else throw unsupported(stage.name === 'Pipe' && stage.nextSibling ? stage.nextSibling : stage, this.q);
      } else throw unsupported(c, this.q);
    }
  }

  /** `drop a, b` / `keep a, b` by name; a matcher inside (`drop level="info"`) is not supported yet. */
  labelStage(n: SyntaxNode): LabelStage {
    const drop = n.name === 'DropLabelsExpr';
    const names = listItems(n.getChild(drop ? 'DropLabels' : 'KeepLabels'), drop ? 'DropLabel' : 'KeepLabel').map((c) => {
      const id = c.firstChild;
      if (id?.name !== 'Identifier') throw unsupported(c, this.q);
      return this.text(id);
    });
    return { mode: drop ? 'drop' : 'keep', names };
  }

  lineFilters(n: SyntaxNode, into: LineFilter[]): void {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.name === 'LineFilters') this.lineFilters(c, into);
      else if (c.name === 'LineFilter') {
        const op = FILTER_OPS[c.getChild('Filter')?.firstChild?.name ?? ''];
        if (!op || c.getChild('FilterOp')) throw unsupported(c, this.q);
        const values = [this.string(c.getChild('String')!)];
        for (let or = c.getChild('OrFilter'); or; or = or.getChild('OrFilter')) values.push(this.string(or.getChild('String')!));
        into.push({ op, values });
      } else throw unsupported(c, this.q);
    }
  }

  metric(n: SyntaxNode): MetricQuery {
    const c = n.firstChild!;
    switch (c.name) {
      case 'RangeAggregationExpr':
        return this.range(c);
      case 'VectorAggregationExpr':
        return this.aggregate(c);
      case 'LiteralExpr': {
        const sign = c.getChild('Sub') ? -1 : 1;
        return { kind: 'number', value: sign * Number(this.text(c.getChild('Number')!)) };
      }
      case 'VectorExpr':
        return { kind: 'vector', value: Number(this.text(c.getChild('Number')!)) };
      case 'BinOpExpr':
        return this.binary(c);
      case 'ParenthesisExpr':
      case 'MetricExpr': {
        const inner = c.name === 'MetricExpr' ? c : c.getChild('MetricExpr') ?? c.getChild('Expr')?.getChild('MetricExpr');
        if (inner) return this.metric(inner);
        throw unsupported(c, this.q);
      }
      default:
        throw unsupported(c, this.q);
    }
  }

  range(n: SyntaxNode): RangeAggregation {
    const fnNode = n.getChild('RangeOp')?.firstChild;
    const fn = RANGE_FNS[fnNode?.name ?? ''];
    if (!fn) throw unsupported(fnNode ?? n, this.q);
    if (n.getChild('Grouping')) throw unsupported(n.getChild('Grouping')!, this.q);
    const lr = n.getChild('LogRangeExpr');
    if (!lr) throw unsupported(n, this.q);
    for (let c = lr.firstChild; c; c = c.nextSibling) {
      if (!['Selector', 'PipelineExpr', 'Range', 'OffsetExpr', 'OpenParenthesis', 'CloseParenthesis'].includes(c.name)) throw unsupported(c, this.q);
    }
    const log = this.log(lr);
    const range = lr.getChild('Range')?.getChild('Duration');
    if (!range) throw unsupported(lr, this.q);
    const offset = lr.getChild('OffsetExpr')?.getChild('Duration');
    return { kind: 'range', fn, log, rangeNs: this.duration(range), offsetNs: offset ? this.duration(offset) : 0n };
  }

  aggregate(n: SyntaxNode): VectorAggregation {
    const opNode = n.getChild('VectorOp')?.firstChild;
    const op = VECTOR_OPS[opNode?.name ?? ''];
    if (!op) throw unsupported(opNode ?? n, this.q);
    if (n.getChild('Number')) throw unsupported(n, this.q);
    const grouping = n.getChild('Grouping');
    let g: VectorAggregation['grouping'];
    if (grouping) {
      const labels = listItems(grouping.getChild('Labels'), 'Identifier').map((c) => this.text(c));
      g = { mode: grouping.getChild('Without') ? 'without' : 'by', labels };
    }
    const inner = n.getChild('MetricExpr');
    if (!inner) throw unsupported(n, this.q);
    return { kind: 'aggregate', op, grouping: g, expr: this.metric(inner) };
  }

  binary(n: SyntaxNode): Binary {
    const [left, right] = n.getChildren('Expr');
    const opNode = left?.nextSibling;
    const op = BINARY_OPS[opNode?.name ?? ''];
    if (!left || !right || !op) throw unsupported(opNode ?? n, this.q);
    const modifier = n.getChild('BinOpModifier');
    if (modifier && modifier.from !== modifier.to) throw unsupported(modifier, this.q);
    // The grammar's precedence between operators is not PromQL's: a chain
    // of them is refused rather than read in the wrong order.
    for (const side of [left, right]) {
      if (side.getChild('MetricExpr')?.getChild('BinOpExpr')) throw logqlError('not supported yet: several binary operators in a row; put parentheses around each');
    }
    const operand = (e: SyntaxNode): MetricQuery => {
      const q = this.expr(e);
      if (q.kind === 'log') throw logqlError('a binary operator takes metric queries or numbers, not a log query');
      return q;
    };
    return { kind: 'binary', op, left: operand(left), right: operand(right) };
  }
}

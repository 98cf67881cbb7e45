// LogQL to a small AST, parsed with Grafana's own grammar
// (@grafana/lezer-logql), so what Grafana's editor accepts is what is read
// here. The grammar accepts all of LogQL; this file takes the subset Sluice
// answers so far and refuses the rest with a 400 that names the construct,
// never a wrong answer. docs/grafana.md lists the subset.
import { parser } from '@grafana/lezer-logql';
import type { SyntaxNode } from '@lezer/common';
import { SluiceError } from '../../errors.js';
import { humanBytes } from './units.js';

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

/** A label comparison in a label filter; numbers, durations (seconds) and bytes compare as numbers. */
export type CmpOp = '==' | '!=' | '>' | '>=' | '<' | '<=';
export type LabelFilterExpr =
  | { readonly kind: 'and' | 'or'; readonly left: LabelFilterExpr; readonly right: LabelFilterExpr }
  | { readonly kind: 'match'; readonly matcher: Matcher }
  /** `addr = ip("10.0.0.0/8")`: an address, a CIDR range or a from-to range. */
  | { readonly kind: 'ip'; readonly name: string; readonly negate: boolean; readonly pattern: string }
  | { readonly kind: 'number' | 'duration' | 'bytes'; readonly name: string; readonly op: CmpOp; readonly value: number };

/** `a` (the field a), or `a="b.c"` (the field at a path: json) / `a="b"` (the key b: logfmt). */
export interface Extraction {
  readonly label: string;
  readonly path: string | undefined;
}

/** A label in drop/keep: by name, or (with a matcher) only where its value matches. */
export interface LabelItem {
  readonly name: string;
  readonly matcher: Matcher | undefined;
}

/** A pipeline stage after the selector (and after the line filters Sluice runs in the store), in order. */
export type Stage =
  | { readonly kind: 'line_filter'; readonly filter: LineFilter }
  /** `|= ip("…")`, `!= ip("…")`: a line with (without) an address in the range. */
  | { readonly kind: 'line_ip'; readonly negate: boolean; readonly pattern: string }
  /** `|> "<_> x <_>"`, `!> …`: a line that (does not) fit one of the patterns. */
  | { readonly kind: 'line_pattern'; readonly negate: boolean; readonly patterns: readonly string[] }
  | { readonly kind: 'json' | 'logfmt'; readonly extract: readonly Extraction[]; readonly strict: boolean; readonly keepEmpty: boolean }
  | { readonly kind: 'regexp' | 'pattern'; readonly expr: string }
  | { readonly kind: 'unpack' | 'decolorize' }
  | { readonly kind: 'label_filter'; readonly filter: LabelFilterExpr }
  | { readonly kind: 'line_format'; readonly template: string }
  | { readonly kind: 'label_format'; readonly items: ReadonlyArray<{ readonly name: string; readonly from: string | undefined; readonly template: string | undefined }> }
  | { readonly kind: 'drop' | 'keep'; readonly items: readonly LabelItem[] };

export interface LogQuery {
  readonly kind: 'log';
  readonly matchers: readonly Matcher[];
  /** Line filters that see the stored line (before any stage that rewrites it): run in the store. */
  readonly filters: readonly LineFilter[];
  /** The rest of the pipeline, run on each line the store returns (./pipeline.ts). */
  readonly stages: readonly Stage[];
}

export type RangeFn =
  | 'count_over_time' | 'rate' | 'bytes_over_time' | 'bytes_rate' | 'absent_over_time'
  | 'rate_counter' | 'sum_over_time' | 'avg_over_time' | 'min_over_time' | 'max_over_time'
  | 'stddev_over_time' | 'stdvar_over_time' | 'quantile_over_time' | 'first_over_time' | 'last_over_time';
/** The functions that take an unwrapped label's values rather than counting lines. */
export const UNWRAP_FNS: ReadonlySet<RangeFn> = new Set(['rate', 'rate_counter', 'sum_over_time', 'avg_over_time', 'min_over_time', 'max_over_time', 'stddev_over_time', 'stdvar_over_time', 'quantile_over_time', 'first_over_time', 'last_over_time']);

export interface Unwrap {
  readonly label: string;
  readonly conv: 'number' | 'duration' | 'duration_seconds' | 'bytes';
  /** Label filters after the unwrap (`| unwrap x | __error__=""`). */
  readonly filters: readonly LabelFilterExpr[];
}

export interface Grouping {
  readonly mode: 'by' | 'without';
  readonly labels: readonly string[];
}

export interface RangeAggregation {
  readonly kind: 'range';
  readonly fn: RangeFn;
  readonly log: LogQuery;
  readonly rangeNs: bigint;
  readonly offsetNs: bigint;
  readonly unwrap: Unwrap | undefined;
  /** quantile_over_time's φ. */
  readonly param: number | undefined;
  /** `by`/`without` on an unwrapped range aggregation. */
  readonly grouping: Grouping | undefined;
}

export type VectorOp = 'sum' | 'count' | 'min' | 'max' | 'avg' | 'stddev' | 'stdvar' | 'topk' | 'bottomk' | 'sort' | 'sort_desc';
export interface VectorAggregation {
  readonly kind: 'aggregate';
  readonly op: VectorOp;
  /** `by` labels, or `without` labels; neither: everything into one series. */
  readonly grouping: Grouping | undefined;
  /** topk/bottomk's k. */
  readonly param: number | undefined;
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

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^';
export type BinaryOp = ArithmeticOp | CmpOp | 'and' | 'or' | 'unless';
export interface Binary {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly left: MetricQuery;
  readonly right: MetricQuery;
  /** A comparison's `bool`: 0 or 1 instead of filtering. */
  readonly bool: boolean;
  /** `on (…)` or `ignoring (…)`: which labels match two vectors' series. */
  readonly matching: { readonly on: boolean; readonly labels: readonly string[] } | undefined;
  /** `group_left (…)` / `group_right (…)`: many-to-one matching, with the labels taken from the one side. */
  readonly group: { readonly side: 'left' | 'right'; readonly labels: readonly string[] } | undefined;
}

/** `label_replace(v, dst, replacement, src, regex)`, as in PromQL. */
export interface LabelReplace {
  readonly kind: 'label_replace';
  readonly expr: MetricQuery;
  readonly dst: string;
  readonly replacement: string;
  readonly src: string;
  readonly regex: string;
}

export type MetricQuery = RangeAggregation | VectorAggregation | NumberLiteral | VectorLiteral | Binary | LabelReplace;
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

const MAX_DURATION_NS = 100n * 365n * 86_400_000_000_000n;

const MATCH_OPS: Readonly<Record<string, MatchOp>> = { Eq: '=', Neq: '!=', Re: '=~', Nre: '!~' };
const FILTER_OPS: Readonly<Record<string, FilterOp>> = { PipeExact: '|=', Neq: '!=', PipeMatch: '|~', Nre: '!~' };
const CMP_OPS: Readonly<Record<string, CmpOp>> = { Eql: '==', Eq: '==', Neq: '!=', Gtr: '>', Gte: '>=', Lss: '<', Lte: '<=' };
const RANGE_FNS: Readonly<Record<string, RangeFn>> = {
  CountOverTime: 'count_over_time', Rate: 'rate', BytesOverTime: 'bytes_over_time', BytesRate: 'bytes_rate', AbsentOverTime: 'absent_over_time',
  RateCounter: 'rate_counter', SumOverTime: 'sum_over_time', AvgOverTime: 'avg_over_time', MinOverTime: 'min_over_time', MaxOverTime: 'max_over_time',
  StddevOverTime: 'stddev_over_time', StdvarOverTime: 'stdvar_over_time', QuantileOverTime: 'quantile_over_time', FirstOverTime: 'first_over_time', LastOverTime: 'last_over_time',
};
const VECTOR_OPS: Readonly<Record<string, VectorOp>> = {
  Sum: 'sum', Count: 'count', Min: 'min', Max: 'max', Avg: 'avg', Stddev: 'stddev', Stdvar: 'stdvar', Topk: 'topk', Bottomk: 'bottomk', Sort: 'sort', Sort_Desc: 'sort_desc',
  // The exact top k is a correct answer to Loki's approximate one.
  Approx_Topk: 'topk',
};
const BINARY_OPS: Readonly<Record<string, BinaryOp>> = {
  Add: '+', Sub: '-', Mul: '*', Div: '/', Mod: '%', Pow: '^', Eql: '==', Neq: '!=', Gtr: '>', Gte: '>=', Lss: '<', Lte: '<=', And: 'and', Or: 'or', Unless: 'unless',
};
// PromQL's precedence, which Loki's parser follows (the lezer grammar has
// one level for all operators, so a chain is re-read here): higher binds
// tighter; ^ alone groups to the right.
const PRECEDENCE: Readonly<Record<BinaryOp, number>> = {
  or: 1, and: 2, unless: 2, '==': 3, '!=': 3, '>': 3, '>=': 3, '<': 3, '<=': 3, '+': 4, '-': 4, '*': 5, '/': 5, '%': 5, '^': 6,
};
const COMPARISONS: ReadonlySet<BinaryOp> = new Set(['==', '!=', '>', '>=', '<', '<=']);

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

/** A Go string literal, "…" (unescaped in one pass) or raw `…`; a 400 for a bad escape. */
export function goUnquote(t: string, pos: number): string {
  if (t.startsWith('`')) return t.slice(1, -1);
  const body = t.slice(1, -1);
  let bad: string | undefined;
  const out = body.replace(/\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-7]{3})|(.))/gs, (_m, x?: string, u?: string, U?: string, o?: string, c?: string) => {
    if (x !== undefined) return String.fromCharCode(parseInt(x, 16));
    if (u !== undefined) return String.fromCharCode(parseInt(u, 16));
    if (U !== undefined) {
      const cp = parseInt(U, 16);
      if (cp > 0x10ffff) bad ??= `U${U}`;
      return cp > 0x10ffff ? '' : String.fromCodePoint(cp);
    }
    if (o !== undefined) return String.fromCharCode(parseInt(o, 8));
    const simple = GO_ESCAPES[c!];
    if (simple === undefined) bad ??= c;
    return simple ?? '';
  });
  if (bad !== undefined) throw logqlError(`unknown escape \\${bad} in ${t} at position ${pos}`);
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

/** The stages that rewrite the line: line filters after one of them see the new line, so they run with the pipeline. */
const REWRITES_LINE: ReadonlySet<Stage['kind']> = new Set(['line_format', 'unpack', 'decolorize']);

type BinaryToken = { op: BinaryOp; bool: boolean; matching: Binary['matching']; group: Binary['group'] };

class Reader {
  constructor(private readonly q: string) {}

  text(n: SyntaxNode): string {
    return this.q.slice(n.from, n.to);
  }

  /** A LogQL string: Go-quoted "…" (unescaped in one pass) or raw `…`. */
  string(n: SyntaxNode): string {
    return goUnquote(this.text(n), n.from);
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
    // Ranges and offsets reach the store as Int64 nanoseconds.
    if (total > MAX_DURATION_NS) throw logqlError(`the duration ${text} is longer than 100 years`);
    return total;
  }

  number(n: SyntaxNode): number {
    const v = Number(this.text(n));
    if (!Number.isFinite(v)) throw logqlError(`not a number: ${this.text(n)} at position ${n.from}`);
    return v;
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
    const stages: Stage[] = [];
    const pipeline = n.getChild('PipelineExpr');
    if (pipeline) this.pipeline(pipeline, stages);
    // Line filters before the first stage that rewrites the line see the
    // stored line, whatever parsers or label filters come between: they
    // are all conditions on the same event, so the store runs them.
    const firstRewrite = stages.findIndex((s) => REWRITES_LINE.has(s.kind));
    const before = firstRewrite < 0 ? stages : stages.slice(0, firstRewrite);
    const filters = before.flatMap((s) => (s.kind === 'line_filter' ? [s.filter] : []));
    const rest = [...before.filter((s) => s.kind !== 'line_filter'), ...(firstRewrite < 0 ? [] : stages.slice(firstRewrite))];
    return { kind: 'log', matchers: this.matchers(selector), filters, stages: rest };
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

  pipeline(p: SyntaxNode, into: Stage[]): void {
    for (let c = p.firstChild; c; c = c.nextSibling) {
      if (c.name === 'PipelineExpr') this.pipeline(c, into);
      else if (c.name === 'PipelineStage') {
        const first = c.firstChild!;
        if (first.name === 'LineFilters') this.lineFilters(first, into);
        else if (first.name === 'Pipe' && first.nextSibling) into.push(this.stage(first.nextSibling));
        else throw unsupported(first, this.q);
      } else throw unsupported(c, this.q);
    }
  }

  stage(n: SyntaxNode): Stage {
    switch (n.name) {
      case 'LabelParser': {
        const kind = n.firstChild!.name;
        const arg = n.getChild('String');
        if (kind === 'Json') return { kind: 'json', extract: [], strict: false, keepEmpty: false };
        if (kind === 'Logfmt') return { kind: 'logfmt', extract: [], strict: false, keepEmpty: false };
        if (kind === 'Unpack') return { kind: 'unpack' };
        if ((kind === 'Regexp' || kind === 'Pattern') && arg) return { kind: kind === 'Regexp' ? 'regexp' : 'pattern', expr: this.string(arg) };
        throw unsupported(n, this.q);
      }
      case 'LogfmtParser':
      case 'LogfmtExpressionParser':
      case 'JsonExpressionParser': {
        const flags = listItems(n.getChild('LogfmtParserFlags'), 'ParserFlag').map((f) => this.text(f));
        const extract = listItems(n.getChild('LabelExtractionExpressionList'), 'LabelExtractionExpression').map((e) => {
          const path = e.getChild('String');
          return { label: this.text(e.getChild('Identifier')!), path: path ? this.string(path) : undefined };
        });
        return { kind: n.name === 'JsonExpressionParser' ? 'json' : 'logfmt', extract, strict: flags.includes('--strict'), keepEmpty: flags.includes('--keep-empty') };
      }
      case 'DecolorizeExpr':
        return { kind: 'decolorize' };
      case 'LabelFilter':
        return { kind: 'label_filter', filter: this.labelFilter(n) };
      case 'LineFormatExpr':
        return { kind: 'line_format', template: this.string(n.getChild('String')!) };
      case 'LabelFormatExpr':
        return {
          kind: 'label_format',
          items: listItems(n.getChild('LabelsFormat'), 'LabelFormatMatcher').map((m) => {
            const [name, from] = m.getChildren('Identifier');
            const template = m.getChild('String');
            return { name: this.text(name!), from: from ? this.text(from) : undefined, template: template ? this.string(template) : undefined };
          }),
        };
      case 'DropLabelsExpr':
      case 'KeepLabelsExpr': {
        const drop = n.name === 'DropLabelsExpr';
        const items = listItems(n.getChild(drop ? 'DropLabels' : 'KeepLabels'), drop ? 'DropLabel' : 'KeepLabel').map((c) => {
          const id = c.firstChild!;
          if (id.name === 'Identifier') return { name: this.text(id), matcher: undefined };
          const m = this.matcher(id);
          return { name: m.name, matcher: m };
        });
        return { kind: drop ? 'drop' : 'keep', items };
      }
      default:
        throw unsupported(n, this.q);
    }
  }

  labelFilter(n: SyntaxNode): LabelFilterExpr {
    const parts = n.getChildren('LabelFilter');
    if (parts.length === 2) {
      // `a, b` is `a and b`.
      return { kind: n.getChild('Or') ? 'or' : 'and', left: this.labelFilter(parts[0]!), right: this.labelFilter(parts[1]!) };
    }
    if (parts.length === 1) return this.labelFilter(parts[0]!); // parentheses
    const c = n.firstChild!;
    if (c.name === 'Matcher') return { kind: 'match', matcher: this.matcher(c) };
    if (c.name === 'IpLabelFilter') {
      const id = c.getChild('Identifier');
      const op = id?.nextSibling?.name;
      if (!id || (op !== 'Eq' && op !== 'Neq')) throw unsupported(c, this.q);
      return { kind: 'ip', name: this.text(id), negate: op === 'Neq', pattern: this.string(c.getChild('String')!) };
    }
    const leaf = c.name === 'UnitFilter' ? c.firstChild! : c;
    const id = leaf.getChild('Identifier');
    const op = CMP_OPS[id?.nextSibling?.name ?? ''];
    if (!id || !op) throw unsupported(leaf, this.q);
    const name = this.text(id);
    switch (leaf.name) {
      case 'NumberFilter': {
        const lit = leaf.getChild('LiteralExpr')!;
        return { kind: 'number', name, op, value: (lit.getChild('Sub') ? -1 : 1) * this.number(lit.getChild('Number')!) };
      }
      case 'DurationFilter':
        return { kind: 'duration', name, op, value: Number(this.duration(leaf.getChild('Duration')!)) / 1e9 };
      case 'BytesFilter': {
        const v = humanBytes(this.text(leaf.getChild('Bytes')!));
        if (v === undefined) throw unsupported(leaf, this.q);
        return { kind: 'bytes', name, op, value: v };
      }
      default:
        throw unsupported(leaf, this.q);
    }
  }

  lineFilters(n: SyntaxNode, into: Stage[]): void {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.name === 'LineFilters') this.lineFilters(c, into);
      else if (c.name === 'LineFilter') {
        const opName = c.getChild('Filter')?.firstChild?.name ?? '';
        const values = [this.string(c.getChild('String')!)];
        for (let or = c.getChild('OrFilter'); or; or = or.getChild('OrFilter')) values.push(this.string(or.getChild('String')!));
        if (opName === 'PipePattern' || opName === 'Npa') {
          into.push({ kind: 'line_pattern', negate: opName === 'Npa', patterns: values });
          continue;
        }
        const op = FILTER_OPS[opName];
        if (!op) throw unsupported(c, this.q);
        if (c.getChild('FilterOp')) {
          if (c.getChild('FilterOp')!.firstChild?.name !== 'Ip' || values.length > 1 || (op !== '|=' && op !== '!=')) throw unsupported(c, this.q);
          into.push({ kind: 'line_ip', negate: op === '!=', pattern: values[0]! });
          continue;
        }
        into.push({ kind: 'line_filter', filter: { op, values } });
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
      case 'LabelReplaceExpr': {
        const inner = c.getChild('MetricExpr');
        const args = c.getChildren('String').map((x) => this.string(x));
        if (!inner || args.length !== 4) throw unsupported(c, this.q);
        const [dst, replacement, src, regex] = args as [string, string, string, string];
        if (!/^[A-Za-z_]\w*$/.test(dst)) throw logqlError(`label_replace: ${JSON.stringify(dst)} is not a label name`);
        return { kind: 'label_replace', expr: this.metric(inner), dst, replacement, src, regex };
      }
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
    const lr = n.getChild('LogRangeExpr');
    if (!lr) throw unsupported(n, this.q);
    for (let c = lr.firstChild; c; c = c.nextSibling) {
      if (!['Selector', 'PipelineExpr', 'UnwrapExpr', 'Range', 'OffsetExpr', 'OpenParenthesis', 'CloseParenthesis'].includes(c.name)) throw unsupported(c, this.q);
    }
    const log = this.log(lr);
    const range = lr.getChild('Range')?.getChild('Duration');
    if (!range) throw unsupported(lr, this.q);
    const offset = lr.getChild('OffsetExpr')?.getChild('Duration');
    const unwrapNode = lr.getChild('UnwrapExpr');
    const unwrap = unwrapNode ? this.unwrap(unwrapNode) : undefined;
    const unwrapped = fn !== 'rate' && UNWRAP_FNS.has(fn);
    if (unwrapped && !unwrap) throw logqlError(`${fn} needs an unwrapped label: ${fn}({…} | unwrap <label> [range])`);
    if (unwrap && !UNWRAP_FNS.has(fn)) throw logqlError(`${fn} counts lines and takes no unwrap; use sum_over_time, avg_over_time, … for a label's values`);
    const paramNode = n.getChild('Number');
    const param = paramNode ? this.number(paramNode) : undefined;
    if (fn === 'quantile_over_time' && param === undefined) throw logqlError('quantile_over_time needs its quantile: quantile_over_time(0.99, …)');
    if (fn !== 'quantile_over_time' && param !== undefined) throw unsupported(paramNode!, this.q);
    const grouping = this.grouping(n.getChild('Grouping'));
    if (grouping && !unwrap) throw logqlError(`${fn} takes by/without only with an unwrapped label; put the grouping on an outer sum, as sum by (…) (${fn}(…))`);
    return { kind: 'range', fn, log, rangeNs: this.duration(range), offsetNs: offset ? this.duration(offset) : 0n, unwrap, param, grouping };
  }

  unwrap(n: SyntaxNode): Unwrap {
    // UnwrapExpr(UnwrapExpr(| unwrap conv(label)), | label filter): the
    // innermost names the label, the outer ones filter after it.
    const filters: LabelFilterExpr[] = [];
    let u = n;
    while (u.getChild('UnwrapExpr')) {
      filters.unshift(this.labelFilter(u.getChild('LabelFilter')!));
      u = u.getChild('UnwrapExpr')!;
    }
    const conv = u.getChild('ConvOp')?.firstChild?.name;
    const label = u.getChild('Identifier');
    if (!label) throw unsupported(u, this.q);
    return {
      label: this.text(label),
      conv: conv === 'DurationConv' ? 'duration' : conv === 'DurationSecondsConv' ? 'duration_seconds' : conv === 'BytesConv' ? 'bytes' : 'number',
      filters,
    };
  }

  grouping(g: SyntaxNode | null): Grouping | undefined {
    if (!g) return undefined;
    return { mode: g.getChild('Without') ? 'without' : 'by', labels: listItems(g.getChild('Labels'), 'Identifier').map((c) => this.text(c)) };
  }

  aggregate(n: SyntaxNode): VectorAggregation {
    const opNode = n.getChild('VectorOp')?.firstChild;
    const op = VECTOR_OPS[opNode?.name ?? ''];
    if (!op) throw unsupported(opNode ?? n, this.q);
    const paramNode = n.getChild('Number');
    let param: number | undefined;
    if (op === 'topk' || op === 'bottomk') {
      param = paramNode ? this.number(paramNode) : undefined;
      if (param === undefined || !Number.isInteger(param) || param < 1) throw logqlError(`${op} needs a whole number k of at least 1: ${op}(5, …)`);
    } else if (paramNode) throw unsupported(paramNode, this.q);
    const inner = n.getChild('MetricExpr');
    if (!inner) throw unsupported(n, this.q);
    return { kind: 'aggregate', op, grouping: this.grouping(n.getChild('Grouping')), param, expr: this.metric(inner) };
  }

  /**
   * A chain of binary operators, re-grouped by PromQL's precedence: the
   * grammar nests them in the order it meets them, so its operands and
   * operators are read in text order (parentheses stay one operand) and
   * built again by precedence climbing.
   */
  binary(n: SyntaxNode): MetricQuery {
    const operands: MetricQuery[] = [];
    const ops: BinaryToken[] = [];
    const flatten = (b: SyntaxNode): void => {
      const [left, right] = b.getChildren('Expr');
      const opNode = left?.nextSibling;
      const op = BINARY_OPS[opNode?.name ?? ''];
      if (!left || !right || !op) throw unsupported(opNode ?? b, this.q);
      this.operand(left, operands, flatten);
      ops.push({ op, ...this.modifier(b.getChild('BinOpModifier'), op) });
      this.operand(right, operands, flatten);
    };
    flatten(n);
    let next = 0;
    let opIndex = 0;
    const climb = (minPrec: number): MetricQuery => {
      let left = operands[next++]!;
      while (opIndex < ops.length && PRECEDENCE[ops[opIndex]!.op] >= minPrec) {
        const t = ops[opIndex++]!;
        const prec = PRECEDENCE[t.op];
        // Left-associative but for ^: the right side takes only tighter operators.
        const right = climb(t.op === '^' ? prec : prec + 1);
        left = this.makeBinary(t, left, right);
      }
      return left;
    };
    return climb(0);
  }

  operand(e: SyntaxNode, operands: MetricQuery[], flatten: (b: SyntaxNode) => void): void {
    const bin = e.getChild('MetricExpr')?.getChild('BinOpExpr');
    if (bin) return flatten(bin);
    const q = this.expr(e);
    if (q.kind === 'log') throw logqlError('a binary operator takes metric queries or numbers, not a log query');
    operands.push(q);
  }

  modifier(m: SyntaxNode | null, op: BinaryOp): Omit<BinaryToken, 'op'> {
    const none = { bool: false, matching: undefined, group: undefined };
    if (!m || m.from === m.to) return none;
    const bool = m.getChild('Bool') !== null;
    if (bool && !COMPARISONS.has(op)) throw logqlError(`bool modifies only comparisons, not ${op}`);
    const onIgnoring = m.getChild('OnOrIgnoringModifier');
    const labelsOf = (g: SyntaxNode | null): string[] => listItems(g?.getChild('GroupingLabelList') ?? null, 'GroupingLabel').map((l) => this.text(l));
    const matching = onIgnoring ? { on: onIgnoring.getChild('On') !== null, labels: labelsOf(onIgnoring.getChild('GroupingLabels')) } : undefined;
    const left = m.getChild('GroupLeft') ?? onIgnoring?.getChild('GroupLeft');
    const right = m.getChild('GroupRight') ?? onIgnoring?.getChild('GroupRight');
    const groupLabels = left ?? right ? labelsOf((left ?? right)!.nextSibling?.name === 'GroupingLabels' ? (left ?? right)!.nextSibling : null) : [];
    const group = left ? { side: 'left' as const, labels: groupLabels } : right ? { side: 'right' as const, labels: groupLabels } : undefined;
    return { bool, matching, group };
  }

  makeBinary(t: BinaryToken, left: MetricQuery, right: MetricQuery): Binary {
    const setOp = t.op === 'and' || t.op === 'or' || t.op === 'unless';
    const scalar = (x: MetricQuery): boolean => x.kind === 'number';
    if (setOp && (scalar(left) || scalar(right))) throw logqlError(`${t.op} works on vectors, not numbers`);
    if (COMPARISONS.has(t.op) && scalar(left) && scalar(right) && !t.bool) throw logqlError('a comparison between two numbers needs bool: 1 > bool 0');
    if (t.group && setOp) throw logqlError(`${t.op} takes no group_left/group_right`);
    return { kind: 'binary', op: t.op, left, right, bool: t.bool, matching: t.matching, group: t.group };
  }
}

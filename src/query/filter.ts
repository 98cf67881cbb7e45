// The filter every read shares: a time range, the search language (`q`) and
// the foundation's shorthands (`service`, minimum `level`, `contains`), all
// ANDed. Values are parameters; the SQL is fixed fragments.
import { SluiceError } from '../errors.js';
import { isLevel } from '../model/levels.js';
import { formatClickHouse, parseDurationNs } from '../model/time.js';
import { compileQuery } from './language/compile.js';
import { parseQuery, type Node } from './language/parse.js';
import { parseTimeRange, type TimeRange } from './time-range.js';

export interface FilterQuery {
  q?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  service?: string | undefined;
  level?: string | undefined;
  contains?: string | undefined;
}

export interface Filter {
  readonly range: TimeRange;
  readonly ast: Node;
  /** Conditions to AND together, time range first. */
  readonly where: string[];
  readonly params: Record<string, unknown>;
}

export const filterQuerySchema = {
  q: { type: 'string', maxLength: 4096 },
  from: { type: 'string', maxLength: 64 },
  to: { type: 'string', maxLength: 64 },
  service: { type: 'string', maxLength: 256 },
  level: { type: 'string', maxLength: 16 },
  contains: { type: 'string', maxLength: 1024 },
} as const;

/** Folds the shorthands into the query's AST, so rollup and raw see one filter. */
export function filterAst(f: FilterQuery): Node {
  const parts: Node[] = [];
  const q = parseQuery(f.q ?? '');
  if (q.type !== 'all') parts.push(q);
  if (f.service) parts.push({ type: 'field', field: 'service', op: '=', value: f.service, wildcard: false, pos: 0 });
  if (f.level) {
    const level = f.level.toLowerCase();
    if (!isLevel(level)) throw new SluiceError('SLUICE_ERR_INVALID_LEVEL', `unknown level ${JSON.stringify(f.level)}: use trace, debug, info, warn, error or fatal`);
    parts.push({ type: 'field', field: 'level', op: '>=', value: level, wildcard: false, pos: 0 });
  }
  if (parts.length === 0) return { type: 'all' };
  return parts.length === 1 ? parts[0]! : { type: 'and', children: parts };
}

export interface FilterOptions {
  /** Use this range instead of the query's from/to. */
  readonly range?: TimeRange;
  /** `to` is exclusive (trend buckets) rather than inclusive. */
  readonly endExclusive?: boolean;
  /** What "now" and durations like `15m` count from: the app's clock (ctx.clock). */
  readonly now?: bigint;
}

export function buildFilter(f: FilterQuery, retentionDays: number, opts: FilterOptions = {}): Filter {
  const range = opts.range ?? parseTimeRange(f, BigInt(retentionDays) * parseDurationNs('1d')!, opts.now);
  const ast = filterAst(f);
  const compiled = compileQuery(ast);
  const where = ['time >= {from:DateTime64(9)}', opts.endExclusive ? 'time < {to:DateTime64(9)}' : 'time <= {to:DateTime64(9)}'];
  const params: Record<string, unknown> = { from: formatClickHouse(range.fromNs), to: formatClickHouse(range.toNs), ...compiled.params };
  if (compiled.sql !== '1') where.push(compiled.sql);
  if (f.contains) {
    where.push('positionCaseInsensitiveUTF8(message, {contains:String}) > 0');
    params.contains = f.contains;
  }
  return { range, ast, where, params };
}


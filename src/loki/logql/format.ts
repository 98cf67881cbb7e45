// LogQL printed back from Sluice's AST (./parse.ts), for Loki's
// format_query: one canonical spelling of what was parsed — spacing,
// quoting and operator forms made uniform, grouping before the parentheses.
import type { LineFilter, LogQuery, Matcher, MetricQuery, Query } from './parse.js';

const quote = (s: string): string => JSON.stringify(s);

function duration(ns: bigint): string {
  const units: Array<[string, bigint]> = [['d', 86_400_000_000_000n], ['h', 3_600_000_000_000n], ['m', 60_000_000_000n], ['s', 1_000_000_000n], ['ms', 1_000_000n]];
  let left = ns;
  let out = '';
  for (const [u, size] of units) {
    if (left >= size) {
      out += `${left / size}${u}`;
      left %= size;
    }
  }
  return out || '0s';
}

const matcher = (m: Matcher): string => `${m.name}${m.op}${quote(m.value)}`;
const filter = (f: LineFilter): string => `${f.op} ${f.values.map(quote).join(' or ')}`;

function log(q: LogQuery): string {
  const stages = [...q.filters.map(filter), ...q.labels.map((l) => `| ${l.mode} ${l.names.join(', ')}`)];
  return [`{${q.matchers.map(matcher).join(', ')}}`, ...stages].join(' ');
}

function metric(q: MetricQuery): string {
  switch (q.kind) {
    case 'number':
      return String(q.value);
    case 'vector':
      return `vector(${q.value})`;
    case 'range':
      return `${q.fn}(${log(q.log)} [${duration(q.rangeNs)}]${q.offsetNs > 0n ? ` offset ${duration(q.offsetNs)}` : ''})`;
    case 'aggregate':
      return `${q.op}${q.grouping ? ` ${q.grouping.mode} (${q.grouping.labels.join(', ')})` : ''} (${metric(q.expr)})`;
    case 'binary': {
      // An operand that is itself an operation keeps its parentheses.
      const side = (x: MetricQuery): string => (x.kind === 'binary' ? `(${metric(x)})` : metric(x));
      return `${side(q.left)} ${q.op} ${side(q.right)}`;
    }
  }
}

export function formatLogQL(q: Query): string {
  return q.kind === 'log' ? log(q) : metric(q);
}

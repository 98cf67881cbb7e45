// LogQL printed back from Sluice's AST (./parse.ts), for Loki's
// format_query: one canonical spelling of what was parsed — spacing,
// quoting and operator forms made uniform, grouping before the parentheses.
import type { Grouping, LabelFilterExpr, LineFilter, LogQuery, Matcher, MetricQuery, Query, Stage } from './parse.js';

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

function labelFilter(f: LabelFilterExpr): string {
  switch (f.kind) {
    case 'and':
    case 'or':
      return `(${labelFilter(f.left)} ${f.kind} ${labelFilter(f.right)})`;
    case 'match':
      return matcher(f.matcher);
    case 'ip':
      return `${f.name}${f.negate ? '!=' : '='}ip(${quote(f.pattern)})`;
    case 'number':
      return `${f.name} ${f.op} ${f.value}`;
    case 'duration':
      return `${f.name} ${f.op} ${duration(BigInt(Math.round(f.value * 1e9)))}`;
    case 'bytes':
      return `${f.name} ${f.op} ${f.value}B`;
  }
}

function stage(s: Stage): string {
  switch (s.kind) {
    case 'line_filter':
      return filter(s.filter);
    case 'line_ip':
      return `${s.negate ? '!=' : '|='} ip(${quote(s.pattern)})`;
    case 'line_pattern':
      return `${s.negate ? '!>' : '|>'} ${s.patterns.map(quote).join(' or ')}`;
    case 'json':
    case 'logfmt': {
      const flags = [s.strict ? ' --strict' : '', s.keepEmpty ? ' --keep-empty' : ''].join('');
      const params = s.extract.map((x) => (x.path === undefined ? x.label : `${x.label}=${quote(x.path)}`)).join(', ');
      return `| ${s.kind}${flags}${params ? ' ' + params : ''}`;
    }
    case 'regexp':
    case 'pattern':
      return `| ${s.kind} ${quote(s.expr)}`;
    case 'unpack':
    case 'decolorize':
      return `| ${s.kind}`;
    case 'label_filter':
      return `| ${labelFilter(s.filter)}`;
    case 'line_format':
      return `| line_format ${quote(s.template)}`;
    case 'label_format':
      return `| label_format ${s.items.map((i) => `${i.name}=${i.from ?? quote(i.template!)}`).join(', ')}`;
    case 'drop':
    case 'keep':
      return `| ${s.kind} ${s.items.map((i) => (i.matcher ? matcher(i.matcher) : i.name)).join(', ')}`;
  }
}

function log(q: LogQuery): string {
  const stages = [...q.filters.map(filter), ...q.stages.map(stage)];
  return [`{${q.matchers.map(matcher).join(', ')}}`, ...stages].join(' ');
}

const grouping = (g: Grouping | undefined): string => (g ? ` ${g.mode} (${g.labels.join(', ')})` : '');

function metric(q: MetricQuery): string {
  switch (q.kind) {
    case 'number':
      return String(q.value);
    case 'vector':
      return `vector(${q.value})`;
    case 'range': {
      const u = q.unwrap;
      const unwrap = u ? ` | unwrap ${u.conv === 'number' ? u.label : `${u.conv}(${u.label})`}${u.filters.map((f) => ` | ${labelFilter(f)}`).join('')}` : '';
      const param = q.param === undefined ? '' : `${q.param}, `;
      return `${q.fn}(${param}${log(q.log)}${unwrap} [${duration(q.rangeNs)}]${q.offsetNs > 0n ? ` offset ${duration(q.offsetNs)}` : ''})${grouping(q.grouping)}`;
    }
    case 'aggregate':
      return `${q.op}${q.grouping ? grouping(q.grouping) + ' ' : ''}(${q.param === undefined ? '' : `${q.param}, `}${metric(q.expr)})`;
    case 'label_replace':
      return `label_replace(${metric(q.expr)}, ${[q.dst, q.replacement, q.src, q.regex].map(quote).join(', ')})`;
    case 'binary': {
      // Every operand that is itself an operation keeps its parentheses.
      const side = (x: MetricQuery): string => (x.kind === 'binary' ? `(${metric(x)})` : metric(x));
      const m = q.matching ? ` ${q.matching.on ? 'on' : 'ignoring'} (${q.matching.labels.join(', ')})` : '';
      const g = q.group ? ` group_${q.group.side} (${q.group.labels.join(', ')})` : '';
      return `${side(q.left)} ${q.op}${q.bool ? ' bool' : ''}${m}${g} ${side(q.right)}`;
    }
  }
}

export function formatLogQL(q: Query): string {
  return q.kind === 'log' ? log(q) : metric(q);
}

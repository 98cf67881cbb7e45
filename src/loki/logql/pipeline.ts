// A LogQL pipeline (the stages after a selector: parsers, label filters,
// line_format, label_format, drop/keep, decolorize) run on each line the
// store returns, with Loki's semantics:
// - A line starts with its stream labels (service_name, host, level). Its
//   attributes are its structured metadata: label filters, templates and
//   unwrap read them, and they join the result's labels only when a parser
//   or label_format names them.
// - A parser adds what it extracts (a name a stream label already has gets
//   `_extracted`). Sluice parses JSON and logfmt lines when it ingests them
//   and keeps the fields as attributes beside the message, so `| json` and
//   `| logfmt` on a line that is not (or no longer) JSON or logfmt extract
//   those attributes; only a line with neither is a parser error.
// - An error sets `__error__` (and `__error_details__`) and the line goes
//   on: `__error__=""` drops it.
// - Labels with empty values are not in a result's label set.
import type { LabelFilterExpr, LineFilter, LogQuery, Matcher, Stage, Unwrap } from './parse.js';
import { goUnquote, logqlError } from './parse.js';
import { ipMatcher, lineHasIp } from './ip.js';
import { parseLogfmtLenient } from './logfmt.js';
import { compileTemplate } from './template.js';
import { goDurationSeconds, goFloat, humanBytes } from './units.js';
import { liveRegex } from '../../query/language/match.js';

export interface PipelineInput {
  readonly ns: string;
  readonly message: string;
  readonly service: string;
  readonly host: string;
  readonly level: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface PipelineOutput {
  line: string;
  /** The result's labels, empty values left out. */
  labels: Record<string, string>;
  /** With an unwrap: the label's value. */
  value?: number | undefined;
}

/** One line's state while its pipeline runs. */
class Entry {
  readonly labels = new Map<string, string>();
  readonly base: ReadonlySet<string>;
  constructor(
    readonly ns: string,
    public line: string,
    readonly attributes: Readonly<Record<string, string>>,
    base: Record<string, string>,
  ) {
    for (const [k, v] of Object.entries(base)) this.labels.set(k, v);
    this.base = new Set(Object.keys(base));
  }

  get(name: string): string | undefined {
    return this.labels.get(name) ?? this.attributes[name];
  }

  has(name: string): boolean {
    return this.labels.has(name) || name in this.attributes;
  }

  /** A parser's label: a stream label's name gets `_extracted`, as Loki does. */
  extract(name: string, value: string): void {
    this.labels.set(this.base.has(name) ? `${name}_extracted` : name, value);
  }

  error(kind: string, details: string): void {
    if (this.labels.has('__error__')) return;
    this.labels.set('__error__', kind);
    this.labels.set('__error_details__', details);
  }

  hasError(): boolean {
    return this.labels.has('__error__');
  }

  template(): { label: (n: string) => string; line: string; ns: string } {
    return { label: (n) => this.get(n) ?? '', line: this.line, ns: this.ns };
  }
}

type Step = (e: Entry) => boolean;
type ParserStage = Extract<Stage, { kind: 'json' | 'logfmt' }>;

/** Loki's label names: letters, digits and `_`, not starting with a digit. */
export function sanitizeLabel(key: string): string {
  const k = key.trim().replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(k) ? `_${k}` : k;
}

/** A stream's labels, as a result shows them (the columns a Loki push maps its labels to). */
export function baseLabels(service: string, host: string, level: string): Record<string, string> {
  const out: Record<string, string> = { service_name: service };
  if (host) out.host = host;
  if (level) out.level = level;
  return out;
}

function jsonScalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return '';
  return undefined;
}

/** A JSON object's fields flattened with `_` (arrays skipped), as Loki's json parser names them. */
function flatten(obj: Record<string, unknown>, prefix: string, out: Array<[string, string]>): void {
  for (const [k, v] of Object.entries(obj)) {
    const name = prefix ? `${prefix}_${k}` : k;
    if (v !== null && typeof v === 'object') {
      if (!Array.isArray(v)) flatten(v as Record<string, unknown>, name, out);
    } else out.push([sanitizeLabel(name), jsonScalar(v)!]);
  }
}

/** A json parameter's path: `a.b`, `a[0]`, `a["b c"]`, `["a"]`. */
function jsonPath(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  const re = /\.?([A-Za-z_][\w-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(path))) {
    out.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : goUnquote(`"${m[3]!}"`, 0)));
    at = re.lastIndex;
  }
  if (at !== path.length || out.length === 0) throw logqlError(`not supported yet: the json path ${JSON.stringify(path)}`);
  return out;
}

function parseJsonObject(line: string): Record<string, unknown> | Error {
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : new Error('the line is not a JSON object');
  } catch (e) {
    return e as Error;
  }
}

function jsonStage(s: ParserStage): Step {
  const paths = s.extract.map((x) => ({ label: x.label, path: jsonPath(x.path ?? x.label) }));
  return (e) => {
    const obj = parseJsonObject(e.line);
    if (obj instanceof Error) {
      // The fields Sluice took from the line when it ingested it.
      const attrs = Object.entries(e.attributes);
      if (attrs.length === 0) {
        e.error('JSONParserErr', obj.message);
        return true;
      }
      if (paths.length === 0) for (const [k, v] of attrs) e.extract(sanitizeLabel(k), v);
      else for (const p of paths) e.extract(p.label, e.attributes[p.path.join('.')] ?? e.attributes[p.path.join('_')] ?? '');
      return true;
    }
    if (paths.length === 0) {
      const fields: Array<[string, string]> = [];
      flatten(obj, '', fields);
      for (const [k, v] of fields) e.extract(k, v);
      return true;
    }
    for (const p of paths) {
      let v: unknown = obj;
      for (const seg of p.path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined;
      e.extract(p.label, v === undefined ? '' : (jsonScalar(v) ?? JSON.stringify(v)));
    }
    return true;
  };
}

function logfmtStage(s: ParserStage): Step {
  return (e) => {
    const parsed = parseLogfmtLenient(e.line, s.strict);
    if (parsed.error !== undefined && s.strict) e.error('LogfmtParserErr', parsed.error);
    // A line with no pairs: the fields Sluice kept for it at ingest stand in.
    const attrs = Object.entries(e.attributes);
    const pairs = parsed.fields.some(([, v]) => v !== '') || attrs.length === 0 ? parsed.fields : attrs;
    if (s.extract.length === 0) {
      for (const [k, v] of pairs) if (v !== '' || s.keepEmpty) e.extract(sanitizeLabel(k), v);
    } else {
      const byKey = new Map(pairs);
      for (const x of s.extract) e.extract(x.label, byKey.get(x.path ?? x.label) ?? '');
    }
    return true;
  };
}

function regexpStage(expr: string): Step {
  const re = liveRegex(expr, 0);
  const names = [...expr.matchAll(/\(\?P?<([A-Za-z_]\w*)>/g)].map((m) => m[1]!);
  if (names.length === 0) throw logqlError(`the regexp parser needs at least one named group, as (?P<name>…): ${JSON.stringify(expr)}`);
  return (e) => {
    const m = re.match(e.line);
    if (m) for (const n of names) e.extract(sanitizeLabel(n), m.group(n) ?? '');
    return true;
  };
}

type PatternPart = { literal: string } | { capture: string };

/** A pattern's parts: literals and `<name>` captures (`<_>` unnamed), never two captures in a row. */
function patternParts(expr: string, needsName: boolean): PatternPart[] {
  const parts: PatternPart[] = [];
  let at = 0;
  for (const m of expr.matchAll(/<([A-Za-z_]\w*)>/g)) {
    if (m.index > at) parts.push({ literal: expr.slice(at, m.index) });
    if (parts.at(-1) && 'capture' in parts.at(-1)!) throw logqlError(`the pattern ${JSON.stringify(expr)} has two captures in a row; put a literal between them`);
    parts.push({ capture: m[1]! });
    at = m.index + m[0].length;
  }
  if (at < expr.length) parts.push({ literal: expr.slice(at) });
  if (needsName && !parts.some((p) => 'capture' in p && p.capture !== '_')) throw logqlError(`the pattern ${JSON.stringify(expr)} needs at least one named capture, as <name>`);
  return parts;
}

/**
 * Loki's pattern parser: a leading literal must start the line; a capture
 * runs to its next literal's first place, and when that literal is missing
 * takes the rest of the line (and matching stops there).
 */
function matchPattern(parts: readonly PatternPart[], line: string): Array<[string, string]> | undefined {
  const found: Array<[string, string]> = [];
  let pos = 0;
  let i = 0;
  if (parts[0] && 'literal' in parts[0]) {
    if (!line.startsWith(parts[0].literal)) return undefined;
    pos = parts[0].literal.length;
    i = 1;
  }
  for (; i < parts.length; i += 2) {
    const capture = (parts[i] as { capture: string }).capture;
    const next = parts[i + 1] as { literal: string } | undefined;
    const end = next ? line.indexOf(next.literal, pos) : -1;
    if (end < 0) {
      found.push([capture, line.slice(pos)]);
      return found;
    }
    found.push([capture, line.slice(pos, end)]);
    pos = end + next!.literal.length;
  }
  return found;
}

/**
 * Loki's pattern line filter (|>): a leading literal starts the line, a
 * trailing one ends it, every capture takes at least one character, and
 * the literals come in order.
 */
function fitsPattern(parts: readonly PatternPart[], line: string): boolean {
  let pos = 0;
  let i = 0;
  if (parts[0] && 'literal' in parts[0]) {
    if (!line.startsWith(parts[0].literal)) return false;
    pos = parts[0].literal.length;
    i = 1;
  }
  for (; i < parts.length; i += 2) {
    const next = parts[i + 1] as { literal: string } | undefined;
    if (!next) return line.length > pos;
    if (i + 2 >= parts.length) return line.endsWith(next.literal) && line.length - next.literal.length > pos;
    const end = line.indexOf(next.literal, pos + 1);
    if (end < 0) return false;
    pos = end + next.literal.length;
  }
  return pos === line.length;
}

function patternStage(expr: string): Step {
  const parts = patternParts(expr, true);
  return (e) => {
    for (const [k, v] of matchPattern(parts, e.line) ?? []) if (k !== '_') e.extract(k, v);
    return true;
  };
}

function unpackStage(): Step {
  return (e) => {
    const obj = parseJsonObject(e.line);
    if (obj instanceof Error) {
      e.error('JSONParserErr', obj.message);
      return true;
    }
    for (const [k, v] of Object.entries(obj)) {
      if (k === '_entry') continue;
      if (typeof v === 'string') e.extract(sanitizeLabel(k), v);
    }
    if (typeof obj._entry === 'string') e.line = obj._entry;
    return true;
  };
}

/** A label's value against a selector-style matcher (regexes match the whole value). */
export function valueMatcher(m: Matcher): (v: string) => boolean {
  switch (m.op) {
    case '=':
      return (v) => v === m.value;
    case '!=':
      return (v) => v !== m.value;
    case '=~':
    case '!~': {
      // Anchored around the whole pattern; RE2 keeps a leading (?i) meaning the rest.
      const re = liveRegex(`^(?:${m.value})$`, 0);
      return m.op === '=~' ? (v) => re.test(v) : (v) => !re.test(v);
    }
  }
}

const COMPARE: Readonly<Record<string, (a: number, b: number) => boolean>> = {
  '==': (a, b) => a === b, '!=': (a, b) => a !== b, '>': (a, b) => a > b, '>=': (a, b) => a >= b, '<': (a, b) => a < b, '<=': (a, b) => a <= b,
};
const CONVERT = { number: goFloat, duration: goDurationSeconds, bytes: humanBytes } as const;

export function labelFilter(f: LabelFilterExpr): Step {
  switch (f.kind) {
    case 'and': {
      const [l, r] = [labelFilter(f.left), labelFilter(f.right)];
      return (e) => l(e) && r(e);
    }
    case 'or': {
      const [l, r] = [labelFilter(f.left), labelFilter(f.right)];
      return (e) => l(e) || r(e);
    }
    case 'match': {
      const test = valueMatcher(f.matcher);
      return (e) => test(e.get(f.matcher.name) ?? '');
    }
    case 'ip': {
      // Loki's IPLabelFilter: a line already in error passes; a missing label drops the line, != too.
      const inRange = ipMatcher(f.pattern);
      return (e) => {
        if (e.hasError()) return true;
        const v = e.get(f.name);
        return v !== undefined && inRange(v.trim()) !== f.negate;
      };
    }
    default: {
      const convert = CONVERT[f.kind];
      const compare = COMPARE[f.op]!;
      return (e) => {
        // Loki 3's rules (pkg/logql/log/label_filter.go): a missing label
        // drops the line, whatever the operator; a value that does not
        // convert marks the line (unless it has an error already) and keeps it.
        const raw = e.get(f.name);
        if (raw === undefined) return false;
        const v = convert(raw);
        if (v === undefined) {
          e.error('LabelFilterErr', `${f.name}=${JSON.stringify(raw)} is not a ${f.kind}`);
          return true;
        }
        return compare(v, f.value);
      };
    }
  }
}

/** A line filter as a test of a line's text: substrings case-sensitive, regexes RE2, `or` alternatives any of them. */
export function lineTest(f: LineFilter): (line: string) => boolean {
  if (f.op === '|=' || f.op === '!=') {
    const has = (line: string): boolean => f.values.some((v) => line.includes(v));
    return f.op === '|=' ? has : (line) => !has(line);
  }
  const res = f.values.map((v) => liveRegex(v, 0));
  const has = (line: string): boolean => res.some((re) => re.test(line));
  return f.op === '|~' ? has : (line) => !has(line);
}

// eslint-disable-next-line no-control-regex -- ANSI escapes are control characters
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[@-Z\\-_]/g;

function stepOf(s: Stage): Step {
  switch (s.kind) {
    case 'line_filter': {
      const test = lineTest(s.filter);
      return (e) => test(e.line);
    }
    case 'line_ip': {
      const has = lineHasIp(ipMatcher(s.pattern));
      return (e) => has(e.line) !== s.negate;
    }
    case 'line_pattern': {
      const all = s.patterns.map((p) => {
        const parts = patternParts(p, false);
        if (parts.some((x) => 'capture' in x && x.capture !== '_')) throw logqlError(`a pattern line filter takes only <_>, not named captures: ${JSON.stringify(p)}`);
        return parts;
      });
      return (e) => all.some((parts) => fitsPattern(parts, e.line)) !== s.negate;
    }
    case 'json':
      return jsonStage(s);
    case 'logfmt':
      return logfmtStage(s);
    case 'regexp':
      return regexpStage(s.expr);
    case 'pattern':
      return patternStage(s.expr);
    case 'unpack':
      return unpackStage();
    case 'decolorize':
      return (e) => {
        e.line = e.line.replace(ANSI, '');
        return true;
      };
    case 'label_filter':
      return labelFilter(s.filter);
    case 'line_format': {
      const t = compileTemplate(s.template);
      return (e) => {
        try {
          e.line = t(e.template());
        } catch (err) {
          e.error('TemplateFormatErr', (err as Error).message);
        }
        return true;
      };
    }
    case 'label_format': {
      const items = s.items.map((i) => ({ name: i.name, from: i.from, template: i.template === undefined ? undefined : compileTemplate(i.template) }));
      const targets = new Set<string>();
      for (const i of items) {
        if (targets.has(i.name)) throw logqlError(`label_format sets ${i.name} twice`);
        targets.add(i.name);
      }
      return (e) => {
        // Every item reads the labels as they were before the stage.
        const input = e.template();
        let values: Array<string | undefined>;
        try {
          values = items.map((i) => (i.template ? i.template(input) : e.get(i.from!)));
        } catch (err) {
          e.error('TemplateFormatErr', (err as Error).message);
          return true;
        }
        // A rename from a label the line does not have changes nothing, as in Loki.
        items.forEach((i, k) => {
          const v = values[k];
          if (v === undefined) return;
          if (i.from !== undefined && i.from !== i.name) e.labels.delete(i.from);
          e.labels.set(i.name, v);
        });
        return true;
      };
    }
    case 'drop':
    case 'keep': {
      const items = s.items.map((i) => ({ name: i.name, test: i.matcher ? valueMatcher(i.matcher) : undefined }));
      const named = (name: string, value: string): boolean => items.some((i) => i.name === name && (!i.test || i.test(value)));
      return s.kind === 'drop'
        ? (e) => {
            for (const [k, v] of [...e.labels]) if (named(k, v)) e.labels.delete(k);
            return true;
          }
        : (e) => {
            // keep never drops the error labels, as in Loki: a metric query must still see them.
            for (const [k, v] of [...e.labels]) if (!named(k, v) && k !== '__error__' && k !== '__error_details__') e.labels.delete(k);
            return true;
          };
    }
  }
}

export type Pipeline = (input: PipelineInput) => PipelineOutput | undefined;

/** True when a query's stages need the pipeline: anything but drop/keep by name (which the store's grouping can do). */
export function needsPipeline(log: LogQuery): boolean {
  return log.stages.some((s) => !((s.kind === 'drop' || s.kind === 'keep') && s.items.every((i) => !i.matcher)));
}

const CONVERT_UNWRAP = { number: goFloat, duration: goDurationSeconds, duration_seconds: goDurationSeconds, bytes: humanBytes } as const;

/**
 * The query's stages as one function; a 400 for a template, regex or
 * pattern it cannot run. With `unwrap`, each line's output also has the
 * label's value (a line whose value does not convert gets Loki's
 * SampleExtractionErr), the unwrap's own filters run after it, and the
 * unwrapped label leaves the result's labels.
 */
export function compilePipeline(log: LogQuery, unwrap?: Unwrap): Pipeline {
  const steps = log.stages.map(stepOf);
  const after = unwrap?.filters.map(labelFilter) ?? [];
  const convert = unwrap ? CONVERT_UNWRAP[unwrap.conv] : undefined;
  return (input) => {
    const e = new Entry(input.ns, input.message, input.attributes, baseLabels(input.service, input.host, input.level));
    for (const step of steps) if (!step(e)) return undefined;
    let value: number | undefined;
    if (unwrap) {
      const raw = e.get(unwrap.label);
      // A line without the label (or with it empty) has no sample, as in Loki.
      if (raw === undefined || raw === '') return undefined;
      const v = convert!(raw);
      if (v === undefined) e.error('SampleExtractionErr', `${unwrap.label}=${JSON.stringify(raw)} does not convert`);
      value = v ?? 0;
      for (const step of after) if (!step(e)) return undefined;
      e.labels.delete(unwrap.label);
    }
    const labels: Record<string, string> = {};
    for (const [k, v] of e.labels) if (v !== '') labels[k] = v;
    return { line: e.line, labels, value };
  };
}

// Loki's detected fields over a sample of lines, as its query frontend finds
// them (pkg/querier/queryrange/detected_fields.go): an event's structured
// metadata (Sluice: its attributes) and what the line itself yields to
// Loki's json parser or, when the line is not a JSON object, to its logfmt
// parser. Pure: the route reads the sample, this shapes the answer.
import { parseLogfmt } from '../ingest/logfmt.js';

export type FieldType = 'string' | 'int' | 'float' | 'boolean' | 'duration' | 'bytes';
export type Parser = 'json' | 'logfmt';

/** One sampled event: its stream label names (after drop/keep), attributes and line. */
export interface SampledLine {
  readonly streamLabels: ReadonlySet<string>;
  readonly attributes: Readonly<Record<string, string>>;
  readonly message: string;
}

export interface DetectedField {
  label: string;
  type: FieldType;
  cardinality: number;
  parsers: Parser[] | null;
  jsonPath?: string[];
}

// Loki's structured metadata names are label names; a dotted attribute
// name could not be used in a query, so it is left out (as detected_labels does).
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Loki's sanitizeLabelKey: trimmed, `_` before a leading digit, `_` for each character outside [A-Za-z0-9_]. */
export function sanitizeKey(key: string): string {
  const k = key.trim();
  if (k === '') return '';
  const safe = Array.from(k, (c) => (/^[A-Za-z0-9_]$/.test(c) ? c : '_')).join('');
  return /^[0-9]/.test(safe) ? `_${safe}` : safe;
}

interface Parsed {
  readonly value: string;
  readonly path?: string[];
}

/** Nested JSON keys joined with `_`, as Loki's json parser names them; arrays and nulls are skipped, as there. */
function flattenJson(obj: Record<string, unknown>, prefix: string[], out: Map<string, Parsed>, taken: ReadonlySet<string>): void {
  for (const [key, v] of Object.entries(obj)) {
    if (v !== null && typeof v === 'object') {
      if (!Array.isArray(v)) flattenJson(v as Record<string, unknown>, [...prefix, key], out, taken);
      continue;
    }
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') continue;
    const path = [...prefix, key];
    let name = path.map(sanitizeKey).filter(Boolean).join('_');
    if (name === '') continue;
    if (/^[0-9]/.test(name)) name = `_${name}`;
    // A key a stream label already has is renamed, as Loki does.
    if (taken.has(name)) name += '_extracted';
    out.set(name, { value: String(v), path });
  }
}

/** What Loki's json parser, or failing that its logfmt parser, extracts from a line; empty values are dropped. */
export function parseLine(message: string, taken: ReadonlySet<string>): { parser: Parser | undefined; fields: Map<string, Parsed> } {
  const fields = new Map<string, Parsed>();
  if (message.trimStart().startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(message);
    } catch {
      obj = undefined;
    }
    if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
      flattenJson(obj as Record<string, unknown>, [], fields, taken);
      for (const [k, p] of fields) if (p.value === '') fields.delete(k);
      return { parser: 'json', fields };
    }
  }
  const kv = parseLogfmt(message, { bareKeys: false });
  if (!kv) return { parser: undefined, fields };
  for (const [key, value] of Object.entries(kv)) {
    let name = sanitizeKey(key);
    if (name === '' || value === '') continue;
    if (taken.has(name)) name += '_extracted';
    fields.set(name, { value });
  }
  return { parser: 'logfmt', fields };
}

const GO_INT = /^[+-]?\d+$/;
const GO_DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const GO_HEX_FLOAT = /^[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+$/;
const GO_SPECIAL = /^(?:[+-]?inf(?:inity)?|nan)$/i;
const GO_BOOL = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']);
const GO_DURATION = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
// go-humanize's ParseBytes: digits (with `.` and `,`), then one of its unit names or none.
const BYTES_UNITS = new Set(['', 'b', 'kib', 'kb', 'mib', 'mb', 'gib', 'gb', 'tib', 'tb', 'pib', 'pb', 'eib', 'eb', 'ki', 'k', 'mi', 'm', 'gi', 'g', 'ti', 't', 'pi', 'p', 'ei', 'e']);
const BYTES = /^([\d.,]*)(.*)$/s;

function isInt64(v: string): boolean {
  if (!GO_INT.test(v)) return false;
  const n = BigInt(v);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

/** Go's ParseFloat: decimal (in range), hex, Inf, NaN. */
function isGoFloat(v: string): boolean {
  return GO_SPECIAL.test(v) || GO_HEX_FLOAT.test(v) || (GO_DECIMAL.test(v) && Number.isFinite(Number(v)));
}

function isBytes(v: string): boolean {
  const [, num = '', unit = ''] = BYTES.exec(v) ?? [];
  const digits = num.replaceAll(',', '');
  return /^(?:\d+\.?\d*|\.\d+)$/.test(digits) && BYTES_UNITS.has(unit.trim().toLowerCase());
}

/** Loki's determineType: Go's int, float, bool and duration parsers, then humanize's bytes, in that order. */
export function fieldType(v: string): FieldType {
  if (isInt64(v)) return 'int';
  if (isGoFloat(v)) return 'float';
  if (GO_BOOL.has(v)) return 'boolean';
  if (GO_DURATION.test(v)) return 'duration';
  if (isBytes(v)) return 'bytes';
  return 'string';
}

interface Acc {
  type: FieldType;
  readonly values: Set<string>;
  parsers: Parser[];
  jsonPath?: string[];
}

/**
 * The fields of `lines` (newest first), at most `limit` of them: the first
 * `limit` names met, as Loki admits them. A field's type is its value's in
 * the newest line that has it (Loki re-detects it line by line, in no
 * defined order); its cardinality is exact, where Loki estimates.
 */
export function detectFields(lines: Iterable<SampledLine>, limit: number): DetectedField[] {
  const acc = new Map<string, Acc>();
  const admit = (name: string, value: string): Acc | undefined => {
    let a = acc.get(name);
    if (!a) {
      if (acc.size >= limit) return undefined;
      acc.set(name, (a = { type: fieldType(value), values: new Set(), parsers: [] }));
    }
    a.values.add(value);
    return a;
  };
  for (const line of lines) {
    for (const [name, value] of Object.entries(line.attributes)) if (value !== '' && LABEL_NAME.test(name)) admit(name, value);
    const { parser, fields } = parseLine(line.message, line.streamLabels);
    if (!parser) continue;
    for (const [name, p] of fields) {
      const a = admit(name, p.value);
      if (!a) continue;
      if (!a.parsers.includes(parser)) a.parsers.push(parser);
      if (p.path && !a.jsonPath) a.jsonPath = p.path;
    }
  }
  return [...acc]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([label, a]) => ({ label, type: a.type, cardinality: a.values.size, parsers: a.parsers.length > 0 ? a.parsers : null, ...(a.jsonPath ? { jsonPath: a.jsonPath } : {}) }));
}

/** humanize.Bytes (SI units) without its space, as Loki writes byte values back. */
function humanBytes(n: number): string {
  if (n < 10) return `${n}B`;
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.min(Math.floor(Math.log(n) / Math.log(1000)), units.length - 1);
  const v = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return `${v < 10 ? v.toFixed(1) : v.toFixed(0)}${units[e]}`;
}

const BYTES_SCALE: Readonly<Record<string, number>> = {
  b: 1, '': 1, kib: 1024, ki: 1024, kb: 1e3, k: 1e3, mib: 1024 ** 2, mi: 1024 ** 2, mb: 1e6, m: 1e6, gib: 1024 ** 3, gi: 1024 ** 3, gb: 1e9, g: 1e9,
  tib: 1024 ** 4, ti: 1024 ** 4, tb: 1e12, t: 1e12, pib: 1024 ** 5, pi: 1024 ** 5, pb: 1e15, p: 1e15, eib: 1024 ** 6, ei: 1024 ** 6, eb: 1e18, e: 1e18,
};

/**
 * A parsed value as Loki lists it: a size with a unit (`1500b`, `2 KiB`) in
 * humanize's spelling, so it can go into a query as is. Loki rewrites any
 * value humanize reads as a size, `10m` (a duration) into `10MB` too; here
 * only values whose type is bytes are.
 */
function valueOf(v: string): string {
  if (fieldType(v) !== 'bytes' || !/[a-z]$/i.test(v.trim())) return v;
  const [, num = '', unit = ''] = BYTES.exec(v) ?? [];
  return humanBytes(Math.floor(Number(num.replaceAll(',', '')) * BYTES_SCALE[unit.trim().toLowerCase()]!));
}

/** Loki's detected_field/{name}/values: the distinct values of one field in `lines`, stopping once `limit` are found. */
export function detectFieldValues(lines: Iterable<SampledLine>, name: string, limit: number): string[] {
  const values = new Set<string>();
  for (const line of lines) {
    if (values.size >= limit) break;
    const sm = line.attributes[name];
    if (sm !== undefined && sm !== '') values.add(sm);
    const parsed = parseLine(line.message, line.streamLabels).fields.get(name);
    if (parsed) values.add(valueOf(parsed.value));
  }
  return [...values].slice(0, limit).sort();
}

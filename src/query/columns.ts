// The columns of an event: one table of what each is called, how SQL and
// the in-process matcher read it, and what a user may do with it. Every path
// that names a field — the search language and its live-tail matcher, trends
// `by`, /fields, search and export, alert `group_by` — resolves names here,
// so a column one of them knows is a column to all (trace_id was an
// attribute to the alert engine while the language knew it as a column:
// issue 16). A name that is not a field here is an attribute key, read as
// `attributes[{p:String}]` with the key as a parameter: identifiers in the
// SQL come only from this table, never from user text.
import type { EventJson } from '../model/event.js';
import { SluiceError } from '../errors.js';

/** How the search language compares a field: as a string, a level (by severity) or the message's words. */
export type FilterKind = 'string' | 'level' | 'message';

/** What a user may do with a column by naming it. */
export interface FieldUse {
  readonly filter: FilterKind;
  /** Trends `by`, alert `group_by` and /fields values may group by it. */
  readonly group: boolean;
  /** The per-minute rollups (logs_per_minute, logs_received_per_minute) keep it. */
  readonly rollup: boolean;
  /** Empty means the event has none, as for an absent attribute: /fields counts and lists only non-empty values. */
  readonly emptyIsAbsent: boolean;
  /** The value as the in-process matcher (live tail) reads it from an event. */
  readonly read: (e: EventJson) => string;
}

export interface EventColumn {
  /** The logs table's column, and the event format's key. */
  readonly name: string;
  /** Its type in the logs table. */
  readonly type: string;
  /** What event reads select for it; the alias is the EventRow key. */
  readonly select: string;
  /** Set when a user may name it; otherwise its name is free as an attribute key. */
  readonly field?: FieldUse;
}

const textField = (read: (e: EventJson) => string, more: Partial<FieldUse> = {}): FieldUse => ({
  filter: 'string', group: true, rollup: false, emptyIsAbsent: false, read, ...more,
});

/** Every column of the published event format, in its order. */
export const COLUMNS: readonly EventColumn[] = [
  // Aliases differ from column names: ClickHouse lets an alias shadow its
  // column in WHERE and ORDER BY.
  { name: 'id', type: 'UUID', select: 'toString(id) AS event_id' },
  { name: 'time', type: "DateTime64(9, 'UTC')", select: 'toString(time) AS event_time' },
  { name: 'received_at', type: "DateTime64(9, 'UTC')", select: 'toString(received_at) AS event_received_at' },
  { name: 'service', type: 'LowCardinality(String)', select: 'service', field: textField((e) => e.service, { rollup: true }) },
  { name: 'host', type: 'LowCardinality(String)', select: 'host', field: textField((e) => e.host) },
  { name: 'level', type: 'LowCardinality(String)', select: 'level', field: textField((e) => e.level, { filter: 'level', rollup: true }) },
  { name: 'severity', type: 'UInt8', select: 'severity' },
  // One group per distinct line is no grouping: the message is searched, not grouped.
  { name: 'message', type: 'String', select: 'message', field: textField((e) => e.message, { filter: 'message', group: false }) },
  { name: 'attributes', type: 'Map(LowCardinality(String), String)', select: 'attributes' },
  { name: 'trace_id', type: 'String', select: 'trace_id', field: textField((e) => e.trace_id, { emptyIsAbsent: true }) },
  { name: 'span_id', type: 'String', select: 'span_id', field: textField((e) => e.span_id, { emptyIsAbsent: true }) },
  { name: 'source', type: 'LowCardinality(String)', select: 'source', field: textField((e) => e.source) },
];

export interface Field extends FieldUse {
  readonly name: string;
}

const FIELDS: ReadonlyMap<string, Field> = new Map(COLUMNS.flatMap((c) => (c.field ? [[c.name, { name: c.name, ...c.field }] as const] : [])));

/** What every event read selects, in the event format's order (rows are EventRow). */
export const EVENT_SELECT = COLUMNS.map((c) => c.select).join(', ');

/** The column a user's name means, or undefined for an attribute key. */
export function field(name: string): Field | undefined {
  return FIELDS.get(name);
}

/** The fields that can be grouped by, in the event format's order. */
export const GROUP_FIELDS: readonly Field[] = [...FIELDS.values()].filter((f) => f.group);

/** Adds a query parameter and gives its `{name:Type}` placeholder. */
export type Param = (type: string, value: unknown) => string;

/** A Param that writes into `params` as `${prefix}0`, `${prefix}1`, … */
export function paramsInto(params: Record<string, unknown>, prefix: string): Param {
  let n = 0;
  return (type, value) => {
    let name = prefix + n++;
    while (name in params) name = prefix + n++;
    params[name] = value;
    return '{' + name + ':' + type + '}';
  };
}

export function attributeSql(key: string, param: Param): string {
  return 'attributes[' + param('String', key) + ']';
}

/** Why `name` cannot be grouped by, or undefined when it can. */
export function groupProblem(name: string): string | undefined {
  const f = FIELDS.get(name);
  if (f === undefined || f.group) return undefined;
  return `${name} cannot be grouped by: group by ${GROUP_FIELDS.map((g) => g.name).join(', ')} or an attribute`;
}

/**
 * The SQL that reads `name` for grouping: its column, or the attribute of
 * that name. A column that cannot be grouped by is a validation error.
 */
export function groupSql(name: string, param: Param): string {
  const problem = groupProblem(name);
  if (problem) throw new SluiceError('SLUICE_ERR_VALIDATION', problem);
  const f = FIELDS.get(name);
  return f ? f.name : attributeSql(name, param);
}

/** Whether the per-minute rollups keep every one of these fields. */
export function inRollup(names: readonly string[]): boolean {
  return names.every((n) => FIELDS.get(n)?.rollup === true);
}

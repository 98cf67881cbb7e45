// Numbered SQL migrations, applied in order by `sluice migrate` and recorded
// in sluice_schema. `serve` refuses a schema that is behind or ahead.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Store } from './store.js';
import { readMeta, writeMeta } from './meta.js';
import { systemClock, type Clock } from '../model/clock.js';

const DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

export function loadMigrations(dir = DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8');
      const statements = sql
        .split(/;\s*(?:\n|$)/)
        .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
        .filter((s) => s.length > 0);
      return { version: Number(file.slice(0, 4)), name: file.replace(/\.sql$/, ''), statements };
    });
}

const SCHEMA_TABLE = `CREATE TABLE IF NOT EXISTS sluice_schema
(
    version UInt32,
    name String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY version`;

export async function appliedVersion(store: Store): Promise<number> {
  const rs = await store.control.query({
    query: `SELECT toUInt32(max(version)) AS v FROM sluice_schema SETTINGS output_format_json_quote_64bit_integers = 0`,
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{ v: number }>();
  return rows[0]?.v ?? 0;
}

export interface SchemaStatus {
  readonly current: number;
  readonly wanted: number;
  readonly retentionDays: number | undefined;
}

/** Where the schema stands; tolerates a database with no Sluice tables. */
export async function schemaStatus(store: Store): Promise<SchemaStatus> {
  const wanted = loadMigrations().at(-1)?.version ?? 0;
  const rs = await store.control.query({
    query: `SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'sluice_schema' SETTINGS output_format_json_quote_64bit_integers = 0`,
    format: 'JSONEachRow',
  });
  const exists = ((await rs.json<{ n: number }>())[0]?.n ?? 0) > 0;
  if (!exists) return { current: 0, wanted, retentionDays: undefined };
  const current = await appliedVersion(store);
  const days = current >= 2 ? await readMeta(store, 'retention_days') : undefined;
  return { current, wanted, retentionDays: days === undefined ? undefined : Number(days) };
}

/** Why serve must not start on this schema, or undefined when it may. */
export function schemaProblem(status: SchemaStatus, retentionDays: number): string | undefined {
  if (status.current < status.wanted) {
    return `the database schema is at version ${status.current} and this Sluice needs ${status.wanted}: run \`sluice migrate\` first`;
  }
  if (status.current > status.wanted) {
    return `the database schema is at version ${status.current}, newer than this Sluice knows (${status.wanted}): upgrade Sluice`;
  }
  if (status.retentionDays !== retentionDays) {
    return `SLUICE_RETENTION_DAYS=${retentionDays} but the tables keep ${status.retentionDays ?? '?'} days: run \`sluice migrate\` to apply it`;
  }
  return undefined;
}

function retentionStatements(days: number): string[] {
  if (!Number.isSafeInteger(days) || days < 1) throw new Error('retention must be a whole number of days');
  // DDL takes no query parameters; `days` is a checked integer.
  const n = String(days);
  return [
    'ALTER TABLE logs MODIFY TTL toDateTime(time) + INTERVAL ' + n + ' DAY',
    'ALTER TABLE logs_per_minute MODIFY TTL minute + INTERVAL ' + n + ' DAY',
    'ALTER TABLE logs_received_per_minute MODIFY TTL minute + INTERVAL ' + n + ' DAY',
  ];
}

export interface MigrateResult {
  readonly from: number;
  readonly to: number;
  readonly applied: readonly string[];
  readonly retentionChanged: boolean;
}

export async function migrate(store: Store, retentionDays: number, clock: Clock = systemClock): Promise<MigrateResult> {
  await store.control.command({ query: SCHEMA_TABLE });
  const from = await appliedVersion(store);
  const applied: string[] = [];
  for (const m of loadMigrations()) {
    if (m.version <= from) continue;
    for (const statement of m.statements) {
      // A statement that needs "now" names {now_ns:UInt64}: Sluice's clock, never the engine's.
      const params = statement.includes('{now_ns:') ? { query_params: { now_ns: clock.nowNs().toString() } } : {};
      await store.control.command({ query: statement, ...params });
    }
    await store.control.insert({ table: 'sluice_schema', values: [{ version: m.version, name: m.name, applied_at: clock.nowMs() }], format: 'JSONEachRow' });
    applied.push(m.name);
  }
  const before = await readMeta(store, 'retention_days');
  const retentionChanged = before !== String(retentionDays);
  // New tables are made with the placeholder TTL: apply the retention to
  // them too.
  if (retentionChanged || applied.length > 0) {
    for (const statement of retentionStatements(retentionDays)) await store.control.command({ query: statement });
    await writeMeta(store, 'retention_days', String(retentionDays));
  }
  return { from, to: Math.max(from, ...loadMigrations().map((m) => m.version)), applied, retentionChanged };
}

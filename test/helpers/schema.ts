// A store left at an older schema version, for tests of `sluice migrate`
// upgrading it, and the small reads and rows those tests share.
import { loadConfig } from '../../src/config.js';
import type { LogEvent } from '../../src/model/event.js';
import { uuidv7 } from '../../src/model/id.js';
import { nowNs } from '../../src/model/time.js';
import { loadMigrations } from '../../src/store/migrate.js';
import { eventRows } from '../../src/store/rows.js';
import { openStore, type Store } from '../../src/store/store.js';
import { testEnv } from './server.js';

export const quietLog = { warn() {}, error() {}, info() {}, debug() {} } as never;

/** A fresh embedded store with migrations 1 to `version` applied and recorded, as that version's `sluice migrate` left it. */
export async function storeAtSchema(version: number): Promise<Store> {
  const store = await openStore(loadConfig(testEnv()), { createDatabase: true });
  await store.control.command({ query: 'CREATE TABLE sluice_schema (version UInt32, name String) ENGINE = MergeTree ORDER BY version' });
  for (const m of loadMigrations().filter((m) => m.version <= version)) {
    for (const statement of m.statements) {
      await store.control.command({ query: statement, ...(statement.includes('{now_ns:') ? { query_params: { now_ns: nowNs().toString() } } : {}) });
    }
    await store.control.insert({ table: 'sluice_schema', values: [{ version: m.version, name: m.name }], format: 'JSONEachRow' });
  }
  return store;
}

/** `n` events of `service` at `timeNs`, received at `receivedNs`, as logs rows. */
export function rowsAt(service: string, n: number, timeNs = nowNs(), receivedNs = timeNs): Buffer {
  const list: LogEvent[] = Array.from({ length: n }, (_, i) => ({
    id: uuidv7(Number(timeNs / 1_000_000n)), timeNs, receivedNs, service, host: 'h', level: 'info', severity: 9, message: `m${i}`, attributes: {}, traceId: '', spanId: '',
  }));
  return eventRows(list, 'test', 'w');
}

/** The first column of the first row, as text. */
export async function one(store: Store, sql: string): Promise<string> {
  const rs = await store.query.query({ query: sql + ' SETTINGS output_format_json_quote_64bit_integers = 0', format: 'JSONEachRow' });
  return String(Object.values((await rs.json<Record<string, unknown>>())[0] ?? {})[0]);
}

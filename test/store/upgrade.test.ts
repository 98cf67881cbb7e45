// Upgrading a database whose rollups were filled by materialized views
// (schema 5) to the background rollup job (schema 6): the views go, and the
// watermark starts after every stored event, so nothing is counted twice.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { LogEvent } from '../../src/model/event.js';
import { uuidv7 } from '../../src/model/id.js';
import { clickHouseToNs, nowNs } from '../../src/model/time.js';
import { readMeta } from '../../src/store/meta.js';
import { loadMigrations, migrate } from '../../src/store/migrate.js';
import { Rollup, WATERMARK_KEY } from '../../src/store/rollup.js';
import { eventRows } from '../../src/store/rows.js';
import { openStore, type Store } from '../../src/store/store.js';
import { testEnv } from '../helpers/server.js';

let store: Store;
const quiet = { warn() {}, error() {}, info() {}, debug() {} } as never;

beforeAll(async () => {
  const config = loadConfig(testEnv());
  store = await openStore(config, { createDatabase: true });
  // The schema as version 5 left it.
  await store.control.command({ query: 'CREATE TABLE sluice_schema (version UInt32, name String) ENGINE = MergeTree ORDER BY version' });
  for (const m of loadMigrations().filter((m) => m.version <= 5)) {
    for (const statement of m.statements) await store.control.command({ query: statement });
    await store.control.insert({ table: 'sluice_schema', values: [{ version: m.version, name: m.name }], format: 'JSONEachRow' });
  }
});
afterAll(async () => store.close());

function rows(n: number, t = nowNs(), receivedNs = t): Buffer {
  const list: LogEvent[] = Array.from({ length: n }, (_, i) => ({
    id: uuidv7(Number(t / 1_000_000n)), timeNs: t, receivedNs, service: 'up', host: 'h', level: 'info', severity: 9, message: `m${i}`, attributes: {}, traceId: '', spanId: '',
  }));
  return eventRows(list, 'test', 'w');
}

async function one(sql: string): Promise<string> {
  const rs = await store.query.query({ query: sql + ' SETTINGS output_format_json_quote_64bit_integers = 0', format: 'JSONEachRow' });
  return String(Object.values((await rs.json<Record<string, unknown>>())[0] ?? {})[0]);
}

it('drops the views and starts the watermark after the newest stored event', async () => {
  await store.insertRows('logs', rows(4));
  // Three exactly on a minute's start (a Loki window's edge).
  await store.insertRows('logs', rows(3, (nowNs() / 60_000_000_000n - 1n) * 60_000_000_000n));
  // The views counted them.
  expect(await one('SELECT sum(count) FROM logs_per_minute')).toBe('7');
  expect(await one('SELECT sum(count) FROM logs_received_per_minute')).toBe('7');

  const result = await migrate(store, 30);
  expect(result.applied).toEqual(['0006_rollup_job', '0007_patterns', '0008_rollup_minute_starts']);
  // 0008 counted the minute starts of what the rollup held, once.
  expect(await one('SELECT sum(count) FROM logs_per_minute')).toBe('7');
  expect(await one('SELECT sum(at_start) FROM logs_per_minute')).toBe('3');
  expect(await one("SELECT count() FROM system.tables WHERE database = currentDatabase() AND engine = 'MaterializedView'")).toBe('0');
  const w = BigInt((await readMeta(store, WATERMARK_KEY))!);
  expect(w).toBeGreaterThan(clickHouseToNs(await one('SELECT toString(max(received_at)) FROM logs'))!);

  // The job counts only what comes after: 7 + 5, not 7 + 12.
  const rollup = new Rollup(store, quiet, { gridMs: 1, lagMs: 0, maxChunks: 1e9 });
  await store.insertRows('logs', rows(3));
  // Received now, event time on a minute's start: the job counts it in at_start too.
  await store.insertRows('logs', rows(2, (nowNs() / 60_000_000_000n - 2n) * 60_000_000_000n, nowNs()));
  await rollup.run(nowNs());
  expect(await one('SELECT sum(count) FROM logs_per_minute')).toBe('12');
  expect(await one('SELECT sum(count) FROM logs_received_per_minute')).toBe('12');
  expect(await one('SELECT sum(at_start) FROM logs_per_minute')).toBe('5');
});

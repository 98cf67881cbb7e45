// Upgrading a schema-7 database, whose rollup job had been running, to
// migration 0008 (at_start: the events on a minute's first nanosecond, the
// Loki windows' edges). The backfill counts what the rollup holds, the
// events received before the watermark, and nothing the job will still
// count; run again (a client that gave up on the scan, a crash before the
// migration was recorded) it adds nothing.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { LogEvent } from '../../src/model/event.js';
import { uuidv7 } from '../../src/model/id.js';
import { nowNs } from '../../src/model/time.js';
import { writeMeta } from '../../src/store/meta.js';
import { loadMigrations, migrate } from '../../src/store/migrate.js';
import { Rollup, WATERMARK_KEY } from '../../src/store/rollup.js';
import { eventRows } from '../../src/store/rows.js';
import { openStore, type Store } from '../../src/store/store.js';
import { testEnv } from '../helpers/server.js';

let store: Store;
const quiet = { warn() {}, error() {}, info() {}, debug() {} } as never;
const MINUTE = 60_000_000_000n;

beforeAll(async () => {
  store = await openStore(loadConfig(testEnv()), { createDatabase: true });
  // The schema as version 7 left it.
  await store.control.command({ query: 'CREATE TABLE sluice_schema (version UInt32, name String) ENGINE = MergeTree ORDER BY version' });
  for (const m of loadMigrations().filter((m) => m.version <= 7)) {
    for (const statement of m.statements) {
      await store.control.command({ query: statement, ...(statement.includes('{now_ns:') ? { query_params: { now_ns: nowNs().toString() } } : {}) });
    }
    await store.control.insert({ table: 'sluice_schema', values: [{ version: m.version, name: m.name }], format: 'JSONEachRow' });
  }
});
afterAll(async () => store.close());

function rows(n: number, timeNs: bigint, receivedNs: bigint): Buffer {
  const list: LogEvent[] = Array.from({ length: n }, (_, i) => ({
    id: uuidv7(Number(timeNs / 1_000_000n)), timeNs, receivedNs, service: 'ms', host: '', level: 'info', severity: 9, message: `m${i}`, attributes: {}, traceId: '', spanId: '',
  }));
  return eventRows(list, 'test', 'w');
}

async function one(sql: string): Promise<string> {
  const rs = await store.query.query({ query: sql + ' SETTINGS output_format_json_quote_64bit_integers = 0', format: 'JSONEachRow' });
  return String(Object.values((await rs.json<Record<string, unknown>>())[0] ?? {})[0]);
}

it('counts the minute starts of what the rollup holds, once, and the job the rest', async () => {
  const now = nowNs();
  const onMinute = (now / MINUTE - 5n) * MINUTE;
  // The job of schema 7 ran: W sits between two stretches of received events.
  const w = now - 30_000_000_000n;
  await store.insertRows('logs', rows(3, onMinute, w - 1_000_000_000n)); // on a minute, before W
  await store.insertRows('logs', rows(2, onMinute + 1n, w - 1_000_000_000n)); // a nanosecond past it
  // What the schema-7 job wrote for them: counts, no at_start column yet.
  await store.control.command({
    query: "INSERT INTO logs_per_minute SELECT toStartOfMinute(time) AS minute, service, level, count() FROM logs WHERE service = 'ms' GROUP BY minute, service, level",
  });
  await writeMeta(store, WATERMARK_KEY, String(w));
  // Received after W: the rollup does not hold them yet.
  await store.insertRows('logs', rows(4, onMinute, w + 1_000_000_000n));

  const result = await migrate(store, 30);
  expect(result.applied).toEqual(['0008_rollup_minute_starts']);
  expect(await one('SELECT sum(count) FROM logs_per_minute')).toBe('5');
  expect(await one('SELECT sum(at_start) FROM logs_per_minute')).toBe('3');

  // 0008 again, as a rerun would apply it: nothing added.
  for (const statement of loadMigrations().find((m) => m.version === 8)!.statements) await store.control.command({ query: statement });
  expect(await one('SELECT sum(at_start) FROM logs_per_minute')).toBe('3');

  // The job of this version counts the four received after W, on the minute.
  const job = new Rollup(store, quiet, { gridMs: 1, lagMs: 0, maxChunks: 1e9 });
  await job.run(nowNs());
  expect(await one('SELECT sum(count) FROM logs_per_minute')).toBe('9');
  expect(await one('SELECT sum(at_start) FROM logs_per_minute')).toBe('7');
});

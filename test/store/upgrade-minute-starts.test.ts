// Upgrading a schema-7 database, whose rollup job had been running, to
// migration 0008 (at_start: the events on a minute's first nanosecond, the
// Loki windows' edges). The backfill counts what the rollup holds, the
// events received before the watermark, and nothing the job will still
// count; run again (a client that gave up on the scan, a crash before the
// migration was recorded) it adds nothing.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nowNs } from '../../src/model/time.js';
import { writeMeta } from '../../src/store/meta.js';
import { loadMigrations, migrate } from '../../src/store/migrate.js';
import { Rollup, WATERMARK_KEY } from '../../src/store/rollup.js';
import type { Store } from '../../src/store/store.js';
import { one as first, quietLog as quiet, rowsAt, storeAtSchema } from '../helpers/schema.js';

let store: Store;
const MINUTE = 60_000_000_000n;

beforeAll(async () => {
  store = await storeAtSchema(7);
});
afterAll(async () => store.close());

const rows = (n: number, timeNs: bigint, receivedNs: bigint): Buffer => rowsAt('ms', n, timeNs, receivedNs);
const one = (sql: string): Promise<string> => first(store, sql);

it('counts the minute starts of what the rollup holds, once, and the job the rest', async () => {
  const now = nowNs();
  const onMinute = (now / MINUTE - 5n) * MINUTE;
  // The job of schema 7 ran: W sits between two stretches of received events.
  const w = now - 30_000_000_000n;
  await store.insertEvents(rows(3, onMinute, w - 1_000_000_000n)); // on a minute, before W
  await store.insertEvents(rows(2, onMinute + 1n, w - 1_000_000_000n)); // a nanosecond past it
  // What the schema-7 job wrote for them: counts, no at_start column yet.
  await store.control.command({
    query: "INSERT INTO logs_per_minute SELECT toStartOfMinute(time) AS minute, service, level, count() FROM logs WHERE service = 'ms' GROUP BY minute, service, level",
  });
  await writeMeta(store, WATERMARK_KEY, String(w));
  // Received after W: the rollup does not hold them yet.
  await store.insertEvents(rows(4, onMinute, w + 1_000_000_000n));

  const result = await migrate(store, 30);
  expect(result.applied).toEqual(['0008_rollup_minute_starts', '0009_wider_merges']);
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

// Upgrading a database whose rollups were filled by materialized views
// (schema 5) to the background rollup job (schema 6): the views go, and the
// watermark starts after every stored event, so nothing is counted twice.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clickHouseToNs, nowNs } from '../../src/model/time.js';
import { readMeta } from '../../src/store/meta.js';
import { migrate } from '../../src/store/migrate.js';
import { Rollup, WATERMARK_KEY } from '../../src/store/rollup.js';
import type { Store } from '../../src/store/store.js';
import { one as first, quietLog as quiet, rowsAt, storeAtSchema } from '../helpers/schema.js';

let store: Store;
beforeAll(async () => {
  store = await storeAtSchema(5);
});
afterAll(async () => store.close());

const rows = (n: number, t = nowNs(), receivedNs = t): Buffer => rowsAt('up', n, t, receivedNs);
const one = (sql: string): Promise<string> => first(store, sql);

it('drops the views and starts the watermark after the newest stored event', async () => {
  await store.insertEvents(rows(4));
  // Three exactly on a minute's start (a Loki window's edge).
  await store.insertEvents(rows(3, (nowNs() / 60_000_000_000n - 1n) * 60_000_000_000n));
  // The views counted them.
  expect(await one('SELECT sum(count) FROM logs_per_minute')).toBe('7');
  expect(await one('SELECT sum(count) FROM logs_received_per_minute')).toBe('7');

  const result = await migrate(store, 30);
  expect(result.applied).toEqual(['0006_rollup_job', '0007_patterns', '0008_rollup_minute_starts', '0009_wider_merges']);
  expect(await one("SELECT create_table_query FROM system.tables WHERE database = currentDatabase() AND name = 'logs'")).toMatch(/merge_selector_base = 8, min_parts_to_merge_at_once = 4/);
  // 0008 counted the minute starts of what the rollup held, once.
  expect(await one('SELECT sum(count) FROM logs_per_minute')).toBe('7');
  expect(await one('SELECT sum(at_start) FROM logs_per_minute')).toBe('3');
  expect(await one("SELECT count() FROM system.tables WHERE database = currentDatabase() AND engine = 'MaterializedView'")).toBe('0');
  const w = BigInt((await readMeta(store, WATERMARK_KEY))!);
  expect(w).toBeGreaterThan(clickHouseToNs(await one('SELECT toString(max(received_at)) FROM logs'))!);

  // The job counts only what comes after: 7 + 5, not 7 + 12.
  const rollup = new Rollup(store, quiet, { gridMs: 1, lagMs: 0, maxChunks: 1e9 });
  await store.insertEvents(rows(3));
  // Received now, event time on a minute's start: the job counts it in at_start too.
  await store.insertEvents(rows(2, (nowNs() / 60_000_000_000n - 2n) * 60_000_000_000n, nowNs()));
  await rollup.run(nowNs());
  expect(await one('SELECT sum(count) FROM logs_per_minute')).toBe('12');
  expect(await one('SELECT sum(count) FROM logs_received_per_minute')).toBe('12');
  expect(await one('SELECT sum(at_start) FROM logs_per_minute')).toBe('5');
});

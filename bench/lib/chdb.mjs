// The embedded engine opened straight from a benchmark's child process (one
// data directory per process): the raw-insert baselines, built with the
// server's own code and settings, and the row counts after a run.
import { dist } from './paths.mjs';

// What trends read: the per-minute rollup plus the raw events newer than its
// watermark (the background rollup job, src/store/rollup.ts).
export const ROLLUP_COUNT = "SELECT (SELECT sum(count) FROM logs_per_minute) + (SELECT count() FROM logs WHERE received_at >= fromUnixTimestamp64Nano(toInt64((SELECT argMax(value, version) FROM sluice_meta WHERE key = 'rollup_watermark')))) AS n";

// As src/store/store.ts inserts unkeyed batches: no dedup hash, skip
// indexes left to merges. A keyed insert adds its dedup token.
export const SERVER_INSERT_SETTINGS = { async_insert: 0, materialize_skip_indexes_on_insert: 0, insert_deduplicate: 0 };

/**
 * rawInsert of the server's event rows (src/store/rows.ts eventRows) into
 * `table` as the server's Store.insertEvents sends them: EVENT_FORMAT
 * (TabSeparated) of the named EVENT_COLUMNS. Resolves with rawInsert's result.
 */
export async function insertEventRows(conn, table, values, settings = SERVER_INSERT_SETTINGS) {
  const { EVENT_COLUMNS, EVENT_FORMAT } = await import(dist('store/rows.js'));
  return conn.chdb.rawInsert({ table, values, format: EVENT_FORMAT, columns: [...EVENT_COLUMNS], settings });
}

/** A client on the data directory's engine, in UTC, using `database`. */
export async function openChdb(dir, database = 'sluice') {
  const { createClient } = await import('@clickhouse/client');
  const { createChdbConnection } = await import('chdb/connection');
  const conn = createChdbConnection({ path: dir });
  const client = createClient({ connection: conn });
  await client.command({ query: "SET session_timezone = 'UTC'" });
  await client.command({ query: `USE ${database}` });
  return { conn, client };
}

/** The first row of a query, 64-bit integers as numbers. */
export async function queryOne(client, sql) {
  const rs = await client.query({ query: `${sql} SETTINGS output_format_json_quote_64bit_integers = 0`, format: 'JSONEachRow' });
  return (await rs.json())[0];
}

/** A child mode: the rows of `logs` and what trends count, in a data directory no server holds. */
export async function countStored({ dir }) {
  const { client } = await openChdb(dir);
  const logs = Number((await queryOne(client, 'SELECT count() AS n FROM logs')).n);
  const rollup = Number((await queryOne(client, ROLLUP_COUNT)).n);
  await client.close();
  return { logs, rollup };
}

/**
 * A function giving the normalize context the server builds for a request
 * received now, with its default limits (256 attributes; times from 30 days
 * back, less an hour, to a day ahead).
 */
export async function requestContext(defaultHost) {
  const { nowNs, parseDurationNs } = await import(dist('model/time.js'));
  const DAY = parseDurationNs('1d');
  return () => {
    const receivedNs = nowNs();
    return { receivedNs, defaultService: 'unknown', defaultHost, maxAttributes: 256, oldestNs: receivedNs - 30n * DAY + DAY / 24n, newestNs: receivedNs + DAY };
  };
}

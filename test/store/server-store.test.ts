// The server store (CLICKHOUSE_URL) over HTTP, against the ClickHouse
// server named by CLICKHOUSE_URL or, without one, the test stand-in
// (test/helpers/clickhouse-standin.mjs: the HTTP interface over chDB).
//
// Regression (#16 e): insertRows handed the client a Buffer as a stream of
// JSONEachRow *objects*; the client JSON-encoded it into one row of
// defaults per batch ({"type":"Buffer",…}, time 1970, dropped by TTL) and
// the insert succeeded, so every event was lost behind a 2xx.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, ClickHouseError, ClickHouseLogLevel } from '@clickhouse/client';
import { loadConfig } from '../../src/config.js';
import type { LogEvent } from '../../src/model/event.js';
import { uuidv7 } from '../../src/model/id.js';
import { migrate } from '../../src/store/migrate.js';
import { eventRows } from '../../src/store/rows.js';
import { openStore, type Store } from '../../src/store/store.js';
import { startStandin, type Standin } from '../helpers/clickhouse-standin.mjs';
import { testEnv } from '../helpers/server.js';

let standin: Standin | undefined;
let server: { url: string; user: string; password: string };
let store: Store;

beforeAll(async () => {
  if (process.env.CLICKHOUSE_URL) {
    server = { url: process.env.CLICKHOUSE_URL, user: process.env.CLICKHOUSE_USER ?? 'default', password: process.env.CLICKHOUSE_PASSWORD ?? '' };
  } else {
    standin = await startStandin({ user: 'sluice', password: randomBytes(6).toString('hex') });
    server = standin;
  }
  const config = loadConfig(
    testEnv({
      CLICKHOUSE_URL: server.url,
      CLICKHOUSE_USER: server.user,
      CLICKHOUSE_PASSWORD: server.password,
      CLICKHOUSE_DATABASE: `sluice_test_${randomBytes(6).toString('hex')}`,
    }),
  );
  store = await openStore(config, { createDatabase: true });
  expect(store.embedded).toBe(false);
  await migrate(store, config.retentionDays);
});

afterAll(async () => {
  await store?.control.command({ query: `DROP DATABASE IF EXISTS ${store.database}` });
  await store?.close();
  await standin?.close();
});

// Recent times: the TTL keeps them (a row of 1970 defaults is dropped).
const BASE = (BigInt(Date.now()) - 60_000n) * 1_000_000n;

function batch(service: string, messages: string[]): { body: Buffer; events: LogEvent[] } {
  const events: LogEvent[] = messages.map((message, i) => {
    const t = BASE + BigInt(i) * 1_000_123n;
    return {
      id: uuidv7(Number(t / 1_000_000n)), timeNs: t, receivedNs: t, service, host: 'h1', level: 'warn', severity: 13,
      message, attributes: { k: `v${i}` }, traceId: '', spanId: '',
    };
  });
  return { body: eventRows(events, 'test', 'writer-1'), events };
}

async function stored(service: string): Promise<Array<{ time: string; message: string; level: string; attributes: Record<string, string> }>> {
  const rs = await store.query.query({
    query: 'SELECT toString(time) AS time, message, level, attributes FROM logs WHERE service = {s:String} ORDER BY time',
    query_params: { s: service },
    format: 'JSONEachRow',
  });
  return rs.json();
}

const nsText = (ns: bigint) => {
  const d = new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19).replace('T', ' ');
  return `${d}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
};

describe('server store inserts', () => {
  it('stores every event of a batch with its time and message', async () => {
    const messages = ['first', 'second with "quotes" and a \\ backslash', 'third\nwith a newline', 'ünïcödé ✓'];
    const { body, events } = batch('srv-a', messages);
    await store.insertEvents(body);
    const rows = await stored('srv-a');
    expect(rows.map((r) => r.message)).toEqual(messages);
    expect(rows.map((r) => r.time)).toEqual(events.map((e) => nsText(e.timeNs)));
    expect(rows.every((r) => r.level === 'warn')).toBe(true);
    expect(rows[1]!.attributes).toEqual({ k: 'v1' });
    // Nothing else was written: no row of defaults.
    const rs = await store.query.query({ query: "SELECT count() AS n FROM logs WHERE time < '2000-01-01' SETTINGS output_format_json_quote_64bit_integers = 0", format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ n: 0 }]);
  });

  it('stores a keyed batch once when it is retried, and unkeyed batches after it', async () => {
    const a = batch('srv-b', ['keyed']);
    await store.insertEvents(a.body, 'retry-token-1');
    await store.insertEvents(a.body, 'retry-token-1');
    await store.insertEvents(batch('srv-b', ['unkeyed after']).body);
    await store.insertEvents(batch('srv-b', ['another key']).body, 'retry-token-2');
    expect((await stored('srv-b')).map((r) => r.message).sort()).toEqual(['another key', 'keyed', 'unkeyed after']);
  });

  it('stores through the control session too', async () => {
    await store.insertEvents(batch('srv-c', ['via control']).body, undefined, 'control');
    expect((await stored('srv-c')).map((r) => r.message)).toEqual(['via control']);
  });

  it('fails, not succeeds, when the server refuses the rows', async () => {
    const bad = Buffer.from('["not-a-uuid","garbage"]\n');
    await expect(store.insertEvents(bad)).rejects.toBeInstanceOf(ClickHouseError);
  });
});

// The stand-in is only worth its name if it behaves like a server where the
// store depends on it (these hold on a server too).
describe('the server (or stand-in) over HTTP', () => {
  // Errors are expected here: the client need not log them.
  const quiet = { log: { level: ClickHouseLogLevel.OFF } };
  const client = () => createClient({ url: server.url, username: server.user, password: server.password, database: store.database, ...quiet });

  it('applies a URL setting to its own statement only', async () => {
    const c = client();
    try {
      const get = async (settings: Record<string, string | number>) =>
        (await (await c.query({ query: "SELECT getSetting('max_threads') AS m", format: 'JSONEachRow', clickhouse_settings: settings })).json<{ m: number }>())[0]!.m;
      expect(await get({ max_threads: 3 })).toBe(3);
      expect(await get({})).not.toBe(3);
      await c.command({ query: 'SET max_threads = 3' });
      expect(await get({})).not.toBe(3);
    } finally {
      await c.close();
    }
  });

  it('answers errors as a server does, as ClickHouseError', async () => {
    const c = client();
    try {
      await expect(c.query({ query: 'SELECT * FROM no_such_table' })).rejects.toMatchObject({ code: '60', type: 'UNKNOWN_TABLE' });
      await expect(c.command({ query: 'SELECT 1; SELECT 2' })).rejects.toMatchObject({ code: '62', type: 'SYNTAX_ERROR' });
      const wrong = createClient({ url: server.url, username: server.user, password: 'wrong', ...quiet });
      await expect(wrong.query({ query: 'SELECT 1' })).rejects.toMatchObject({ type: 'AUTHENTICATION_FAILED' });
      await wrong.close();
    } finally {
      await c.close();
    }
  });

  it('takes gzip request bodies and compresses answers when asked', async () => {
    const c = createClient({ url: server.url, username: server.user, password: server.password, database: store.database, compression: { request: true, response: true } });
    try {
      await c.insert({ table: 'logs', values: [{ id: uuidv7(Date.now()), time: nsText(BASE), received_at: nsText(BASE), service: 'srv-gz', message: 'gz' }], format: 'JSONEachRow' });
      expect((await stored('srv-gz')).map((r) => r.message)).toEqual(['gz']);
      const rs = await c.query({ query: 'SELECT message FROM logs WHERE service = {s:String}', query_params: { s: 'srv-gz' }, format: 'JSONEachRow' });
      expect(rs.response_headers['content-encoding']).toBe('gzip');
      expect(await rs.json()).toEqual([{ message: 'gz' }]);
    } finally {
      await c.close();
    }
  });
});

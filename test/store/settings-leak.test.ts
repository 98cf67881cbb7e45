// Regression: the embedded engine's connection turns per-call settings into
// session-wide SETs, and a leaked insert_deduplication_token silently dropped
// later inserts (../shared/DESIGN.md). Sluice puts per-statement settings in
// the statement itself; these tests fail if any setting outlives its insert.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { LogEvent } from '../../src/model/event.js';
import { uuidv7 } from '../../src/model/id.js';
import { nowNs } from '../../src/model/time.js';
import { migrate } from '../../src/store/migrate.js';
import { eventRows } from '../../src/store/rows.js';
import { openStore, type Store } from '../../src/store/store.js';
import { testEnv } from '../helpers/server.js';

let store: Store;

beforeAll(async () => {
  const config = loadConfig(testEnv());
  store = await openStore(config, { createDatabase: true });
  await migrate(store, config.retentionDays);
});
afterAll(async () => store.close());

function rows(service: string, messages: string[]): Buffer {
  const t = nowNs();
  const events: LogEvent[] = messages.map((message) => ({
    id: uuidv7(Number(t / 1_000_000n)), timeNs: t, receivedNs: t, service, host: 'h', level: 'info', severity: 9,
    message, attributes: {}, traceId: '', spanId: '',
  }));
  return eventRows(events, 'test', 'writer-1');
}

async function count(sql: string, params: Record<string, unknown>): Promise<number> {
  const rs = await store.query.query({ query: sql + ' SETTINGS output_format_json_quote_64bit_integers = 0', query_params: params, format: 'JSONEachRow' });
  const [row] = await rs.json<{ n: number }>();
  return Number(row?.n ?? 0);
}

const logsOf = (service: string) => count('SELECT count() AS n FROM logs WHERE service = {s:String}', { s: service });

describe('per-statement settings do not leak into the session', () => {
  it('stores unkeyed inserts that follow a keyed one', async () => {
    await store.insertEvents(rows('leak-a', ['keyed']), 'token-a');
    await store.insertEvents(rows('leak-a', ['after 1']));
    await store.insertEvents(rows('leak-a', ['after 2']));
    expect(await logsOf('leak-a')).toBe(3);
  });

  it('stores a different key after a key, and drops only the true retry', async () => {
    await store.insertEvents(rows('leak-b', ['first']), 'token-b1');
    await store.insertEvents(rows('leak-b', ['second']), 'token-b2');
    await store.insertEvents(rows('leak-b', ['first again']), 'token-b1');
    expect(await logsOf('leak-b')).toBe(2);
  });

  it('leaves no dedup token, async insert or readonly setting behind in any session', async () => {
    await store.insertEvents(rows('leak-c', ['x']), 'token-c');
    await store.query.query({ query: 'SELECT 1 SETTINGS readonly = 1, max_execution_time = 5', format: 'JSONEachRow' });
    for (const session of [store.ingest, store.query, store.control]) {
      const rs = await session.query({
        query: "SELECT getSetting('insert_deduplication_token') AS token, toString(getSetting('readonly')) AS ro",
        format: 'JSONEachRow',
      });
      expect(await rs.json()).toEqual([{ token: '', ro: '0' }]);
    }
    // And the session still writes.
    await store.insertEvents(rows('leak-c', ['y']));
    expect(await logsOf('leak-c')).toBe(2);
  });
});

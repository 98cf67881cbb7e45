// A subscribe whose backfill the store refuses (here: more rows than
// SLUICE_QUERY_MAX_ROWS) reports the error and still streams live events;
// it used to leave the viewer "catching up" for good, holding and then
// dropping everything. Also: `subscribed` marks where the new filter begins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { TailClient } from '../helpers/ws.js';

let s: TestServer;
let token: string;

beforeAll(async () => {
  s = await startServer({ SLUICE_QUERY_MAX_ROWS: '1000' });
  token = await makeToken(s, 'ingest');
  const rows = Array.from({ length: 3000 }, (_, i) => ({ msg: `old ${i}`, service: 'bf' }));
  expect((await ingest(s.url, token, ndjson(rows))).status).toBe(200);
});
afterAll(async () => s.close());

describe('a backfill the store refuses', () => {
  it('is reported, and live events flow anyway', async () => {
    const c = new TailClient(s.url, { authorization: `Bearer ${await makeToken(s, 'read')}` });
    await c.open();
    c.send({ type: 'subscribe', q: 'service:bf', since: '1h', limit: 1000 });
    await c.until(() => c.messages.some((m) => m.code === 'SLUICE_ERR_QUERY_TOO_BROAD'), 'the backfill error');
    expect(c.messages[0]).toEqual({ type: 'subscribed', q: 'service:bf' });
    expect(c.events).toHaveLength(0);
    await ingest(s.url, token, ndjson([{ msg: 'live one', service: 'bf' }]));
    await c.until(() => c.events.length === 1, 'the live event');
    expect(c.events[0]!.message).toBe('live one');
    c.close();
  });
});

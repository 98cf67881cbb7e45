// A read over SLUICE_QUERY_MAX_ROWS is refused with an error naming the limit.
// Its own file: the scan limit is a server setting, and one process holds one
// embedded data directory at a time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startServer({ SLUICE_QUERY_MAX_ROWS: '1000' });
});
afterAll(async () => s.close());

describe('read limits', () => {
  it('names SLUICE_QUERY_MAX_ROWS when a query would read too much', async () => {
    const t = await makeToken(s, 'ingest');
    expect((await ingest(s.url, t, ndjson(Array.from({ length: 3000 }, (_, i) => ({ msg: `row ${i}` }))))).status).toBe(200);
    const res = await fetch(`${s.url}/api/v1/search?q=row`, { headers: auth(s.adminToken) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'SLUICE_ERR_QUERY_TOO_BROAD', message: expect.stringContaining('SLUICE_QUERY_MAX_ROWS=1000') });
  });
});

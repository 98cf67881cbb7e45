// A read over SLUICE_QUERY_MAX_ROWS is refused with an error naming the limit.
// Its own file: the scan limit is a server setting, and one process holds one
// embedded data directory at a time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, basicAuth, ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';

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

  it('cuts Loki queries the same way, log and metric, with and without a pipeline: a 400 in Loki\'s error shape', async () => {
    const basic = basicAuth(await makeToken(s, 'read'));
    // The metric queries count raw events (a line filter, a parser): without
    // them the per-minute rollup answers, reading a few rows. The end is past
    // the events: a metric query's end is rounded down to its step.
    const end = String((BigInt(Date.now()) + 120_000n) * 1_000_000n);
    for (const query of ['{service_name=~".+"} |= "row"', '{service_name=~".+"} | logfmt | x="1"', 'sum(count_over_time({service_name=~".+"} |= "row" [1h]))', 'sum(count_over_time({service_name=~".+"} | json [1h]))']) {
      const res = await fetch(`${s.url}/loki/api/v1/query_range?${new URLSearchParams({ query, step: '60', end })}`, { headers: { authorization: basic } });
      expect(res.status, query).toBe(400);
      expect(await res.json()).toMatchObject({ status: 'error', errorType: 'bad_data', code: 'SLUICE_ERR_QUERY_TOO_BROAD', error: expect.stringContaining('SLUICE_QUERY_MAX_ROWS=1000') });
    }
  });
});

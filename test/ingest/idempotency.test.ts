// A request with an Idempotency-Key is stored once however often it is
// retried, even when other traffic is coalesced around it.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, makeToken, ndjson, searchAll, startServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let token: string;
let readToken: string;

beforeAll(async () => {
  s = await startServer();
  token = await makeToken(s, 'ingest');
  readToken = await makeToken(s, 'read');
});
afterAll(async () => s.close());

const batch = (service: string, n: number) => ndjson(Array.from({ length: n }, (_, i) => ({ msg: `${service} ${i}`, service })));

describe('Idempotency-Key', () => {
  it('stores a sequential retry once', async () => {
    const key = randomUUID();
    const body = batch('idem-seq', 50);
    const first = await ingest(s.url, token, body, { 'idempotency-key': key });
    const retry = await ingest(s.url, token, body, { 'idempotency-key': key });
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ accepted: 50 });
    expect(await searchAll(s.url, readToken, { service: 'idem-seq' })).toHaveLength(50);
  });

  it('stores a retry once while other requests are being coalesced', async () => {
    const key = randomUUID();
    const keyed = batch('idem-conc', 40);
    const noise = () => Array.from({ length: 16 }, () => ingest(s.url, token, batch('idem-noise', 25)));
    const round1 = await Promise.all([...noise(), ingest(s.url, token, keyed, { 'idempotency-key': key }), ...noise()]);
    const round2 = await Promise.all([...noise(), ingest(s.url, token, keyed, { 'idempotency-key': key }), ...noise()]);
    for (const r of [...round1, ...round2]) expect(r.status).toBe(200);
    expect(await searchAll(s.url, readToken, { service: 'idem-conc' })).toHaveLength(40);
    expect(await searchAll(s.url, readToken, { service: 'idem-noise' })).toHaveLength(4 * 16 * 25);
  });

  it('scopes keys to the sending token: the same key from two tokens stores both', async () => {
    const other = await makeToken(s, 'ingest');
    const key = randomUUID();
    await ingest(s.url, token, batch('idem-scope', 3), { 'idempotency-key': key });
    await ingest(s.url, other, batch('idem-scope', 3), { 'idempotency-key': key });
    expect(await searchAll(s.url, readToken, { service: 'idem-scope' })).toHaveLength(6);
  });

  it('shows the inserts the batcher made in /metrics', async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const count = Number(/sluice_insert_rows_count (\d+)/.exec(text)?.[1]);
    const sum = Number(/sluice_insert_rows_sum (\d+)/.exec(text)?.[1]);
    // Keyed requests and their retries are inserts of their own.
    expect(count).toBeGreaterThan(0);
    expect(sum).toBeGreaterThanOrEqual(50 + 40 + 4 * 16 * 25);
  });
});

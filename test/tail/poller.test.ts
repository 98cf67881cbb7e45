// Several processes: a viewer on B sees what A stored, each event once, late
// and old-timestamped ones too. No ClickHouse server runs here, so this runs
// two app instances in one process on one embedded store (as two serve
// processes share a server), each with its own hub and the poller on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, makeToken, ndjson, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { TailClient } from '../helpers/ws.js';

let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  const env = { SLUICE_DATA_DIR: tempDir(), SLUICE_TAIL_POLLER: 'on', SLUICE_TAIL_POLL_MS: '100', SLUICE_TAIL_OVERLAP_MS: '3000' };
  a = await startServer(env);
  b = await startServer(env, { store: a.store });
});
afterAll(async () => {
  await b.close();
  await a.close();
});

async function polls(srv: TestServer): Promise<number> {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  return Number(/^sluice_tail_polls_total (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('tail across processes', () => {
  it('delivers each event once to viewers on both instances', async () => {
    const tokenA = await makeToken(a, 'ingest');
    const viewers = [];
    for (const [srv, who] of [[a, 'a'], [b, 'b']] as const) {
      const c = new TailClient(srv.url, { authorization: `Bearer ${srv.adminToken}` });
      await c.open();
      c.send({ type: 'subscribe', q: 'service:multi' });
      await c.sync();
      viewers.push({ c, who });
    }
    const sent: string[] = [];
    for (let r = 0; r < 5; r++) {
      const rowsA = Array.from({ length: 20 }, (_, i) => ({ msg: `a-${r}-${i}`, service: 'multi' }));
      const rowsB = Array.from({ length: 20 }, (_, i) => ({ msg: `b-${r}-${i}`, service: 'multi' }));
      // An event with an old timestamp (20 days back, on purpose) still goes out: the poller reads by received time.
      rowsA.push({ msg: `a-${r}-old`, service: 'multi', time: new Date(Date.now() - 20 * 86_400_000).toISOString() } as never);
      expect((await ingest(a.url, tokenA, ndjson(rowsA))).status).toBe(200);
      expect((await ingest(b.url, b.adminToken, ndjson(rowsB))).status).toBe(200);
      sent.push(...rowsA.map((x) => x.msg), ...rowsB.map((x) => x.msg));
    }
    for (const { c } of viewers) {
      await c.until(() => c.events.length >= sent.length, `all ${sent.length} events`);
    }
    // Two more polls on each instance: still no event may come twice.
    for (const srv of [a, b]) {
      const start = await polls(srv);
      while ((await polls(srv)) < start + 2) await new Promise((r) => setImmediate(r));
    }
    for (const { c, who } of viewers) {
      await c.sync();
      const got = c.events.map((e) => e.message);
      expect(got.length, who).toBe(sent.length);
      expect(new Set(got), who).toEqual(new Set(sent));
      c.close();
    }
  });
});

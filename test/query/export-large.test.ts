// Export of 1M events: every event once, in order, streamed. Memory is
// measured in bench/, not asserted here.
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/model/event.js';
import { uuidv7 } from '../../src/model/id.js';
import { eventRows } from '../../src/store/rows.js';
import { auth, startServer, type TestServer } from '../helpers/server.js';

const N = 1_000_000;
const BATCH = 100_000;
const BASE_NS = BigInt(Date.parse('2026-11-22T00:00:00Z')) * 1_000_000n;

let s: TestServer;

beforeAll(async () => {
  s = await startServer();
  // Setup writes straight through the store: this test is about export.
  for (let b = 0; b < N / BATCH; b++) {
    const events: LogEvent[] = [];
    for (let i = b * BATCH; i < (b + 1) * BATCH; i++) {
      const t = BASE_NS + BigInt(i) * 50_000_000n; // 20 events a second over ~14 h
      events.push({ id: uuidv7(Number(t / 1_000_000n)), timeNs: t, receivedNs: t, service: `svc-${i % 4}`, host: 'h', level: 'info', severity: 9, message: `event ${i}`, attributes: { i: String(i) }, traceId: '', spanId: '' });
    }
    await s.store.insertRows('logs', eventRows(events, 'bulk', 'test'));
  }
}, 120_000);
afterAll(async () => s.close());

describe('export', () => {
  it('streams 1M events, each once, oldest first', async () => {
    const res = await fetch(`${s.url}/api/v1/export?from=2026-11-21T23:00:00Z&to=2026-11-22T15:00:00Z`, { headers: auth(s.adminToken) });
    expect(res.status).toBe(200);
    const lines = createInterface({ input: Readable.fromWeb(res.body as never) });
    let count = 0;
    let lastTime = '';
    let inOrder = true;
    let sum = 0;
    for await (const line of lines) {
      const e = JSON.parse(line) as { time: string; attributes: { i: string } };
      if (e.time < lastTime) inOrder = false;
      lastTime = e.time;
      sum += Number(e.attributes.i);
      count++;
    }
    expect(count).toBe(N);
    expect(sum).toBe((N * (N - 1)) / 2); // every i once
    expect(inOrder).toBe(true);
  }, 300_000);
});

// Export: every event of the range once, oldest first, streamed page by
// page. 12,000 events make three pages of the store; the 1M-event run and
// its memory are in bench/query.mjs, not here. (Whether a reader that hangs
// up stops the paging cannot be told apart from timing here: not tested.)
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/model/event.js';
import { uuidv7 } from '../../src/model/id.js';
import { eventRows } from '../../src/store/rows.js';
import { auth, startServer, type TestServer } from '../helpers/server.js';
import { testTimes } from '../helpers/times.js';

const N = 12_000;
const PAGE = 5000; // src/query/export.ts
const t = testTimes(2);
const range = t.range(-60_000, 3_600_000);
const path = `/api/v1/export?from=${encodeURIComponent(range.from)}&to=${encodeURIComponent(range.to)}`;

let s: TestServer;
/** Event reads the query session has run (export pages, among others). */
let reads = 0;

beforeAll(async () => {
  s = await startServer();
  // Setup writes straight through the store: this test is about export.
  // Each event carries 1 KiB, so a page (5 MiB) is more than loopback
  // socket buffers take at once and the reader's pace shows.
  const pad = 'p'.repeat(1024);
  const events: LogEvent[] = [];
  for (let i = 0; i < N; i++) {
    const ns = t.ns(i * 250); // 4 a second over 50 min
    events.push({ id: uuidv7(Number(ns / 1_000_000n)), timeNs: ns, receivedNs: ns, service: `svc-${i % 4}`, host: 'h', level: 'info', severity: 9, message: `event ${i}`, attributes: { i: String(i), pad }, traceId: '', spanId: '' });
  }
  await s.store.insertEvents(eventRows(events, 'bulk', 'test'));
  // Count the store reads without changing them.
  const q = s.store.query;
  const original = q.query.bind(q);
  q.query = ((...args: Parameters<typeof q.query>) => {
    reads++;
    return original(...args);
  }) as typeof q.query;
});
afterAll(async () => s.close());

describe('export', () => {
  it('streams every event once, oldest first, the first lines before the last page is read', async () => {
    const before = reads;
    const res = await fetch(`${s.url}${path}`, { headers: auth(s.adminToken) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = createInterface({ input: Readable.fromWeb(res.body as never) });
    let count = 0;
    let lastTime = '';
    let inOrder = true;
    let sum = 0;
    let readsAtFirstLine = -1;
    for await (const line of lines) {
      if (count === 0) readsAtFirstLine = reads - before;
      const e = JSON.parse(line) as { time: string; attributes: { i: string } };
      if (e.time < lastTime) inOrder = false;
      lastTime = e.time;
      sum += Number(e.attributes.i);
      count++;
    }
    expect(count).toBe(N);
    expect(sum).toBe((N * (N - 1)) / 2); // every i once
    expect(inOrder).toBe(true);
    const pages = reads - before;
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(N / PAGE));
    // Buffered whole, the first line would come after every page was read.
    expect(readsAtFirstLine).toBeGreaterThan(0);
    expect(readsAtFirstLine).toBeLessThan(pages);
  });
});

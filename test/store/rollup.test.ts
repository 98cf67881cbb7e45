// The per-minute rollups are filled by a background job from a received-time
// watermark (src/store/rollup.ts). What must hold: counts stay exact when a
// chunk is counted again, events still held by an insert are not skipped,
// and readers (trends) give the same answer wherever the watermark is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/model/event.js';
import { uuidv7 } from '../../src/model/id.js';
import { nowNs } from '../../src/model/time.js';
import { readMeta, writeMeta } from '../../src/store/meta.js';
import { WATERMARK_KEY } from '../../src/store/rollup.js';
import { eventRows } from '../../src/store/rows.js';
import { fineRollup } from '../helpers/rollup.js';
import { auth, ingest, makeToken, startServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startServer({ SLUICE_ROLES: 'api,ingest' });
});
afterAll(async () => s.close());

async function n(sql: string, params: Record<string, unknown> = {}): Promise<number> {
  const rs = await s.store.query.query({ query: sql + ' SETTINGS output_format_json_quote_64bit_integers = 0', query_params: params, format: 'JSONEachRow' });
  return Number((await rs.json<{ n: number | null }>())[0]?.n ?? 0);
}
const byEvent = (service: string) => n('SELECT sum(count) AS n FROM logs_per_minute WHERE service = {s:String}', { s: service });
const byReceived = (service: string) => n('SELECT sum(count) AS n FROM logs_received_per_minute WHERE service = {s:String}', { s: service });

function events(service: string, count: number, receivedNs: bigint): Buffer {
  const list: LogEvent[] = Array.from({ length: count }, (_, i) => {
    // Event times an hour apart: a late event lands in an old minute.
    const timeNs = receivedNs - BigInt(i % 3) * 3_600_000_000_000n;
    return { id: uuidv7(Number(timeNs / 1_000_000n)), timeNs, receivedNs, service, host: 'h', level: 'info', severity: 9, message: `m${i}`, attributes: {}, traceId: '', spanId: '' };
  });
  return eventRows(list, 'test', 'w');
}

describe('the rollup job', () => {
  it('reports its watermark in /metrics from the start', async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const value = Number(/^sluice_rollup_watermark_seconds (\S+)$/m.exec(text)?.[1]);
    // Migrate set it to its own time, moments ago.
    expect(Math.abs(value - Date.now() / 1000)).toBeLessThan(600);
  });

  it('counts events by event minute and by received minute, identical inserts twice, a keyed retry once', async () => {
    const rollup = await fineRollup(s);
    const t = nowNs();
    await s.store.insertEvents(events('ro-a', 3, t));
    await s.store.insertEvents(events('ro-a', 3, t));
    await s.store.insertEvents(events('ro-a', 4, t + 1_000_000n), 'ro-key');
    await s.store.insertEvents(events('ro-a', 4, t + 1_000_000n), 'ro-key');
    await rollup.run(nowNs());
    expect(await n("SELECT count() AS n FROM logs WHERE service = 'ro-a'")).toBe(10);
    expect(await byEvent('ro-a')).toBe(10);
    expect(await byReceived('ro-a')).toBe(10);
    // Three event minutes an hour apart, one received minute (or two at a boundary).
    expect(await n("SELECT uniqExact(minute) AS n FROM logs_per_minute WHERE service = 'ro-a'")).toBeGreaterThanOrEqual(3);
    expect(BigInt((await readMeta(s.store, WATERMARK_KEY))!)).toBeGreaterThan(t + 1_000_000n);
  });

  it('stores a chunk counted again after a crash once', async () => {
    const rollup = await fineRollup(s);
    const before = await rollup.watermark();
    const t = nowNs();
    await s.store.insertEvents(events('ro-b', 5, t));
    await rollup.run(nowNs());
    expect(await byEvent('ro-b')).toBe(5);
    // A crash after the counts went in but before the watermark moved: the
    // next process starts from the old watermark and counts the chunk again.
    await writeMeta(s.store, WATERMARK_KEY, String(before));
    const again = await fineRollup(s);
    expect(await again.watermark()).toBe(before);
    expect(await again.run(nowNs())).toBeGreaterThan(0);
    expect(await byEvent('ro-b')).toBe(5);
    expect(await byReceived('ro-b')).toBe(5);
  });

  it('does not pass the received time of an event still being inserted', async () => {
    const rollup = await fineRollup(s);
    const held = nowNs();
    const release = rollup.hold(held);
    // Received later than the held one and stored first.
    await s.store.insertEvents(events('ro-c', 2, held + 5_000_000n));
    await rollup.run(nowNs());
    expect(await rollup.watermark()).toBeLessThanOrEqual(held);
    expect(await byEvent('ro-c')).toBe(0);
    // The held events arrive; once released the job counts both.
    await s.store.insertEvents(events('ro-c', 3, held));
    release();
    await rollup.run(nowNs());
    expect(await rollup.watermark()).toBeGreaterThan(held + 5_000_000n);
    expect(await byEvent('ro-c')).toBe(5);
  });

  it('commits a long run a few chunks at a time, each step exact for a reader', async () => {
    const rollup = await fineRollup(s);
    const t = nowNs();
    // 40 events received 1 ms apart: 40 chunks on the 1 ms grid.
    for (let i = 0; i < 40; i++) await s.store.insertEvents(events('ro-e', 1, t + BigInt(i) * 1_000_000n));
    const steps: bigint[] = [];
    const reads: Array<Promise<number>> = [];
    rollup.onAdvance = (w) => {
      steps.push(w);
      // What a reader sees between two commits: the rollup up to W plus the raw rest.
      reads.push(
        rollup.reading(async (wr) => (await byEvent('ro-e')) + (await n("SELECT count() AS n FROM logs WHERE service = 'ro-e' AND received_at >= fromUnixTimestamp64Nano({w:Int64}, 'UTC')", { w: wr.toString() }))),
      );
    };
    await rollup.run(t + 50_000_000n);
    rollup.onAdvance = undefined;
    // 16 chunks a commit: at least three steps, W only forward.
    expect(steps.length).toBeGreaterThanOrEqual(3);
    expect([...steps].sort((a, b) => (a < b ? -1 : 1))).toEqual(steps);
    expect(await Promise.all(reads)).toEqual(reads.map(() => 40));
    expect(await byEvent('ro-e')).toBe(40);
    expect(await byReceived('ro-e')).toBe(40);
  });

  it('gives trends the same answer wherever the watermark is', async () => {
    const rollup = await fineRollup(s);
    const ingestToken = await makeToken(s, 'ingest');
    const read = await makeToken(s, 'read');
    const line = (level: string, i: number) => JSON.stringify({ service: 'ro-d', level, message: `e${i}`, time: new Date(Date.now() - (i % 4) * 60_000).toISOString() });
    const send = async (count: number) => {
      const body = Array.from({ length: count }, (_, i) => line(['info', 'warn', 'error'][i % 3]!, i)).join('\n');
      expect((await ingest(s.url, ingestToken, body)).status).toBe(200);
    };
    const trends = async (q: string) => {
      const res = await fetch(`${s.url}/api/v1/trends?${new URLSearchParams({ q, from: new Date(Date.now() - 30 * 60_000).toISOString(), step: '1m', by: 'level' })}`, { headers: auth(read) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { source: string; series: Array<{ key: string; total: number }> };
      return { source: body.source, totals: Object.fromEntries(body.series.map((x) => [x.key, x.total])) };
    };
    await send(30);
    await rollup.run(nowNs());
    await send(12);
    const viaRollup = await trends('service:ro-d');
    expect(viaRollup.source).toBe('rollup');
    expect(viaRollup.totals).toEqual({ info: 14, warn: 14, error: 14 });
    // Half of it is in the rollup, half raw: the test says something.
    expect(await byEvent('ro-d')).toBe(30);
    // The raw path (a text term forces it) agrees.
    const viaRaw = await trends('service:ro-d e*');
    expect(viaRaw.source).toBe('raw');
    expect(viaRaw.totals).toEqual(viaRollup.totals);
    await rollup.run(nowNs());
    expect(await byEvent('ro-d')).toBe(42);
    expect((await trends('service:ro-d')).totals).toEqual(viaRollup.totals);
  });
});

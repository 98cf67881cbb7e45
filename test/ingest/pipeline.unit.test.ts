// The pipeline's decisions on their own, with no engine: what it refuses
// (disk, budget, rate, key), that a listener hears of events only after
// their insert succeeded and exactly once, that the rollup watermark is held
// for exactly as long as events are unstored, and how a stream source's
// persist retries. The sink is a gate the test opens, so every interleaving
// is chosen, not hoped for; the real store is exercised by test/ingest's
// drain tests.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { SluiceError } from '../../src/errors.js';
import { Batcher } from '../../src/ingest/batcher.js';
import { GatedSink } from '../helpers/gated-sink.js';
import { normalizeLine } from '../../src/ingest/normalize.js';
import { commonCode, IngestPipeline, type StoredEvents } from '../../src/ingest/pipeline.js';
import { RateLimiter } from '../../src/ingest/rate-limit.js';
import { ManualClock } from '../../src/model/clock.js';
import type { LogEvent } from '../../src/model/event.js';
import { logEventToJson } from '../../src/model/event.js';
import { EVENT_COLUMNS, rowsToJson } from '../../src/store/rows.js';

/** A row as eventRows writes it (an array of EVENT_COLUMNS), by column name. */
const rowObject = (values: unknown[]): Record<string, unknown> => Object.fromEntries(EVENT_COLUMNS.map((c, i) => [c, values[i]]));

class CountingWatermark {
  held = 0;
  readonly times: bigint[] = [];
  hold(receivedNs: bigint): () => void {
    this.held++;
    this.times.push(receivedNs);
    let done = false;
    return () => {
      if (!done) this.held--;
      done = true;
    };
  }
}

const tick = () => new Promise((r) => setImmediate(r));
const alice = { name: 'alice', scope: 'ingest' as const };
const bob = { name: 'bob', scope: 'ingest' as const };

function setup(env: Record<string, string> = {}, wantsEvents = () => true) {
  const config = loadConfig({ SLUICE_DATA_DIR: '/nonexistent', SLUICE_RETENTION_DAYS: '30', ...env });
  const clock = new ManualClock(Date.now());
  const sink = new GatedSink();
  const batcher = new Batcher(sink, { ...config.batch, concurrency: 1, maxWaitMs: 0 }, {}, clock);
  const disk = { low: false };
  const watermark = new CountingWatermark();
  const pipeline = new IngestPipeline({ config, clock, batcher, rateLimiter: new RateLimiter(config.tokenRateLimit), disk, watermark, writerId: 'w1' });
  const stored: StoredEvents[] = [];
  pipeline.onStored((s) => stored.push(s), wantsEvents);
  const rejected: Array<[string, number]> = [];
  pipeline.onRejected((code, n) => rejected.push([code, n]));
  const events = (...lines: string[]): LogEvent[] => {
    const nctx = pipeline.context({ service: 'svc' });
    return lines.map((l) => normalizeLine(l, nctx) as LogEvent);
  };
  return { config, clock, sink, batcher, disk, watermark, pipeline, stored, rejected, events };
}

describe('IngestPipeline', () => {
  it('announces stored events once, only after their insert succeeded, with the sender as source', async () => {
    const t = setup();
    const evs = t.events('one', 'two');
    let acked = false;
    const p = t.pipeline.store(alice, evs).then(() => (acked = true));
    await tick();
    expect(t.sink.inserts).toHaveLength(1);
    const rows = t.sink.inserts[0]!.body.trim().split('\n').map((l) => rowObject(l.split('\t')));
    expect(rows.map((r) => [r.message, r.source, r.writer])).toEqual([['one', 'alice', 'w1'], ['two', 'alice', 'w1']]);
    expect(t.stored).toEqual([]);
    expect(acked).toBe(false);
    expect(t.watermark.held).toBe(1);
    t.sink.release();
    await p;
    expect(t.stored).toEqual([{ count: 2, events: evs, rows: expect.any(Buffer), source: 'alice' }]);
    expect(t.watermark.held).toBe(0);
  });

  it('announces nothing when the insert fails, answers 503 STORE_UNAVAILABLE and releases the watermark', async () => {
    const t = setup();
    const p = t.pipeline.store(alice, t.events('lost'));
    await tick();
    t.sink.release(new Error('engine down'));
    await expect(p).rejects.toMatchObject({ code: 'SLUICE_ERR_STORE_UNAVAILABLE', statusCode: 503, retryAfter: 1 });
    expect(t.stored).toEqual([]);
    expect(t.watermark.held).toBe(0);
  });

  it('holds the watermark at the oldest received time of what it stores', async () => {
    const t = setup();
    const first = t.events('a');
    t.clock.advance(5_000);
    const later = t.events('b');
    const p = t.pipeline.store(alice, [...later, ...first]);
    await tick();
    expect(t.watermark.times).toEqual([first[0]!.receivedNs]);
    t.sink.release();
    await p;
  });

  it('refuses while the disk is low (DISK_FULL) or the batcher is at its budget (OVERLOADED), before any body is read', async () => {
    const t = setup({ SLUICE_BATCH_BUDGET_BYTES: String(1024 * 1024) });
    expect(() => t.pipeline.checkWritable()).not.toThrow();
    t.disk.low = true;
    expect(() => t.pipeline.checkWritable()).toThrow(expect.objectContaining({ code: 'SLUICE_ERR_DISK_FULL', retryAfter: 30 }));
    t.disk.low = false;
    const big = t.events('x'.repeat(1024 * 1024));
    const p = t.pipeline.store(alice, big);
    await tick();
    expect(t.batcher.bytes).toBeGreaterThanOrEqual(1024 * 1024);
    expect(() => t.pipeline.checkWritable()).toThrow(expect.objectContaining({ code: 'SLUICE_ERR_OVERLOADED', retryAfter: 1 }));
    t.sink.release();
    await p;
    expect(() => t.pipeline.checkWritable()).not.toThrow();
  });

  it('rate-limits per token: the token over its allowance waits, another token does not', async () => {
    const t = setup({ SLUICE_TOKEN_RATE_LIMIT: '2' });
    const p1 = t.pipeline.store(alice, t.events('1', '2', '3'));
    await tick();
    t.sink.release();
    await p1;
    await expect(t.pipeline.store(alice, t.events('4'))).rejects.toMatchObject({ code: 'SLUICE_ERR_RATE_LIMITED', statusCode: 429 });
    const p2 = t.pipeline.store(bob, t.events('5'));
    await tick();
    t.sink.release();
    await p2;
    t.clock.advance(2_000);
    const p3 = t.pipeline.store(alice, t.events('6'));
    await tick();
    t.sink.release();
    await p3;
    expect(t.stored.map((s) => [s.source, s.events!.map((e) => e.message)])).toEqual([
      ['alice', ['1', '2', '3']],
      ['bob', ['5']],
      ['alice', ['6']],
    ]);
  });

  it('lets go of the events when no listener wants them as they go to the store; their rows read back as the published events', async () => {
    let wanting = false;
    const t = setup({}, () => wanting);
    const late = t.stored;
    const evs = t.events('plain', 'with "quotes", a \\ backslash and ünïcödé ✓', '{"level":"error","msg":"json","k":"v","n":{"m":1}}');
    const p = t.pipeline.store(alice, evs);
    wanting = true; // a viewer arrives while the events are on their way
    await tick();
    t.sink.release();
    await p;
    expect(late).toHaveLength(1);
    expect(late[0]!.events).toBeUndefined();
    expect(late[0]!.count).toBe(3);
    expect(rowsToJson(late[0]!.rows)).toEqual(evs.map((e) => logEventToJson(e, 'alice')));
    // Wanted when they are sent, the events themselves are announced.
    const q = t.pipeline.store(alice, t.events('wanted'));
    await tick();
    t.sink.release();
    await q;
    expect(late[1]!.events!.map((e) => e.message)).toEqual(['wanted']);
  });

  it('turns an idempotency key into a dedup token scoped to the sender, and refuses a malformed key with a 400', async () => {
    const t = setup();
    const tokens: Array<string | undefined> = [];
    for (const who of [alice, alice, bob]) {
      const p = t.pipeline.store(who, t.events('k'), 'batch-1');
      await tick();
      tokens.push(t.sink.inserts.at(-1)!.token);
      t.sink.release();
      await p;
    }
    expect(tokens[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(tokens[1]).toBe(tokens[0]);
    expect(tokens[2]).not.toBe(tokens[0]);
    await expect(t.pipeline.store(alice, t.events('k'), 'has space')).rejects.toMatchObject({ code: 'SLUICE_ERR_INVALID_IDEMPOTENCY_KEY', statusCode: 400 });
    expect(t.sink.inserts).toHaveLength(3);
  });

  it('stores nothing and announces nothing for an empty request', async () => {
    const t = setup();
    await t.pipeline.store(alice, []);
    expect(t.sink.inserts).toEqual([]);
    expect(t.stored).toEqual([]);
  });

  it('clamps times to the retention and the future from its own clock', () => {
    const t = setup();
    const nctx = t.pipeline.context();
    const day = 86_400_000_000_000n;
    expect(nctx.receivedNs).toBe(t.clock.nowNs());
    expect(nctx.newestNs - nctx.receivedNs).toBe(day);
    expect(nctx.receivedNs - nctx.oldestNs).toBe(30n * day - day / 24n);
    expect(nctx.defaultService).toBe('unknown');
  });

  it('counts rejections by code for its listeners, and names the one shared cause of an all-bad request', () => {
    const t = setup();
    t.pipeline.reject([
      { index: 0, code: 'SLUICE_ERR_MALFORMED_JSON', message: 'x' },
      { index: 2, code: 'SLUICE_ERR_MALFORMED_JSON', message: 'y' },
      { index: 3, code: 'SLUICE_ERR_LINE_TOO_LARGE', message: 'z' },
    ]);
    expect(t.rejected).toEqual([['SLUICE_ERR_MALFORMED_JSON', 1], ['SLUICE_ERR_MALFORMED_JSON', 1], ['SLUICE_ERR_LINE_TOO_LARGE', 1]]);
    expect(commonCode([{ index: 0, code: 'SLUICE_ERR_INVALID_TIME', message: '' }])).toBe('SLUICE_ERR_INVALID_TIME');
    expect(commonCode([{ index: 0, code: 'SLUICE_ERR_INVALID_TIME', message: '' }, { index: 1, code: 'SLUICE_ERR_INVALID_EVENT', message: '' }])).toBe('SLUICE_ERR_NO_VALID_EVENTS');
  });

  it('persist: keeps retrying a full batcher for a stream source, holding the watermark throughout, until the events are stored', async () => {
    const t = setup({ SLUICE_BATCH_BUDGET_BYTES: String(1024 * 1024) });
    const blocker = t.pipeline.store(alice, t.events('y'.repeat(1024 * 1024)));
    await tick();
    let blocked = 0;
    const p = t.pipeline.persist([{ principal: alice, events: t.events('after') }], { onBlocked: () => blocked++, givingUp: () => false });
    // It waits (25 ms, doubling) while the budget is spent.
    while (blocked < 2) await new Promise((r) => setTimeout(r, 5));
    expect(t.watermark.held).toBe(2);
    t.sink.release();
    await blocker;
    while (t.sink.pending === 0) await new Promise((r) => setTimeout(r, 5));
    t.sink.release();
    expect(await p).toEqual([{ stored: true }]);
    expect(t.watermark.held).toBe(0);
    expect(t.stored.map((s) => s.events![0]!.message)).toEqual(['y'.repeat(1024 * 1024), 'after']);
  });

  it('persist: builds a group\'s rows once and lets its events go when nobody wants them; a retry sends the same rows', async () => {
    const t = setup({}, () => false);
    const p = t.pipeline.persist([{ principal: alice, events: t.events('one', 'two') }, { principal: bob, events: [] }], { givingUp: () => false });
    await tick();
    t.sink.release(new Error('boom'));
    while (t.sink.inserts.length < 2) await new Promise((r) => setTimeout(r, 5));
    t.sink.release();
    expect(await p).toEqual([{ stored: true }, { stored: true }]);
    expect(t.sink.inserts).toHaveLength(2);
    expect(t.sink.inserts[1]!.body).toBe(t.sink.inserts[0]!.body);
    expect(t.stored).toHaveLength(1);
    expect(t.stored[0]!.events).toBeUndefined();
    expect(rowsToJson(t.stored[0]!.rows).map((e) => [e.message, e.source])).toEqual([['one', 'alice'], ['two', 'alice']]);
    expect(t.watermark.held).toBe(0);
  });

  it('persist: gives up at shutdown with reason shutdown, and retries a store that failed', async () => {
    const t = setup({ SLUICE_BATCH_BUDGET_BYTES: String(1024 * 1024) });
    const blocker = t.pipeline.store(alice, t.events('z'.repeat(1024 * 1024)));
    await tick();
    let giveUp = false;
    const p = t.pipeline.persist([{ principal: alice, events: t.events('late') }], { onBlocked: () => (giveUp = true), givingUp: () => giveUp });
    const [outcome] = await p;
    expect(outcome).toMatchObject({ stored: false, reason: 'shutdown' });
    expect((outcome as { error: SluiceError }).error.code).toBe('SLUICE_ERR_OVERLOADED');
    t.sink.release();
    await blocker;
    const bad = t.events('b');
    const q = t.pipeline.persist([{ principal: alice, events: bad }], { givingUp: () => false });
    await tick();
    t.sink.release(new Error('boom'));
    // STORE_UNAVAILABLE is temporary: it retries, and the next insert succeeds.
    while (t.sink.pending === 0) await new Promise((r) => setTimeout(r, 5));
    t.sink.release();
    expect(await q).toEqual([{ stored: true }]);
    expect(t.stored.map((x) => x.events![0]!.message)).toEqual(['z'.repeat(1024 * 1024), 'b']);
  });
});

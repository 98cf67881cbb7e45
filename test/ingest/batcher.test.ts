// The batcher's policy on its own: coalescing, keyed inserts alone, the byte
// bound, failure and drain. The sink is a gate the test opens, so every
// interleaving is chosen, not hoped for; the real store is exercised by the
// ingest and idempotency tests.
import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/ingest/batcher.js';
import { GatedSink } from '../helpers/gated-sink.js';
import { SluiceError } from '../../src/errors.js';
import { ManualClock } from '../../src/model/clock.js';

const opts = { maxRows: 100, maxWaitMs: 10_000, budgetBytes: 1000, concurrency: 1 };
const rows = (tag: string, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `${tag}${i}\n`).join(''));
const tick = () => new Promise((r) => setImmediate(r));

describe('Batcher', () => {
  it('starts at once when idle and coalesces what arrives while an insert runs', async () => {
    const sink = new GatedSink();
    const b = new Batcher(sink, opts);
    const done: string[] = [];
    const p1 = b.submit(rows('a', 1), 1).then(() => done.push('a'));
    await tick();
    expect(sink.inserts).toHaveLength(1);
    const rest = ['b', 'c', 'd'].map((t) => b.submit(rows(t, 2), 2).then(() => done.push(t)));
    await tick();
    expect(sink.inserts).toHaveLength(1); // waiting for the slot
    sink.release();
    await p1;
    await tick();
    expect(sink.inserts).toHaveLength(2);
    expect(sink.inserts[1]!.body).toBe('b0\nb1\nc0\nc1\nd0\nd1\n');
    expect(done).toEqual(['a']); // b, c, d are not acknowledged before their insert succeeds
    sink.release();
    await Promise.all(rest);
    expect(done.sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('inserts a keyed request on its own, with its token', async () => {
    const sink = new GatedSink();
    const b = new Batcher(sink, opts);
    const all = [b.submit(rows('x', 1), 1)];
    await tick();
    all.push(b.submit(rows('y', 1), 1), b.submit(rows('k', 3), 3, 'tok'), b.submit(rows('z', 1), 1));
    for (let i = 0; i < 3; i++) {
      sink.release();
      await tick();
      await tick();
    }
    sink.release();
    await Promise.all(all);
    expect(sink.inserts.map((i) => [i.body, i.token])).toEqual([
      ['x0\n', undefined],
      ['y0\n', undefined],
      ['k0\nk1\nk2\n', 'tok'],
      ['z0\n', undefined],
    ]);
  });

  it('closes a batch at maxRows', async () => {
    const sink = new GatedSink();
    const b = new Batcher(sink, { ...opts, maxRows: 4 });
    const all = [b.submit(rows('a', 1), 1)];
    await tick();
    all.push(b.submit(rows('b', 3), 3), b.submit(rows('c', 3), 3));
    while (sink.inserts.length < 3 || sink.pending > 0) {
      if (sink.pending > 0) sink.release();
      await tick();
    }
    await Promise.all(all);
    expect(sink.inserts.map((i) => i.body.split('\n').length - 1)).toEqual([1, 3, 3]);
  });

  it('refuses with SLUICE_ERR_OVERLOADED past the byte budget, and takes work again once it drains', async () => {
    const sink = new GatedSink();
    const b = new Batcher(sink, { ...opts, budgetBytes: 100 });
    const first = b.submit(Buffer.alloc(60, 0x61), 1);
    await tick();
    const err = await b.submit(Buffer.alloc(60, 0x62), 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect(err).toMatchObject({ code: 'SLUICE_ERR_OVERLOADED', statusCode: 503, retryAfter: 1 });
    expect(b.bytes).toBe(60);
    sink.release();
    await first;
    expect(b.bytes).toBe(0);
    const again = b.submit(Buffer.alloc(60, 0x63), 1);
    await tick();
    sink.release();
    await again;
  });

  it('fails every waiter of a failed insert with a retryable 503', async () => {
    const sink = new GatedSink();
    const b = new Batcher(sink, opts);
    const p = b.submit(rows('a', 1), 1);
    await tick();
    sink.release(new Error('disk on fire'));
    await expect(p).rejects.toMatchObject({ code: 'SLUICE_ERR_STORE_UNAVAILABLE', statusCode: 503 });
    expect(b.bytes).toBe(0);
  });

  it('waits for the requests received before an idle insert could start, not for later ones', async () => {
    const sink = new GatedSink();
    const arrivals = { asked: 3, granted: 0 }; // three requests received, none decoded yet
    const b = new Batcher(sink, opts, {}, undefined, arrivals);
    arrivals.granted = 1;
    const all = [b.submit(rows('a', 1), 1)];
    await tick();
    expect(sink.inserts).toHaveLength(0); // the slot is free, but two received requests are not decoded
    arrivals.granted = 2;
    arrivals.asked = 5; // two more arrive: they will not hold this insert
    all.push(b.submit(rows('b', 1), 1));
    await tick();
    expect(sink.inserts).toHaveLength(0);
    arrivals.granted = 3; // the third stored nothing (every line refused): no submit, the batcher looks again by itself
    await new Promise((r) => setTimeout(r, 2));
    expect(sink.inserts.map((i) => i.body)).toEqual(['a0\nb0\n']);
    sink.release();
    await Promise.all(all);
  });

  it('waits for requests on their way no longer than maxWaitMs', async () => {
    const sink = new GatedSink();
    const clock = new ManualClock();
    const b = new Batcher(sink, { ...opts, maxWaitMs: 5 }, {}, clock, { asked: 1, granted: 0 });
    const p = b.submit(rows('a', 1), 1);
    await tick();
    expect(sink.inserts).toHaveLength(0);
    clock.advance(5);
    // The batcher looks again every millisecond while it waits; its timer
    // was set before this one.
    await new Promise((r) => setTimeout(r, 2));
    expect(sink.inserts.map((i) => i.body)).toEqual(['a0\n']);
    sink.release();
    await p;
  });

  it('drain() inserts everything held, even a batch still waiting for company', async () => {
    const sink = new GatedSink();
    const b = new Batcher(sink, { ...opts, concurrency: 2 });
    const first = b.submit(rows('a', 1), 1);
    await tick();
    const second = b.submit(rows('b', 1), 1); // waits up to maxWaitMs while `a` runs
    await tick();
    expect(sink.inserts).toHaveLength(1);
    const drained = b.drain();
    await tick();
    expect(sink.inserts).toHaveLength(2);
    sink.release();
    sink.release();
    await Promise.all([first, second, drained]);
    expect(b.bytes).toBe(0);
  });
});

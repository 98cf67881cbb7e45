// The shipper's batch queue on a real directory, when the disk fails under
// it: memory stays within its bound, and what had to go is counted and
// reported.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Batch, BatchQueue } from '../../src/shipper/queue.js';
import { tempDir } from '../helpers/server.js';

function batch(q: BatchQueue, lines: number, bytes: number): Batch {
  return { seq: q.nextSeq(), id: randomUUID(), lines, body: Buffer.alloc(bytes, 0x61), file: undefined, bytes, offsets: undefined, meta: '{"v":1}' };
}

describe('BatchQueue', () => {
  it('keeps memory within its bound when the spool cannot be written, dropping the oldest and counting them', () => {
    const dir = tempDir();
    const q = new BatchQueue({ dir, memoryBytes: 10_000, spoolMaxBytes: 1_000_000 });
    // The spool directory disappears (a tmp cleaner, a lost volume): every write fails.
    rmSync(dir, { recursive: true, force: true });
    const added = Array.from({ length: 50 }, () => batch(q, 10, 1000));
    for (const b of added) q.add(b, true);
    expect(q.length).toBe(10);
    expect(q.head()).toBe(added[40]);
    expect(q.droppedLines).toBe(400);
    expect(q.takeDropNotice()).toMatchObject({ lines: 400, batches: 40 });
    // A stop spills everything: still nothing can be written, still bounded.
    q.add(batch(q, 10, 1000), false);
    q.spillAll();
    expect(q.length).toBe(10);
    expect(q.droppedLines).toBe(410);
  });

  it('spools batches with their line meta, and a new queue on the directory sends them first, as they were', () => {
    const dir = tempDir();
    const q = new BatchQueue({ dir, memoryBytes: 10_000, spoolMaxBytes: 1_000_000 });
    const b = batch(q, 3, 500);
    q.add(b, true);
    expect(b.file).toBeDefined();
    const again = new BatchQueue({ dir, memoryBytes: 10_000, spoolMaxBytes: 1_000_000 });
    expect(again.head()).toMatchObject({ id: b.id, lines: 3, meta: '{"v":1}' });
    expect(again.body(again.head()!)).toEqual(Buffer.alloc(500, 0x61));
  });
});

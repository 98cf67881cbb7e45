// An insert sink that a test opens by hand: each insert waits until the
// test releases (or fails) it, so every interleaving of a batcher or the
// pipeline is chosen, not hoped for. Pure: no engine, fit for the unit tier.
import type { InsertSink } from '../../src/ingest/batcher.js';

export class GatedSink implements InsertSink {
  readonly inserts: Array<{ body: string; token: string | undefined }> = [];
  #open: Array<(err?: Error) => void> = [];

  insert(body: Buffer, token: string | undefined): Promise<void> {
    this.inserts.push({ body: body.toString(), token });
    return new Promise((resolve, reject) => this.#open.push((err) => (err ? reject(err) : resolve())));
  }

  /** Inserts started and not yet released. */
  get pending(): number {
    return this.#open.length;
  }

  /** Lets the oldest running insert finish (or fail). */
  release(err?: Error): void {
    const f = this.#open.shift();
    if (!f) throw new Error('no insert is running');
    f(err);
  }
}

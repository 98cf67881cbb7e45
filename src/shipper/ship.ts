// `sluice ship`: reads an app's output (stdin, a wrapped child, or files),
// passes it through unchanged, and carries it to the server in batches that
// are never lost while the spool has room.
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { LineSplitter, type Line, MultilineJoiner } from './lines.js';
import { BatchQueue, type Batch } from './queue.js';
import { readTime, type RecordContext, toRecord } from './record.js';
import { Sender } from './sender.js';

const gzip = promisify(gzipCb);

export interface ShipOptions {
  readonly url: string;
  readonly token: string;
  readonly record: RecordContext;
  readonly multiline: RegExp | undefined;
  readonly maxLineBytes: number;
  readonly batchLines: number;
  readonly batchBytes: number;
  readonly batchAgeMs: number;
  readonly spoolDir: string;
  readonly spoolMaxBytes: number;
  readonly memoryBytes: number;
  readonly flushTimeoutMs: number;
  readonly log: (msg: string) => void;
}

type Offsets = NonNullable<Batch['offsets']>;

/** One input stream: its own line splitter and multi-line joiner. */
export class Stream {
  readonly splitter: LineSplitter;
  readonly joiner: MultilineJoiner;
  /** Input bytes of the records handed to the shipper (files mode offsets). */
  consumed = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly shipper: Shipper,
    readonly name: 'stdout' | 'stderr' | undefined,
    readonly file?: string,
  ) {
    this.splitter = new LineSplitter(shipper.opts.maxLineBytes);
    this.joiner = new MultilineJoiner(shipper.opts.multiline);
  }

  push(chunk: Buffer): void {
    for (const line of this.splitter.push(chunk)) this.#line(line);
    this.#armFlush();
  }

  end(): void {
    for (const line of this.splitter.end()) this.#line(line);
    this.flush();
  }

  flush(): void {
    clearTimeout(this.#timer);
    const rec = this.joiner.flush();
    if (rec) this.#emit(rec);
  }

  // Counted before the record is added: a batch sealed by this record holds it.
  #emit(rec: Line): void {
    this.consumed += rec.bytes;
    this.shipper.add(rec, this);
  }

  #line(line: Line): void {
    this.shipper.stats.read++;
    const rec = this.joiner.push(line);
    if (rec) this.#emit(rec);
  }

  // A record that may still continue is sent after a short quiet period.
  #armFlush(): void {
    clearTimeout(this.#timer);
    if (this.joiner.holding) this.#timer = setTimeout(() => this.flush(), 100);
  }
}

export class Shipper {
  readonly queue: BatchQueue;
  readonly sender: Sender;
  readonly stats = { read: 0 };
  #records: string[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #sealing: Promise<void> = Promise.resolve();
  /** Files mode: where each file stands, and every batch goes to disk first. */
  offsetsNow: (() => Offsets) | undefined;

  constructor(readonly opts: ShipOptions) {
    this.queue = new BatchQueue({ dir: opts.spoolDir, memoryBytes: opts.memoryBytes, spoolMaxBytes: opts.spoolMaxBytes });
    this.sender = new Sender(this.queue, {
      url: opts.url,
      token: opts.token,
      requestTimeoutMs: 30_000,
      minBackoffMs: 250,
      maxBackoffMs: 30_000,
      log: opts.log,
    });
  }

  start(): void {
    this.sender.start();
  }

  add(line: Line, from: Stream): void {
    const rec = toRecord(line, readTime(), from.name, this.opts.record, from.file);
    this.#records.push(rec);
    this.#bytes += rec.length + 1;
    if (this.#records.length >= this.opts.batchLines || this.#bytes >= this.opts.batchBytes) this.seal();
    else this.#timer ??= setTimeout(() => this.seal(), this.opts.batchAgeMs);
  }

  /** Closes the open batch; batches keep their order through compression. */
  seal(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const drop = this.queue.takeDropNotice();
    if (drop) this.#records.push(this.#dropRecord(drop));
    if (this.#records.length === 0) return;
    const records = this.#records;
    this.#records = [];
    this.#bytes = 0;
    const offsets = this.offsetsNow?.();
    const seq = this.queue.nextSeq();
    this.#sealing = this.#sealing.then(async () => {
      // The fastest level: logs still shrink several times, for a fraction
      // of the default level's CPU.
      const body = await gzip(records.join('\n') + '\n', { level: 1 });
      const batch: Batch = { seq, id: randomUUID(), lines: records.length, body, file: undefined, bytes: body.length, offsets };
      this.queue.add(batch, offsets !== undefined || !this.sender.healthy);
    }).catch((e: unknown) => this.opts.log(`could not queue a batch: ${(e as Error).message}`));
  }

  #dropRecord(d: { lines: number; batches: number; first: string; last: string }): string {
    this.opts.log(`spool full: dropped ${d.lines} lines (${d.batches} batches) between ${d.first} and ${d.last}`);
    return JSON.stringify({
      msg: `sluice ship dropped ${d.lines} lines: the spool was full (${d.batches} batches lost between ${d.first} and ${d.last})`,
      level: 'warn',
      time: new Date().toISOString(),
      ...(this.opts.record.service ? { service: this.opts.record.service } : {}),
      host: this.opts.record.host,
      'sluice.dropped_lines': d.lines,
      'sluice.dropped_from': d.first,
      'sluice.dropped_to': d.last,
    });
  }

  /**
   * EOF or a signal: seal what is open, give the sender until the deadline
   * to empty the queue, then move whatever is left to the spool for the
   * next run.
   */
  async finish(): Promise<void> {
    this.seal();
    await this.#sealing;
    const deadline = Date.now() + this.opts.flushTimeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // Spill first: waiting for a hung request must not cost the batches.
    if (this.queue.length > 0) this.queue.spillAll();
    await this.sender.stop();
    if (this.queue.length > 0) {
      this.opts.log(`flush timeout: ${this.queue.pendingLines} lines stay in the spool ${this.opts.spoolDir} for the next run`);
    }
  }

  summary(): string {
    const s = this.sender.stats;
    return `sluice ship: read ${this.stats.read} lines, sent ${s.sent}, spooled ${this.queue.spooledLines}, dropped ${this.queue.droppedLines}, rejected ${s.rejected}, retries ${s.retries}, waiting ${this.queue.pendingLines}`;
  }
}

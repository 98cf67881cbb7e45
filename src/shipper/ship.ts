// `sluice ship`: reads an app's output (stdin, a wrapped child, or files),
// passes it through unchanged, and carries it to the server in batches that
// are never lost while the spool has room.
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { LineSplitter, type Line, MultilineJoiner } from './lines.js';
import { BatchQueue, type Batch } from './queue.js';
import { type RecordContext, timeText, toRecord } from './record.js';
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

// The line meta goes in a request header: a batch is sealed before its
// runs could pass a few kilobytes (servers take 16 KiB of headers).
const MAX_RUNS = 400;
const MAX_TAG_CHARS = 4096;

/**
 * The batch being filled: its lines as they go on the wire (text/plain),
 * and the runs of lines read in the same millisecond from the same stream
 * or file, which become its X-Sluice-Line-Meta (see src/ingest/line-meta.ts).
 */
class OpenBatch {
  readonly lines: string[] = [];
  bytes = 0;
  readonly #runs: Array<[number, number, number, number]> = [];
  readonly #tags: Array<Record<string, string>> = [];
  readonly #tagOf = new Map<Stream, number>();
  #tagChars = 0;
  #t0 = 0;
  #runMs = -1;
  #runFrom: Stream | undefined;

  /**
   * Places the next line, read at `ms` as the `sub`th line of that
   * millisecond, in a run: a new run starts when the millisecond or the
   * source changes. The server gives a line without a time of its own the
   * run's millisecond plus its `sub` in nanoseconds, as `timeText` does.
   */
  place(ms: number, sub: number, from: Stream | undefined): void {
    const run = this.#runs[this.#runs.length - 1];
    if (run !== undefined && ms === this.#runMs && from === this.#runFrom && sub === run[3] + this.lines.length - run[0]) return;
    if (run === undefined) this.#t0 = ms;
    this.#runs.push([this.lines.length, ms - this.#t0, this.#tag(from), sub]);
    this.#runMs = ms;
    this.#runFrom = from;
  }

  append(text: string): void {
    this.lines.push(text);
    this.bytes += text.length + 1;
  }

  get full(): boolean {
    return this.#runs.length >= MAX_RUNS || this.#tagChars >= MAX_TAG_CHARS;
  }

  #tag(from: Stream | undefined): number {
    if (from === undefined || (from.name === undefined && from.file === undefined)) return -1;
    let i = this.#tagOf.get(from);
    if (i === undefined) {
      const tag: Record<string, string> = from.file !== undefined ? { file: from.file } : { stream: from.name! };
      i = this.#tags.push(tag) - 1;
      this.#tagOf.set(from, i);
      this.#tagChars += (from.file ?? '').length + 16;
    }
    return i;
  }

  meta(ctx: RecordContext): string {
    const m = {
      v: 1,
      t0: this.#t0,
      runs: this.#runs,
      ...(this.#tags.length > 0 ? { tags: this.#tags } : {}),
      ...(Object.keys(ctx.attrs).length > 0 ? { attrs: ctx.attrs } : {}),
      ...(ctx.service !== undefined ? { service: ctx.service } : {}),
      host: ctx.host,
    };
    // Header values are bytes: anything past ASCII goes as a JSON escape.
    return JSON.stringify(m).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
}

export class Shipper {
  readonly queue: BatchQueue;
  readonly sender: Sender;
  readonly stats = { read: 0 };
  #open = new OpenBatch();
  #lastMs = -1;
  #sub = 0;
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
    const open = this.#open;
    const [ms, sub] = this.#tick();
    // A line the server reads as the shipper would goes as it was read;
    // the rest (cut, mended, joined or blank) go as JSON records that say so.
    const t = line.text;
    const asRead = !line.truncated && !line.invalidUtf8 && !line.joined && t.length > 0 && (t.charCodeAt(0) > 0x20 || t.trim().length > 0);
    open.place(ms, sub, from);
    open.append(asRead ? t : toRecord(line, timeText(ms, sub), from.name, this.opts.record, from.file));
    if (open.lines.length >= this.opts.batchLines || open.bytes >= this.opts.batchBytes || open.full) this.seal();
    else this.#timer ??= setTimeout(() => this.seal(), this.opts.batchAgeMs);
  }

  /**
   * The read time of the next line: the millisecond (never before the last
   * line's, so order survives a clock stepping back) and its place among the
   * lines read in that millisecond.
   */
  #tick(): [number, number] {
    const now = Date.now();
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#sub = 0;
    } else if (++this.#sub > 999_999) {
      this.#lastMs++;
      this.#sub = 0;
    }
    return [this.#lastMs, this.#sub];
  }

  /** Closes the open batch; batches keep their order through compression. */
  seal(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const drop = this.queue.takeDropNotice();
    if (drop) {
      const [ms, sub] = this.#tick();
      this.#open.place(ms, sub, undefined);
      this.#open.append(this.#dropRecord(drop));
    }
    if (this.#open.lines.length === 0) return;
    const open = this.#open;
    this.#open = new OpenBatch();
    const offsets = this.offsetsNow?.();
    const seq = this.queue.nextSeq();
    const meta = open.meta(this.opts.record);
    this.#sealing = this.#sealing.then(async () => {
      // The fastest level: logs still shrink several times, for a fraction
      // of the default level's CPU.
      const body = await gzip(open.lines.join('\n') + '\n', { level: 1 });
      const batch: Batch = { seq, id: randomUUID(), lines: open.lines.length, body, file: undefined, bytes: body.length, offsets, meta };
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

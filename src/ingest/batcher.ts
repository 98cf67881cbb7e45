// Coalesces ingest requests into large inserts and tells each request when
// the insert holding its events has succeeded (the ack contract).
//
// - Requests without an idempotency key join the open batch; it is closed at
//   `maxRows`, and starts when an insert slot is free (group commit: while
//   one insert runs the next batch fills up, so no request waits on a timer
//   when the store is idle). With several slots a small batch waits up to
//   `maxWaitMs` for company while another insert is running.
// - A request with a key is its own insert with the key as dedup token, so a
//   retry is recognised by the store however other traffic was batched.
// - Bound: queued + inserting bytes never exceed `budgetBytes`; past it
//   `submit` refuses with SLUICE_ERR_OVERLOADED (503 + Retry-After) and the
//   client retries. Nothing grows without bound.
import { SluiceError } from '../errors.js';
import { systemClock, type Clock } from '../model/clock.js';

export interface InsertSink {
  insert(body: Buffer, dedupToken: string | undefined): Promise<void>;
}

export interface BatcherOptions {
  readonly maxRows: number;
  readonly maxWaitMs: number;
  readonly budgetBytes: number;
  readonly concurrency: number;
}

export interface BatcherObserver {
  onInsert?(rows: number, bytes: number, seconds: number, ok: boolean): void;
  onBytes?(bytes: number): void;
}

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

/** Requests on their way to the batcher: received, and waiting for their turn to be decoded (src/ingest/turns.ts). */
export interface Arrivals {
  /** Requests received so far. */
  readonly asked: number;
  /** Of those, how many have been decoded (handed their rows over, or had none). */
  readonly granted: number;
}

interface Job {
  chunks: Buffer[];
  bytes: number;
  rows: number;
  waiters: Waiter[];
  key: string | undefined;
  open: boolean;
  createdAt: number;
  /** Arrivals.asked when the insert could first have started: it waits for those requests. */
  until: number | undefined;
}

export class Batcher {
  readonly #sink: InsertSink;
  readonly #opts: BatcherOptions;
  readonly #observer: BatcherObserver;
  readonly #queue: Job[] = [];
  #inFlight = 0;
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #due = 0;
  #draining = false;
  #idle: Array<() => void> = [];

  readonly #clock: Clock;
  readonly #arrivals: Arrivals;

  /**
   * A batch whose insert could start waits, up to `maxWaitMs`, for the
   * requests already received at that moment to be decoded (`arrivals`),
   * and not for those that arrive after it: they join the next one.
   */
  constructor(sink: InsertSink, opts: BatcherOptions, observer: BatcherObserver = {}, clock: Clock = systemClock, arrivals: Arrivals = { asked: 0, granted: 0 }) {
    this.#clock = clock;
    this.#arrivals = arrivals;
    this.#sink = sink;
    this.#opts = opts;
    this.#observer = observer;
  }

  /** Bytes queued or being inserted. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Queues rows (JSONEachRow bytes) and resolves once they are stored.
   * Throws SLUICE_ERR_OVERLOADED at once when the byte budget is spent.
   */
  submit(body: Buffer, rows: number, dedupToken?: string): Promise<void> {
    if (rows === 0) return Promise.resolve();
    // A body bigger than the whole budget may still go alone into an empty
    // batcher; otherwise it could never be taken.
    if (this.#bytes > 0 && this.#bytes + body.length > this.#opts.budgetBytes) {
      return Promise.reject(new SluiceError('SLUICE_ERR_OVERLOADED', undefined, { retryAfter: 1 }));
    }
    this.#addBytes(body.length);
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      const tail = this.#queue.at(-1);
      if (dedupToken === undefined && tail?.open && tail.rows + rows <= this.#opts.maxRows) {
        tail.chunks.push(body);
        tail.bytes += body.length;
        tail.rows += rows;
        tail.waiters.push(waiter);
        if (tail.rows >= this.#opts.maxRows) tail.open = false;
      } else {
        if (tail) tail.open = false;
        this.#queue.push({
          chunks: [body],
          bytes: body.length,
          rows,
          waiters: [waiter],
          key: dedupToken,
          open: dedupToken === undefined && rows < this.#opts.maxRows,
          createdAt: this.#clock.nowMs(),
          until: undefined,
        });
      }
      this.#pump();
    });
  }

  /** Inserts everything queued and resolves when nothing is left in flight. */
  drain(): Promise<void> {
    this.#draining = true;
    this.#pump();
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #addBytes(n: number): void {
    this.#bytes += n;
    this.#observer.onBytes?.(this.#bytes);
  }

  #ready(job: Job, now: number): boolean {
    if (this.#draining || !job.open || now - job.createdAt >= this.#opts.maxWaitMs) return true;
    if (this.#inFlight > 0) return false;
    job.until ??= this.#arrivals.asked;
    return this.#arrivals.granted >= job.until;
  }

  #pump(): void {
    const now = this.#clock.nowMs();
    while (this.#inFlight < this.#opts.concurrency && this.#queue.length > 0) {
      const job = this.#queue[0]!;
      if (!this.#ready(job, now)) {
        // Waiting on arrivals, look again soon: the last of them may store
        // nothing (every line refused) and so never submit.
        const waitingOnArrivals = this.#inFlight === 0 && job.until !== undefined;
        this.#arm(waitingOnArrivals ? 1 : job.createdAt + this.#opts.maxWaitMs - now);
        return;
      }
      this.#queue.shift();
      job.open = false;
      void this.#run(job);
    }
    if (this.#queue.length === 0 && this.#inFlight === 0) {
      for (const f of this.#idle.splice(0)) f();
    }
  }

  #arm(ms: number): void {
    const due = this.#clock.nowMs() + Math.max(0, ms);
    if (this.#timer !== undefined) {
      if (this.#due <= due) return;
      clearTimeout(this.#timer);
    }
    this.#due = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, Math.max(0, ms));
  }

  async #run(job: Job): Promise<void> {
    this.#inFlight++;
    const body = job.chunks.length === 1 ? job.chunks[0]! : Buffer.concat(job.chunks, job.bytes);
    const started = process.hrtime.bigint();
    let ok = false;
    try {
      await this.#sink.insert(body, job.key);
      ok = true;
      for (const w of job.waiters) w.resolve();
    } catch (e) {
      const err = new SluiceError('SLUICE_ERR_STORE_UNAVAILABLE', undefined, { retryAfter: 1, cause: e });
      for (const w of job.waiters) w.reject(err);
    } finally {
      this.#inFlight--;
      this.#addBytes(-job.bytes);
      this.#observer.onInsert?.(job.rows, job.bytes, Number(process.hrtime.bigint() - started) / 1e9, ok);
      this.#pump();
    }
  }
}

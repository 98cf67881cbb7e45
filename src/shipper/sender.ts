// Sends the queue's batches in order, one at a time, each with its batch id
// as Idempotency-Key so a retry is stored once. Retries network errors, 5xx,
// 429 and auth refusals with exponential backoff and jitter, honouring
// Retry-After; a batch the server refuses as bad input (400, 413, 415) is
// dropped and counted rather than retried forever.
import type { Batch, BatchQueue } from './queue.js';

export interface SenderOptions {
  readonly url: string;
  readonly token: string;
  readonly requestTimeoutMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly log: (msg: string) => void;
}

export interface SenderStats {
  sent: number;
  rejected: number;
  retries: number;
  requests: number;
}

const PERMANENT = new Set([400, 413, 415, 422]);

export class Sender {
  readonly stats: SenderStats = { sent: 0, rejected: 0, retries: 0, requests: 0 };
  /** False while the server is not taking batches: new ones then go to disk. */
  healthy = true;
  /** Called after a batch is delivered (files mode commits offsets). */
  onDelivered: (b: Batch) => void = () => undefined;
  #stopped = false;
  #wake: (() => void) | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly queue: BatchQueue,
    private readonly opts: SenderOptions,
  ) {}

  start(): void {
    // Node loads fetch's implementation (undici) on first use, blocking the
    // event loop for 40-70 ms (seen in a profile as a pass-through stall at
    // the first batch): load it now, before any line arrives. Reading the
    // lazy Headers global loads the same module fetch then uses.
    void globalThis.Headers;
    // Its first request also runs cold code (~10 ms): make that one a
    // health check now, which opens the keep-alive connection too.
    void fetch(`${this.opts.url}/healthz`, { signal: AbortSignal.timeout(this.opts.requestTimeoutMs) })
      .then((res) => res.arrayBuffer())
      .catch(() => undefined);
    this.#running = this.#loop();
  }

  /** Stops after the current attempt; batches not sent stay queued. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#running;
  }

  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.#wake = undefined;
  }

  async #loop(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      const batch = this.queue.head();
      if (!batch) {
        await Promise.race([this.queue.wait(), new Promise<void>((r) => (this.#wake = r))]);
        this.#wake = undefined;
        continue;
      }
      this.queue.sending = batch;
      const outcome = await this.#send(batch).finally(() => (this.queue.sending = undefined));
      if (outcome.kind === 'ok' || outcome.kind === 'refused') {
        failures = 0;
        this.healthy = true;
        this.queue.done(batch);
        if (outcome.kind === 'ok') {
          this.stats.sent += batch.lines - outcome.rejected;
          this.stats.rejected += outcome.rejected;
          this.onDelivered(batch);
        } else {
          this.stats.rejected += batch.lines;
          this.opts.log(`the server refused batch ${batch.id} (${batch.lines} lines) for good: ${outcome.detail}`);
        }
        continue;
      }
      failures++;
      this.stats.retries++;
      if (this.healthy) this.opts.log(`cannot deliver (${outcome.detail}); keeping batches and retrying`);
      this.healthy = false;
      this.queue.spillAll();
      const backoff = Math.min(this.opts.maxBackoffMs, this.opts.minBackoffMs * 2 ** Math.min(failures - 1, 16));
      const wait = Math.max(outcome.retryAfterMs ?? 0, backoff / 2 + Math.random() * (backoff / 2));
      await this.#sleep(wait);
    }
  }

  async #send(b: Batch): Promise<{ kind: 'ok'; rejected: number } | { kind: 'refused'; detail: string } | { kind: 'retry'; detail: string; retryAfterMs?: number }> {
    this.stats.requests++;
    let body: Buffer;
    try {
      body = this.queue.body(b);
    } catch (e) {
      // Its spool file is gone (a tmp cleaner): nothing left to send.
      return { kind: 'refused', detail: `spool file unreadable: ${(e as Error).message}` };
    }
    try {
      const res = await fetch(`${this.opts.url}/api/v1/ingest`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.opts.token}`,
          ...(b.meta !== undefined ? { 'content-type': 'text/plain; charset=utf-8', 'x-sluice-line-meta': b.meta } : { 'content-type': 'application/x-ndjson' }),
          'content-encoding': 'gzip',
          'idempotency-key': b.id,
        },
        body,
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs),
      });
      const text = await res.text();
      if (res.ok) {
        const rejected = Number((JSON.parse(text || '{}') as { rejected?: number }).rejected ?? 0);
        return { kind: 'ok', rejected };
      }
      if (PERMANENT.has(res.status)) return { kind: 'refused', detail: `${res.status} ${text.slice(0, 200)}` };
      const ra = Number(res.headers.get('retry-after'));
      return { kind: 'retry', detail: `${res.status} ${text.slice(0, 120)}`, ...(Number.isFinite(ra) && ra > 0 ? { retryAfterMs: ra * 1000 } : {}) };
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      return { kind: 'retry', detail: err.cause?.code ?? err.message };
    }
  }
}

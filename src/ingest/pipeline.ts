// The one ingest path every drain feeds. A drain turns its wire format into
// events and per-item rejections (`Decoded`); the pipeline alone stamps the
// normalize context, applies the limits and the per-token rate limit,
// batches and inserts, answers when the insert holding the events succeeded
// (the ack contract), and then announces what it stored. It imports none of
// its listeners: tail, metrics and anything else subscribe in src/app.ts.
import { createHash } from 'node:crypto';
import type { Principal } from '../auth/tokens.js';
import type { Config } from '../config.js';
import { type ErrorCode, SluiceError } from '../errors.js';
import type { Clock } from '../model/clock.js';
import type { LogEvent } from '../model/event.js';
import { parseDurationNs } from '../model/time.js';
import { eventRows } from '../store/rows.js';
import type { Batcher } from './batcher.js';
import type { NormalizeContext } from './normalize.js';
import type { RateLimiter } from './rate-limit.js';

/** An item of a request that could not become an event. */
export interface Rejection {
  /** 0-based position of the item in what the sender sent (line, frame, record). */
  readonly index: number;
  readonly code: ErrorCode;
  readonly message: string;
}

/** What every drain's decoder gives the pipeline: one shape for all of them. */
export interface Decoded {
  readonly events: LogEvent[];
  readonly rejections: readonly Rejection[];
  /** Items seen, valid and invalid. */
  readonly records: number;
}

/** Events the store has taken, as listeners receive them. */
export interface StoredEvents {
  /** How many. */
  readonly count: number;
  /**
   * The events themselves, when a listener wanted them as they were sent
   * to the store (see onStored); otherwise undefined.
   */
  readonly events: readonly LogEvent[] | undefined;
  /** The rows stored (eventRows: src/store/rows.ts), always: rowsToJson reads them back. */
  readonly rows: Buffer;
  /** Name of the token that sent them (the `source` column). */
  readonly source: string;
}

interface StoredListener {
  readonly fn: (s: StoredEvents) => void;
  readonly wantsEvents: () => boolean;
}

/** Keeps the rollup job from counting past events that are not stored yet (src/store/rollup.ts). */
export interface Watermark {
  hold(receivedNs: bigint): () => void;
}

export interface PipelineDeps {
  readonly config: Pick<Config, 'limits' | 'retentionDays' | 'batch'>;
  readonly clock: Clock;
  readonly batcher: Batcher;
  readonly rateLimiter: RateLimiter;
  readonly disk: { readonly low: boolean };
  readonly watermark: Watermark;
  /** Id of this process, written with every row. */
  readonly writerId: string;
}

/** How a stream source (syslog) keeps offering events the store refuses for now. */
export interface Persist {
  /** Called before each wait (TCP pauses reading). */
  onBlocked?(): void;
  /** True once the process wants the source to give up (shutdown). */
  givingUp(): boolean;
}

export type Outcome = { readonly stored: true } | { readonly stored: false; readonly reason: 'shutdown' | 'error'; readonly error: unknown };

const DAY_NS = parseDurationNs('1d')!;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** The code to answer when no item was valid: the one shared cause names itself, a mix is NO_VALID_EVENTS. */
export function commonCode(rejections: readonly Rejection[]): ErrorCode {
  const first = rejections[0]?.code;
  if (first === undefined || rejections.some((r) => r.code !== first)) return 'SLUICE_ERR_NO_VALID_EVENTS';
  return first;
}

/** True for a key a client may send as Idempotency-Key (or Logplex-Frame-Id). */
export function isIdempotencyKey(key: string): boolean {
  return IDEMPOTENCY_KEY.test(key);
}

/** Checks an Idempotency-Key and turns it into a dedup token scoped to the sender. */
export function dedupToken(principal: Principal, key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (!isIdempotencyKey(key)) throw new SluiceError('SLUICE_ERR_INVALID_IDEMPOTENCY_KEY');
  // Hashing scopes the key to the token that sent it (two senders may pick
  // the same key) and leaves only hex for the statement's SETTINGS clause.
  return createHash('sha256').update(principal.name).update('\n').update(key).digest('hex');
}

export class IngestPipeline {
  readonly #deps: PipelineDeps;
  readonly #stored = new Set<StoredListener>();
  readonly #rejected = new Set<(code: ErrorCode, n: number) => void>();

  constructor(deps: PipelineDeps) {
    this.#deps = deps;
  }

  get limits(): Config['limits'] {
    return this.#deps.config.limits;
  }

  /**
   * Listens for events once they are stored; returns the unsubscribe.
   * `wantsEvents` is asked as events go to the store: only when a listener
   * says yes are they kept until the insert ends and announced with them.
   * Otherwise the pipeline lets go of them once their rows are built: kept
   * through the insert's wait, every young-generation collection copied
   * them, and they were most of what serve's garbage collector did (#17).
   */
  onStored(fn: (s: StoredEvents) => void, wantsEvents: () => boolean = () => false): () => void {
    const listener = { fn, wantsEvents };
    this.#stored.add(listener);
    return () => this.#stored.delete(listener);
  }

  /** Listens for items refused (decode errors, limits); returns the unsubscribe. */
  onRejected(fn: (code: ErrorCode, n: number) => void): () => void {
    this.#rejected.add(fn);
    return () => this.#rejected.delete(fn);
  }

  /** Announces refused items (a drain's decoder found them). */
  reject(rejections: readonly Rejection[]): void {
    for (const r of rejections) for (const fn of this.#rejected) fn(r.code, 1);
  }

  /** Holds the rollup and alert counts before `receivedNs` until the result is called (events stamped but not yet stored). */
  hold(receivedNs: bigint): () => void {
    return this.#deps.watermark.hold(receivedNs);
  }

  /** What normalizing one request's events needs: its received time, defaults and the time clamps. */
  context(defaults: { service?: string | undefined; host?: string | undefined } = {}): NormalizeContext {
    const receivedNs = this.#deps.clock.nowNs();
    const { config } = this.#deps;
    return {
      receivedNs,
      defaultService: defaults.service || 'unknown',
      defaultHost: defaults.host || '',
      maxAttributes: config.limits.maxAttributes,
      // An hour of slack keeps events away from the TTL's edge.
      oldestNs: receivedNs - BigInt(config.retentionDays) * DAY_NS + DAY_NS / 24n,
      newestNs: receivedNs + DAY_NS,
    };
  }

  /**
   * Refuses new writes while free disk is low or the batcher is full. Drains
   * call it before the body is read (a full batcher must not also fill
   * memory with bodies waiting to be refused); a stopping process refuses
   * requests in app.ts's onRequest hook.
   */
  checkWritable(): void {
    if (this.#deps.disk.low) throw new SluiceError('SLUICE_ERR_DISK_FULL', undefined, { retryAfter: 30 });
    if (this.#deps.batcher.bytes >= this.#deps.config.batch.budgetBytes) throw new SluiceError('SLUICE_ERR_OVERLOADED', undefined, { retryAfter: 1 });
  }

  /**
   * Stores events; resolves once they are in the store, then announces
   * them. Not an async function, so that its frame does not hold `events`
   * through the insert (onStored says why).
   */
  store(principal: Principal, events: readonly LogEvent[], key?: string): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    let token: string | undefined;
    try {
      token = dedupToken(principal, key);
      this.#admit(principal.name, events.length);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    let oldest = events[0]!.receivedNs;
    for (const e of events) if (e.receivedNs < oldest) oldest = e.receivedNs;
    // Until the insert is done, the rollup job must not count past these
    // events' received time (they would be visible too late to be counted).
    return this.#holding(oldest, () => this.#submit(this.#prepare(principal, events), token));
  }

  /**
   * For sources that cannot ask the sender to resend (syslog): every refusal
   * the pipeline raises is temporary (overloaded, rate limited, store
   * unavailable, disk low), so wait and retry with backoff up to 1 s until
   * stored or told to give up. The watermark is held across all the groups
   * and retries: the events keep their received time however long the
   * store takes. Resolves with what became of each group, in order.
   *
   * Not an async function: each group's rows are built at once and its
   * events let go (unless a listener wants them), so retries resend the
   * rows and nothing holds the events through the waits (onStored).
   */
  persist(groups: ReadonlyArray<{ principal: Principal; events: readonly LogEvent[] }>, how: Persist): Promise<Outcome[]> {
    let oldest: bigint | undefined;
    for (const g of groups) for (const e of g.events) if (oldest === undefined || e.receivedNs < oldest) oldest = e.receivedNs;
    if (oldest === undefined) return Promise.resolve(groups.map(() => ({ stored: true })));
    return this.#holding(oldest, () => this.#persistAll(groups.map((g) => (g.events.length === 0 ? undefined : this.#prepare(g.principal, g.events))), how));
  }

  /** Holds the rollup's watermark at `oldest` until `run`'s promise settles (at once if `run` throws). */
  #holding<T>(oldest: bigint, run: () => Promise<T>): Promise<T> {
    const release = this.#deps.watermark.hold(oldest);
    try {
      return run().finally(release);
    } catch (e) {
      release();
      return Promise.reject(e as Error);
    }
  }

  async #persistAll(prepared: ReadonlyArray<Prepared | undefined>, how: Persist): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const p of prepared) outcomes.push(p === undefined ? { stored: true } : await this.#persistOne(p, how));
    return outcomes;
  }

  async #persistOne(p: Prepared, how: Persist): Promise<Outcome> {
    let delay = 25;
    for (;;) {
      try {
        this.checkWritable();
        this.#admit(p.stored.source, p.stored.count);
        await this.#submit(p, undefined);
        return { stored: true };
      } catch (e) {
        if (!(e instanceof SluiceError) || e.statusCode < 429 || e.statusCode === 500) return { stored: false, reason: 'error', error: e };
        if (how.givingUp()) return { stored: false, reason: 'shutdown', error: e };
        how.onBlocked?.();
        await sleep(Math.min(delay, (e.retryAfter ?? 1) * 1000));
        delay = Math.min(delay * 2, 1000);
      }
    }
  }

  /** Throws SLUICE_ERR_RATE_LIMITED when the sender's token (`source`, its name) has no room for `count` events now. */
  #admit(source: string, count: number): void {
    const { rateLimiter, clock } = this.#deps;
    const wait = rateLimiter.take(source, count, clock.nowMs());
    if (wait > 0) throw new SluiceError('SLUICE_ERR_RATE_LIMITED', undefined, { retryAfter: wait });
  }

  /**
   * The rows of the events, and what the listeners will be told. The events
   * are kept only when a listener wants them: the batcher holds the rows
   * until the insert ends anyway, off the JavaScript heap.
   */
  #prepare(principal: Principal, events: readonly LogEvent[]): Prepared {
    let wanted = false;
    for (const l of this.#stored) wanted ||= l.wantsEvents();
    const rows = eventRows(events, principal.name, this.#deps.writerId);
    return { rows, stored: { count: events.length, events: wanted ? events : undefined, rows, source: principal.name } };
  }

  #submit(p: Prepared, token: string | undefined): Promise<void> {
    return this.#deps.batcher.submit(p.rows, p.stored.count, token).then(() => {
      // Only now, after the insert succeeded: a listener (the live tail)
      // never sees an event that was then lost.
      for (const l of this.#stored) l.fn(p.stored);
    });
  }
}

/** A group's rows, built once however often the store is asked to take them. */
interface Prepared {
  readonly rows: Buffer;
  readonly stored: StoredEvents;
}

// Fills the per-minute rollups — logs_per_minute (event minute, for trends)
// and logs_received_per_minute (received minute, for alert windows) — off
// the insert path. Materialized views did it before, and added a part per
// rollup table to every insert: the insert took twice as long, and every
// ingest acknowledgement and live-tail event waits for it (#6).
//
// The rollups hold every event received before a watermark W (sluice_meta
// `rollup_watermark`, nanoseconds); readers add the raw events received at
// or after W, so an answer is exact whatever W is. The job counts events by
// received time in chunks on a fixed grid and inserts each chunk's counts
// with a dedup token made from the chunk's range, then moves W: a chunk
// inserted again (a crash before W moved, two processes on one server
// racing) is stored once.
//
// An event is stored some time after its received time (a request queued in
// the batcher, syslog waiting for a busy store). W never passes the received
// time of an event this process still holds (`hold`). Events held by other
// processes of a shared server are covered by a lag instead.
import type { FastifyBaseLogger } from 'fastify';
import { systemClock, type Clock } from '../model/clock.js';
import { formatClickHouse } from '../model/time.js';
import { readMeta, writeMeta } from './meta.js';
import type { Store } from './store.js';

export const WATERMARK_KEY = 'rollup_watermark';
const MS = 1_000_000n;
/** Most chunks one commit inserts (two small inserts each, ~15 ms apiece embedded). */
const COMMIT_CHUNKS = 16;

export interface RollupOptions {
  /** Chunk grid; also how often the job runs. */
  readonly gridMs: number;
  /** How far behind now W stays, for events other processes hold. */
  readonly lagMs: number;
  /** Most chunks one run counts, so a run's answer stays small. */
  readonly maxChunks: number;
}

export function rollupOptions(store: Store): RollupOptions {
  // Small, frequent runs: one run's count is a burst of engine work beside
  // the inserts every acknowledgement waits for, and a burst over 10 s of
  // events showed in the live-tail p99 (bench/tail). One embedded process
  // sees every event it holds; processes sharing a server see only their
  // own, so W trails by ten seconds there.
  return { gridMs: 2_000, lagMs: store.embedded ? 0 : 10_000, maxChunks: 1800 };
}

type CountRow = [chunk: number, eventMinute: number, receivedMinute: number, service: string, level: string, n: number, atStart: number];

/** Per rollup row (minute, service, level as a JSON key): events, and those on the minute's first nanosecond. */
type Counts = Map<string, { count: number; atStart: number }>;

interface ChunkCounts {
  readonly byEvent: Counts;
  readonly byReceived: Counts;
}

export class Rollup {
  readonly #store: Store;
  readonly #log: FastifyBaseLogger;
  readonly #opts: RollupOptions;
  readonly #gridNs: bigint;
  readonly #held = new Map<bigint, number>();
  #w: bigint | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  // Readers of a rollup plus the raw rest hold W fixed while they read: W
  // moving between their two reads would count a chunk twice.
  #readers = 0;
  #readersDone: Array<() => void> = [];
  #committing: Promise<void> | undefined;
  /** Called with W after it moves (a metric). */
  onAdvance: ((w: bigint) => void) | undefined;

  readonly #clock: Clock;

  constructor(store: Store, log: FastifyBaseLogger, opts: RollupOptions = rollupOptions(store), clock: Clock = systemClock) {
    this.#clock = clock;
    this.#store = store;
    this.#log = log;
    this.#opts = opts;
    this.#gridNs = BigInt(opts.gridMs) * MS;
  }

  /** Marks an event received at `receivedNs` as not yet stored; call the result once it is stored or given up. */
  hold(receivedNs: bigint): () => void {
    this.#held.set(receivedNs, (this.#held.get(receivedNs) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = this.#held.get(receivedNs)! - 1;
      if (n === 0) this.#held.delete(receivedNs);
      else this.#held.set(receivedNs, n);
    };
  }

  /**
   * The latest received time at or before `nowNs` by which every event
   * this store will hold is visible: before the oldest received time this
   * process still holds, and on a shared server `lagMs` behind now.
   */
  settledNs(nowNs: bigint): bigint {
    let limit = nowNs - BigInt(this.#opts.lagMs) * MS;
    for (const held of this.#held.keys()) if (held - 1n < limit) limit = held - 1n;
    return limit;
  }

  async start(): Promise<void> {
    await this.#load();
    this.onAdvance?.(this.#w!);
    const tick = () => {
      this.#timer = setTimeout(() => {
        void this.run()
          .catch((err: unknown) => this.#log.warn({ err }, 'rollup: counting failed; will retry'))
          .finally(() => this.#timer !== undefined && tick());
      }, this.#opts.gridMs);
      this.#timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /** W as readers must use it: on a shared server another process may have moved it. */
  async watermark(): Promise<bigint> {
    if (this.#w === undefined || !this.#store.embedded) await this.#load();
    return this.#w!;
  }

  /** Runs `read` with W, which does not move (in this process) until it finishes. */
  async reading<T>(read: (w: bigint) => Promise<T>): Promise<T> {
    while (this.#committing) await this.#committing;
    this.#readers++;
    try {
      return await read(await this.watermark());
    } finally {
      if (--this.#readers === 0) for (const f of this.#readersDone.splice(0)) f();
    }
  }

  /**
   * Counts the chunks that are due and moves W. `throughNs` replaces now
   * (tests): only when nothing more will be received before it.
   */
  run(throughNs?: bigint): Promise<number> {
    // One run at a time; a caller during a run waits for it and runs again.
    const prev = this.#running ?? Promise.resolve(0);
    const next = prev.catch(() => 0).then(() => this.#run(throughNs));
    this.#running = next;
    void next.finally(() => this.#running === next && (this.#running = undefined)).catch(() => undefined);
    return next;
  }

  async #load(): Promise<void> {
    const text = await readMeta(this.#store, WATERMARK_KEY);
    // Migration 0006 writes it; serve refuses an older schema.
    if (text === undefined || !/^\d+$/.test(text)) throw new Error(`sluice_meta has no ${WATERMARK_KEY}: run \`sluice migrate\``);
    const w = BigInt(text);
    if (this.#w === undefined || w > this.#w) this.#w = w;
  }

  #floor(ns: bigint): bigint {
    return (ns / this.#gridNs) * this.#gridNs;
  }

  async #run(throughNs: bigint | undefined): Promise<number> {
    if (this.#w === undefined || !this.#store.embedded) await this.#load();
    const from = this.#w!;
    let limit = throughNs ?? this.#clock.nowNs() - BigInt(this.#opts.lagMs) * MS;
    for (const held of this.#held.keys()) if (held < limit) limit = held;
    // Chunks end on the grid, so a chunk counted again after a crash (or by
    // another process) has the same range and the same token.
    const span = this.#floor(from + this.#gridNs * BigInt(this.#opts.maxChunks));
    let to = this.#floor(limit < span ? limit : span);
    if (to <= from) return 0;

    const chunks = [...(await this.#count(from, to))];
    // Far behind with nothing to count (a long idle stretch, a clock set
    // back): skip to the next received event instead of a run per span.
    if (chunks.length === 0 && to < this.#floor(limit)) to = await this.#nextStart(to, this.#floor(limit));
    // Readers wait while a commit inserts (W would not describe the rollup
    // otherwise), so a run that is catching up commits a few chunks at a
    // time: a run of 1800 chunks held readers for a minute (bench/loki).
    for (let i = 0; i < chunks.length || i === 0; i += COMMIT_CHUNKS) {
      const slice = chunks.slice(i, i + COMMIT_CHUNKS);
      const next = chunks[i + COMMIT_CHUNKS];
      const through = next === undefined ? to : BigInt(next[0]) * this.#gridNs;
      await this.#commit(async () => {
        for (const [k, counts] of slice) {
          const start = BigInt(k) * this.#gridNs;
          const end = start + this.#gridNs;
          const token = `rollup-${start > from ? start : from}-${end < to ? end : to}`;
          await this.#insert('logs_per_minute', counts.byEvent, token, true);
          await this.#insert('logs_received_per_minute', counts.byReceived, token, false);
        }
        await writeMeta(this.#store, WATERMARK_KEY, String(through));
        this.#w = through;
      });
      this.onAdvance?.(through);
    }
    return chunks.length;
  }

  /** The grid start of the first event received in [from, limit), or limit. */
  async #nextStart(from: bigint, limit: bigint): Promise<bigint> {
    const rs = await this.#store.background.query({
      query: [
        'SELECT toString(toUnixTimestamp64Nano(min(received_at))) AS first, count() AS n FROM logs',
        'WHERE received_at >= {from:DateTime64(9)} AND received_at < {to:DateTime64(9)}',
        'SETTINGS output_format_json_quote_64bit_integers = 0, max_threads = 1',
      ].join('\n'),
      query_params: { from: formatClickHouse(from), to: formatClickHouse(limit) },
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ first: string; n: number }>();
    return row && row.n > 0 ? this.#floor(BigInt(row.first)) : limit;
  }

  async #count(from: bigint, to: bigint): Promise<Map<number, ChunkCounts>> {
    const rs = await this.#store.background.query({
      query: [
        'SELECT intDiv(toUnixTimestamp64Nano(received_at), {grid:UInt64}) AS k,',
        'toUnixTimestamp(toStartOfMinute(time)) AS em, toUnixTimestamp(toStartOfMinute(received_at)) AS rm, service, level, count() AS n,',
        // Events at exactly a minute's start: a Loki window's edges (migration 0008).
        'countIf(toUnixTimestamp64Nano(time) % 60000000000 = 0) AS z',
        'FROM logs WHERE received_at >= {from:DateTime64(9)} AND received_at < {to:DateTime64(9)}',
        'GROUP BY k, em, rm, service, level',
        // One thread: a background count must leave the other core to inserts.
        'SETTINGS output_format_json_quote_64bit_integers = 0, max_threads = 1',
      ].join('\n'),
      query_params: { grid: this.#gridNs.toString(), from: formatClickHouse(from), to: formatClickHouse(to) },
      format: 'JSONCompact',
    });
    const rows = ((await rs.json()) as unknown as { data: CountRow[] }).data;
    const chunks = new Map<number, ChunkCounts>();
    for (const [k, em, rm, service, level, n, z] of rows) {
      let c = chunks.get(k);
      if (!c) chunks.set(k, (c = { byEvent: new Map(), byReceived: new Map() }));
      const add = (m: Counts, minute: number) => {
        const key = JSON.stringify([minute, service, level]);
        const was = m.get(key) ?? { count: 0, atStart: 0 };
        m.set(key, { count: was.count + Number(n), atStart: was.atStart + Number(z) });
      };
      add(c.byEvent, em);
      add(c.byReceived, rm);
    }
    return new Map([...chunks].sort((a, b) => a[0] - b[0]));
  }

  async #insert(table: string, counts: Counts, token: string, atStart: boolean): Promise<void> {
    let body = '';
    for (const [key, c] of counts) {
      const [minute, service, level] = JSON.parse(key) as [number, string, string];
      body += JSON.stringify(atStart ? { minute, service, level, count: c.count, at_start: c.atStart } : { minute, service, level, count: c.count }) + '\n';
    }
    await this.#store.insertRows(table, Buffer.from(body), token, 'control');
  }

  async #commit(work: () => Promise<void>): Promise<void> {
    let release!: () => void;
    this.#committing = new Promise((r) => (release = r));
    try {
      while (this.#readers > 0) await new Promise<void>((r) => this.#readersDone.push(r));
      await work();
    } finally {
      this.#committing = undefined;
      release();
    }
  }
}

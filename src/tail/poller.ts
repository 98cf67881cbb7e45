// Feeds this process's hub with events other processes stored (ClickHouse
// server deployments). Each poll rereads an overlap window by received
// time — received_at is set before an insert becomes visible, so a row can
// appear up to one insert later than its received time — and remembers the
// ids seen in that window, so each event reaches each viewer once, late and
// old-timestamped events included. Memory: the ids of the last overlap
// window of other processes' events.
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import { clickHouseToNs, formatClickHouse } from '../model/time.js';
import { EVENT_COLUMNS, type EventRow, toEventJson } from '../store/events-read.js';
import { jsonBatch } from './hub.js';
import { readRows } from '../query/read.js';

const MAX_ROWS_PER_POLL = 50_000;

export class StorePoller {
  readonly #seen = new Map<string, bigint>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly log: FastifyBaseLogger,
  ) {}

  start(): void {
    const loop = () => {
      if (this.#stopped) return;
      this.#running = this.poll()
        .then(() => undefined)
        .catch((err: unknown) => this.log.warn({ err }, 'tail poller: read failed'))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(loop, this.ctx.config.tail.pollMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One read: events other writers stored in the overlap window, not seen yet. */
  async poll(now = this.ctx.clock.nowNs()): Promise<number> {
    const fromNs = now - BigInt(this.ctx.config.tail.overlapMs) * 1_000_000n;
    for (const [id, received] of this.#seen) if (received < fromNs) this.#seen.delete(id);
    // It reads even with no viewer, so the ids of the window are known when
    // one arrives and nothing older than its subscription is sent as new.
    const rows = await readRows<EventRow>(
      this.ctx,
      [
        'SELECT', EVENT_COLUMNS, 'FROM logs',
        'WHERE received_at >= {from:DateTime64(9)} AND writer != {me:String}',
        'ORDER BY received_at, id',
        'LIMIT {max:UInt32}',
      ].join('\n'),
      { from: formatClickHouse(fromNs), me: this.ctx.writerId, max: MAX_ROWS_PER_POLL },
    );
    if (rows.length === MAX_ROWS_PER_POLL) this.log.warn({ rows: rows.length }, 'tail poller: read limit reached; viewers may miss events');
    this.ctx.metrics.tailPolls.inc();
    const fresh = rows.filter((r) => !this.#seen.has(r.event_id));
    for (const r of fresh) this.#seen.set(r.event_id, clickHouseToNs(r.event_received_at) ?? now);
    if (fresh.length > 0 && this.ctx.hub.size > 0) this.ctx.hub.publish(jsonBatch(fresh.map(toEventJson)));
    return fresh.length;
  }
}

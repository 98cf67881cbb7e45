// The live tail hub of one process: stored events go to every viewer whose
// filter matches. Each viewer's backlog is bounded: while paused or catching
// up it holds at most `bufferEvents`, and when its socket is not draining
// (more than `maxSocketBytes` unsent) new events are dropped and counted,
// then reported with a `dropped` message. A slow viewer never grows memory
// and never slows ingest.
import type { EventJson } from '../model/event.js';
import type { Matcher } from '../query/language/match.js';

export interface Outlet {
  /** Bytes queued on the socket, not yet sent. */
  readonly bufferedAmount: number;
  /** Sends one text message (a Buffer holds UTF-8 text, encoded once for many viewers). */
  send(data: string | Buffer): void;
}

export interface ViewerOptions {
  readonly bufferEvents: number;
  readonly maxSocketBytes: number;
}

export class Viewer {
  matcher: Matcher | undefined;
  paused = false;
  /** Set while a backfill runs: live events wait in the queue. */
  catchingUp = false;
  #queue: EventJson[] = [];
  #dropped = 0;
  // Ids the backfill sent, skipped when they come again live (from the
  // store poller's overlap window) until `#skipUntil`.
  #skip: ReadonlySet<string> = new Set();
  #skipUntil = 0;

  constructor(
    readonly token: string,
    private readonly out: Outlet,
    private readonly opts: ViewerOptions,
  ) {}

  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Offers newly stored events; keeps those that match. `all` is the whole
   * batch already serialized, shared by every viewer that wants all of it.
   */
  offer(events: readonly EventJson[], all?: () => Buffer): void {
    const m = this.matcher;
    if (!m) return;
    const skipping = this.#skip.size > 0 && Date.now() < this.#skipUntil;
    const matching = events.filter((e) => m(e) && !(skipping && this.#skip.has(e.id)));
    if (matching.length === 0) return;
    if (this.paused || this.catchingUp) this.#hold(matching);
    else this.#send(matching, matching.length === events.length ? all : undefined);
  }

  #hold(events: EventJson[]): void {
    const room = this.opts.bufferEvents - this.#queue.length;
    if (room < events.length) this.#dropped += events.length - Math.max(0, room);
    if (room > 0) this.#queue.push(...events.slice(0, room));
  }

  #send(events: EventJson[], serialized?: () => Buffer): void {
    if (this.out.bufferedAmount > this.opts.maxSocketBytes) {
      this.#dropped += events.length;
      return;
    }
    if (this.#dropped > 0) {
      // Reported in order: the count comes before the events after the gap.
      this.out.send(JSON.stringify({ type: 'dropped', count: this.#dropped }));
      this.#dropped = 0;
    }
    if (events.length > 0) this.out.send(serialized ? serialized() : JSON.stringify({ type: 'events', events }));
  }

  /** Sends events directly (a backfill), bypassing the filter. */
  sendBackfill(events: EventJson[]): void {
    if (events.length > 0) this.out.send(JSON.stringify({ type: 'events', events }));
  }

  /** The backfill is out: drop what it already sent, and flow unless paused. */
  finishCatchUp(sentIds: ReadonlySet<string>, skipForMs = 0): void {
    this.#queue = this.#queue.filter((e) => !sentIds.has(e.id));
    this.#skip = sentIds;
    this.#skipUntil = Date.now() + skipForMs;
    this.catchingUp = false;
    if (!this.paused) this.#flush();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (!this.catchingUp) this.#flush();
  }

  #flush(): void {
    const queued = this.#queue;
    this.#queue = [];
    this.#send(queued);
  }

  /** A new filter: whatever waited for the old one is discarded. */
  reset(matcher: Matcher): void {
    this.matcher = matcher;
    this.#queue = [];
    this.catchingUp = true;
  }
}

export class Hub {
  readonly #viewers = new Set<Viewer>();

  get size(): number {
    return this.#viewers.size;
  }

  countFor(token: string): number {
    let n = 0;
    for (const v of this.#viewers) if (v.token === token) n++;
    return n;
  }

  add(v: Viewer): void {
    this.#viewers.add(v);
  }

  remove(v: Viewer): void {
    this.#viewers.delete(v);
  }

  publish(events: readonly EventJson[]): void {
    // Serialized and encoded once, for all the viewers that take the whole
    // batch: a string would be encoded to UTF-8 again for every socket.
    let json: Buffer | undefined;
    const all = () => (json ??= Buffer.from(JSON.stringify({ type: 'events', events })));
    for (const v of this.#viewers) v.offer(events, all);
  }
}

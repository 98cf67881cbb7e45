// The events the live tail view holds: a ring of the newest KEEP events,
// the ids in it (so a reconnect's catch-up is not shown twice), and the
// queue of events not yet applied (applied once per animation frame).
import type { LogEvent } from '../api';

/** Events kept in memory; older ones leave silently (they were shown). */
export const KEEP = 20_000;

/** The events the view holds, and what it has not shown. */
export class TailStore {
  readonly #ring = new Array<LogEvent | undefined>(KEEP);
  #start = 0;
  #byId = new Map<string, LogEvent>();
  #queue: LogEvent[] = [];
  size = 0;
  /** Events that ever left the top of the ring: the list keeps its place by it. */
  removed = 0;
  serverDropped = 0;
  /** Queued while paused (or in a hidden tab) past KEEP: never shown. */
  discarded = 0;
  /** Time of the newest event received: where a reconnect resumes. */
  lastTime: string | undefined;

  at(i: number): LogEvent {
    return this.#ring[(this.#start + i) % KEEP]!;
  }

  get queued(): number {
    return this.#queue.length;
  }

  receive(events: readonly LogEvent[]): void {
    for (const e of events) this.#queue.push(e);
    if (events.length > 0) this.lastTime = events[events.length - 1]!.time;
    // Applying more than KEEP at once would push the oldest out unseen.
    const over = this.#queue.length - KEEP;
    if (over > 0) {
      this.#queue.splice(0, over);
      this.discarded += over;
    }
  }

  /** Moves the queue into the ring; false when nothing was queued. */
  apply(): boolean {
    if (this.#queue.length === 0) return false;
    const batch = this.#queue;
    this.#queue = [];
    for (const e of batch) {
      if (this.#byId.has(e.id)) continue; // sent again by a reconnect's catch-up
      if (this.size === KEEP) {
        this.#byId.delete(this.#ring[this.#start]!.id);
        this.#ring[this.#start] = undefined;
        this.#start = (this.#start + 1) % KEEP;
        this.size--;
        this.removed++;
      }
      this.#ring[(this.#start + this.size) % KEEP] = e;
      this.size++;
      this.#byId.set(e.id, e);
    }
    return true;
  }

  clear(): void {
    this.#ring.fill(undefined);
    this.removed += this.size;
    this.#start = 0;
    this.size = 0;
    this.#byId = new Map();
    this.#queue = [];
    this.serverDropped = 0;
    this.discarded = 0;
    this.lastTime = undefined;
  }
}

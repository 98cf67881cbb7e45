// The live tail hub of one process: stored events go to every viewer whose
// filter matches. Each viewer's backlog is bounded: while paused or catching
// up it holds at most `bufferEvents`, and when its socket is not draining
// (more than `maxSocketBytes` unsent) new events are dropped and counted,
// then reported with a `dropped` message. A slow viewer never grows memory
// and never slows ingest.
import { type EventJson, type LogEvent, logEventToJson } from '../model/event.js';
import type { Matcher } from '../query/language/match.js';
import type { Clock } from '../model/clock.js';

/**
 * Newly stored events as the hub takes them: each event's service cheaply,
 * its JSON form only when some viewer may want it.
 */
export interface StoredBatch {
  readonly length: number;
  service(i: number): string;
  json(i: number): EventJson;
}

/** Events this process stored: the JSON form is built on demand, once. */
export function localBatch(events: readonly LogEvent[], source: string): StoredBatch {
  const json: Array<EventJson | undefined> = new Array<EventJson | undefined>(events.length);
  return {
    length: events.length,
    service: (i) => events[i]!.service,
    json: (i) => (json[i] ??= logEventToJson(events[i]!, source)),
  };
}

/** Events already in JSON form (read back from the store by the poller). */
export function jsonBatch(events: readonly EventJson[]): StoredBatch {
  return { length: events.length, service: (i) => events[i]!.service, json: (i) => events[i]! };
}

/** Serializes a list once for every viewer that sends all of it. */
type Serialize = (events: readonly EventJson[]) => Buffer;

export interface Outlet {
  /** Bytes queued on the socket, not yet sent. */
  readonly bufferedAmount: number;
  /** Sends one text message (a Buffer holds UTF-8 text, encoded once for many viewers). */
  send(data: string | Buffer): void;
  /** Ends the viewer's connection after its filter failed (the hub has let it go). */
  close?(reason: string): void;
}

/** How a viewer's messages are written: Sluice's tail messages by default; Loki's tail has its own. */
export interface TailFormat {
  events(events: readonly EventJson[]): string;
  dropped(count: number): string;
}

export const SLUICE_FORMAT: TailFormat = {
  events: (events) => JSON.stringify({ type: 'events', events }),
  dropped: (count) => JSON.stringify({ type: 'dropped', count }),
};

export interface ViewerOptions {
  readonly bufferEvents: number;
  readonly maxSocketBytes: number;
  /** The process's clock (what a backfill's skip window is measured on). */
  readonly clock: Clock;
  /** Sluice's messages when absent; the hub's shared encoding is in that format, so it is used only then. */
  readonly format?: TailFormat;
}

export class Viewer {
  matcher: Matcher | undefined;
  /** The services the filter is limited to, if it names them: other events are never offered. */
  services: ReadonlySet<string> | undefined;
  /** Those services as one key, shared by viewers that name the same ones (worked out once per filter). */
  servicesKey = '';
  /** The filter is those services and nothing else: what is offered matches. */
  servicesDecide = false;
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
    readonly out: Outlet,
    private readonly opts: ViewerOptions,
  ) {}

  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Offers newly stored events; keeps those that match. `serialize` gives
   * the shared encoding of a list offered to several viewers, used when all
   * of it matches.
   */
  offer(events: readonly EventJson[], serialize?: Serialize): void {
    // (Offered lists are never changed; `matching` may be the list itself.)
    const m = this.matcher;
    if (!m) return;
    const skipping = this.#skip.size > 0 && this.opts.clock.nowMs() < this.#skipUntil;
    const matching = this.servicesDecide && !skipping ? events : events.filter((e) => (this.servicesDecide || m(e)) && !(skipping && this.#skip.has(e.id)));
    if (matching.length === 0) return;
    if (this.paused || this.catchingUp) this.#hold(matching);
    else this.#send(matching, matching.length === events.length && serialize ? () => serialize(events) : undefined);
  }

  #hold(events: readonly EventJson[]): void {
    const room = this.opts.bufferEvents - this.#queue.length;
    if (room < events.length) this.#dropped += events.length - Math.max(0, room);
    if (room > 0) this.#queue.push(...events.slice(0, room));
  }

  #send(events: readonly EventJson[], serialized?: () => Buffer): void {
    if (this.out.bufferedAmount > this.opts.maxSocketBytes) {
      this.#dropped += events.length;
      return;
    }
    const format = this.opts.format ?? SLUICE_FORMAT;
    if (this.#dropped > 0) {
      // Reported in order: the count comes before the events after the gap.
      this.out.send(format.dropped(this.#dropped));
      this.#dropped = 0;
    }
    if (events.length > 0) this.out.send(serialized && !this.opts.format ? serialized() : format.events(events));
  }

  /** Sends events directly (a backfill), bypassing the filter. */
  sendBackfill(events: EventJson[]): void {
    if (events.length > 0) this.out.send((this.opts.format ?? SLUICE_FORMAT).events(events));
  }

  /** The backfill is out: drop what it already sent, and flow unless paused. */
  finishCatchUp(sentIds: ReadonlySet<string>, skipForMs = 0): void {
    this.#queue = this.#queue.filter((e) => !sentIds.has(e.id));
    this.#skip = sentIds;
    this.#skipUntil = this.opts.clock.nowMs() + skipForMs;
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
  reset(matcher: Matcher, services?: ReadonlySet<string>, servicesDecide = false): void {
    this.matcher = matcher;
    this.services = services;
    this.servicesKey = services === undefined ? '' : [...services].sort().join('\n');
    this.servicesDecide = services !== undefined && servicesDecide;
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

  publish(batch: StoredBatch): void {
    // What several viewers are offered is built once: the whole batch, or
    // one service's events; each list is serialized and encoded to UTF-8
    // once for all the viewers that take all of it.
    let all: EventJson[] | undefined;
    let byService: Map<string, number[]> | undefined;
    const lists = new Map<string, EventJson[]>();
    const encoded = new Map<readonly EventJson[], Buffer>();
    const serialize: Serialize = (list) => {
      let b = encoded.get(list);
      if (b === undefined) encoded.set(list, (b = Buffer.from(SLUICE_FORMAT.events(list))));
      return b;
    };
    for (const v of this.#viewers) {
      if (!v.matcher) continue;
      // A viewer's filter runs on the ingest path: if it throws, that viewer
      // is let go and closed; the batch, already stored, is not failed for it.
      try {
        this.#offerTo(v, batch, () => (all ??= Array.from({ length: batch.length }, (_, i) => batch.json(i))), () => (byService ??= groupByService(batch)), lists, serialize);
      } catch (err) {
        this.#viewers.delete(v);
        v.out.close?.(`the tail's filter failed: ${(err as Error).message}`);
      }
    }
  }

  #offerTo(v: Viewer, batch: StoredBatch, all: () => EventJson[], byService: () => Map<string, number[]>, lists: Map<string, EventJson[]>, serialize: Serialize): void {
    if (v.services === undefined) {
      v.offer(all(), serialize);
      return;
    }
    const key = v.servicesKey;
    let list = lists.get(key);
    if (list === undefined) {
      // In stored order, also when the filter names several services.
      const groups = byService();
      const at = [...v.services].flatMap((s) => groups.get(s) ?? []).sort((a, b) => a - b);
      lists.set(key, (list = at.map((i) => batch.json(i))));
    }
    if (list.length > 0) v.offer(list, serialize);
  }
}

function groupByService(batch: StoredBatch): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (let i = 0; i < batch.length; i++) {
    const s = batch.service(i);
    const at = m.get(s);
    if (at === undefined) m.set(s, [i]);
    else at.push(i);
  }
  return m;
}

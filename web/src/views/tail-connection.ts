// One live tail subscription over the WebSocket /api/v1/tail that survives
// lost sockets: auth as the first message (never a token in a URL), then
// subscribe; a lost socket reconnects with backoff and asks for what it
// missed since the last event received. A new filter replaces the shown
// events only once the server has taken it: a refused one leaves the old
// filter running on the server, and its events on the page.
import { api, type LogEvent, wsUrl } from '../api';
import type { QueryError } from '../components/query-box';
import { getToken } from '../session';

export const SINCE = '15m';
export const BACKFILL = 500;
/** A reconnect asks for at most this many it missed (the server's limit). */
export const CATCH_UP = 1000;

/** A bad token or scope: reconnecting cannot help. */
const FATAL = new Set(['SLUICE_ERR_INVALID_TOKEN', 'SLUICE_ERR_UNAUTHORIZED', 'SLUICE_ERR_FORBIDDEN']);
/** Errors about the filter itself, shown under the query box. */
const QUERY = new Set(['SLUICE_ERR_QUERY_SYNTAX', 'SLUICE_ERR_INVALID_REGEX']);
/** The backfill's search failed; the filter itself is fine. */
const BACKFILL_FAILED = new Set(['SLUICE_ERR_QUERY_TOO_BROAD', 'SLUICE_ERR_QUERY_TIMEOUT']);

export type Status = { readonly kind: 'connecting' | 'live' | 'retrying' | 'failed'; readonly text?: string };

export interface TailHandlers {
  events(events: LogEvent[]): void;
  /** The server took a new filter: what is shown was the old one's; its backfill follows. */
  reset(): void;
  dropped(count: number): void;
  queryError(err: QueryError): void;
  status(s: Status): void;
}

interface ServerMessage {
  type?: string;
  events?: LogEvent[];
  count?: number;
  code?: string;
  message?: string;
  position?: number;
}

/** One tail subscription that survives lost sockets. */
export class TailConnection {
  #ws: WebSocket | undefined;
  /** The filter wanted (null before the first subscribe), and the one the server last took. */
  #q: string | null = null;
  #running: string | null = null;
  /** The events held are another filter's than #q: its subscribe starts over, with a backfill. */
  #fresh = false;
  #attempt = 0;
  #openedAt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  /**
   * Subscribes sent on this socket and not yet answered, oldest first. The
   * server answers each in order, with `subscribed` or a query error. (A
   * backfill the store refuses after `subscribed` is also a query error; it
   * is told apart only when no other subscribe waits, the usual case.)
   */
  #pending: Array<{ q: string; fresh: boolean }> = [];

  constructor(
    private readonly h: TailHandlers,
    private readonly lastTime: () => string | undefined,
  ) {}

  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#ws?.close();
  }

  subscribe(q: string): void {
    this.#q = q;
    this.#fresh = true;
    this.#sendSubscribe();
  }

  #send(m: object): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(m));
  }

  #sendSubscribe(): void {
    if (this.#q === null || this.#ws?.readyState !== WebSocket.OPEN) return;
    // A reconnect asks from the last event received, so the gap is filled
    // (the store skips ids it holds); a new filter looks back on its own.
    const last = this.#fresh ? undefined : this.lastTime();
    this.#pending.push({ q: this.#q, fresh: this.#fresh });
    this.#send({ type: 'subscribe', q: this.#q, since: last ?? SINCE, limit: last ? CATCH_UP : BACKFILL });
  }

  #answered(): void {
    const p = this.#pending.shift();
    if (!p) return;
    this.#running = p.q;
    if (!p.fresh) return;
    if (p.q === this.#q) this.#fresh = false;
    this.h.reset();
  }

  #refused(msg: ServerMessage, code: string): void {
    const p = this.#pending.shift();
    if (!p) {
      // After `subscribed`: the filter runs; only its look back failed.
      this.h.status({ kind: 'live', text: `${msg.message ?? code}; showing new events only` });
      return;
    }
    // The server keeps the filter it had, and so does a reconnect; the
    // events shown are still that filter's.
    if (p.q === this.#q) {
      this.#q = this.#running;
      this.#fresh = false;
    }
    const still = this.#running === null ? '' : ' (still tailing the previous filter)';
    this.h.queryError({ message: `${msg.message ?? code}${still}`, position: msg.position });
  }

  #connect(): void {
    this.h.status({ kind: 'connecting' });
    const ws = new WebSocket(wsUrl('/api/v1/tail'));
    this.#ws = ws;
    let fatal = false;
    ws.onopen = () => {
      this.#openedAt = Date.now();
      this.#pending = [];
      // The token goes in the first message, never in the URL.
      ws.send(JSON.stringify({ type: 'auth', token: getToken() ?? '' }));
      this.#sendSubscribe();
      this.h.status({ kind: 'live' });
    };
    ws.onmessage = (m: MessageEvent<string>) => {
      let msg: ServerMessage;
      try {
        msg = JSON.parse(m.data) as ServerMessage;
      } catch {
        return;
      }
      if (msg.type === 'subscribed') this.#answered();
      // Events before a new filter's answer are the old filter's: shown
      // until the answer, kept if the new filter is refused.
      else if (msg.type === 'events' && msg.events) this.h.events(msg.events);
      else if (msg.type === 'dropped') this.h.dropped(msg.count ?? 0);
      else if (msg.type === 'error') {
        const code = msg.code ?? '';
        if (QUERY.has(code) || msg.position !== undefined) this.#refused(msg, code);
        else if (BACKFILL_FAILED.has(code)) {
          // The filter is in force; only the look back failed.
          this.h.status({ kind: 'live', text: `${msg.message ?? code}; showing new events only` });
        } else if (FATAL.has(code)) {
          fatal = true;
          ws.close();
          this.h.status({ kind: 'failed', text: msg.message ?? code });
          // A revoked token: the shell's 401 handling signs the tab out.
          if (code !== 'SLUICE_ERR_FORBIDDEN') api('/api/v1/me').catch(() => {});
        } else this.h.status({ kind: 'live', text: msg.message ?? code });
      }
    };
    ws.onclose = () => {
      if (this.#ws !== ws || this.#stopped || fatal) return;
      // A socket that lived a while starts the backoff over; one that keeps
      // failing at once (e.g. the tail limit) backs off up to 30 s.
      if (this.#openedAt && Date.now() - this.#openedAt > 10_000) this.#attempt = 0;
      this.#openedAt = 0;
      this.#attempt++;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(this.#attempt, 6)) * (0.5 + Math.random() / 2);
      this.h.status({ kind: 'retrying', text: `connection lost; retrying in ${Math.ceil(delay / 1000)} s` });
      this.#timer = setTimeout(() => this.#connect(), delay);
    };
  }
}

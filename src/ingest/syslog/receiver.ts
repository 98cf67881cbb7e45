// From frames to stored events, for every syslog transport: parse, find
// who sent each message (SD token or trusted address), build events and
// store them through the ack contract, retrying while the store or the
// batcher is busy — plain syslog has no way to ask the sender to resend.
import { BlockList, isIPv4 } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { Counter } from 'prom-client';
import { type Principal, scopeAllows } from '../../auth/tokens.js';
import type { AppContext } from '../../context.js';
import { SluiceError } from '../../errors.js';
import type { LogEvent } from '../../model/event.js';
import type { NormalizeContext } from '../normalize.js';
import { rawToken, sdToken, syslogEvent } from './event.js';
import type { Frame } from './framing.js';
import { parseSyslog } from './parse.js';

export type Transport = 'tcp' | 'udp' | 'tls';

/** The principal messages from a SLUICE_SYSLOG_TRUSTED address are stored as. */
export const TRUSTED_PRINCIPAL: Principal = { name: 'syslog-trusted', scope: 'ingest' };

/** How long a shutdown keeps retrying a store that fails before it drops the events. */
export const SHUTDOWN_GRACE_MS = 10_000;

export interface SyslogMetrics {
  readonly received: Counter<'transport'>;
  readonly refused: Counter<'transport' | 'reason'>;
  readonly malformed: Counter<'transport'>;
  readonly truncated: Counter<'transport'>;
  readonly dropped: Counter<'transport' | 'reason'>;
}

function createMetrics(ctx: AppContext): SyslogMetrics {
  const registers = [ctx.metrics.registry];
  return {
    received: new Counter({ name: 'sluice_syslog_messages_total', help: 'Syslog messages received', labelNames: ['transport'], registers }),
    refused: new Counter({
      name: 'sluice_syslog_refused_total',
      help: 'Syslog messages refused: no token and not from a trusted address (no_token), unknown token (invalid_token), or a token without scope ingest (forbidden)',
      labelNames: ['transport', 'reason'],
      registers,
    }),
    malformed: new Counter({ name: 'sluice_syslog_malformed_total', help: 'Syslog frames that did not parse, stored raw with syslog.parse_error', labelNames: ['transport'], registers }),
    truncated: new Counter({ name: 'sluice_syslog_truncated_total', help: 'Syslog frames longer than SLUICE_MAX_LINE_BYTES, stored cut', labelNames: ['transport'], registers }),
    dropped: new Counter({
      name: 'sluice_syslog_dropped_total',
      help: 'Syslog messages lost: UDP datagrams past the in-flight bound (overloaded), events still unstored when a shutdown gave up (shutdown), a store error that is not temporary (error)',
      labelNames: ['transport', 'reason'],
      registers,
    }),
  };
}

/** One sender's view: where it is, and what a malformed frame falls back to. */
export interface Sender {
  readonly transport: Transport;
  readonly address: string;
  /** The last principal this connection authenticated as (TCP/TLS). */
  principal?: Principal | undefined;
  /** Called while a store waits for room (TCP pauses reading). */
  onBlocked?(): void;
  /**
   * Chains who-sent-what per connection: stores overlap, but each chunk is
   * attributed after the one before it, so a raw frame finds the token an
   * earlier frame of its connection showed.
   */
  ordered?: Promise<void> | undefined;
}

interface Parsed {
  readonly frame: Frame;
  readonly message: ReturnType<typeof parseSyslog>;
  readonly token: string | undefined;
}

export class SyslogReceiver {
  readonly metrics: SyslogMetrics;
  readonly #ctx: AppContext;
  readonly #log: FastifyBaseLogger;
  readonly #trusted = new BlockList();
  #stopDeadline: number | undefined;

  constructor(ctx: AppContext, log: FastifyBaseLogger) {
    this.#ctx = ctx;
    this.#log = log;
    this.metrics = createMetrics(ctx);
    for (const entry of ctx.config.syslog.trusted) {
      const [addr = '', bits] = entry.split('/');
      const family = isIPv4(addr) ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.#trusted.addAddress(addr, family);
      else this.#trusted.addSubnet(addr, Number(bits), family);
    }
  }

  isTrusted(address: string): boolean {
    // A dual-stack socket reports IPv4 senders as ::ffff:a.b.c.d.
    const v4 = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
    return this.#trusted.check(v4, isIPv4(v4) ? 'ipv4' : 'ipv6');
  }

  /** From now on a store that cannot succeed gives up after SHUTDOWN_GRACE_MS. */
  stopping(): void {
    this.#stopDeadline = Date.now() + SHUTDOWN_GRACE_MS;
  }

  /**
   * Parses and stores frames from one sender; resolves once they are stored,
   * refused or dropped. Nothing here awaits: a suspended async frame would
   * hold the frames, the parsed messages or the events while the store
   * works, and held, they survived every young-generation collection
   * meanwhile (IngestPipeline.onStored says why that costs). Async only so
   * that a throw becomes a rejection.
   */
  async receive(frames: readonly Frame[], sender: Sender): Promise<void> {
    const parsed: Parsed[] = frames.map((frame) => {
      const text = frame.data.toString('utf8');
      const message = parseSyslog(text, this.#ctx.clock.nowMs());
      const token = message.format === 'raw' ? rawToken(text) : sdToken(message);
      return { frame, message, token };
    });
    this.metrics.received.inc({ transport: sender.transport }, parsed.length);
    const classified = (sender.ordered ?? Promise.resolve()).then(() => this.#classify(parsed, sender));
    sender.ordered = classified.then(
      () => undefined,
      () => undefined,
    );
    return classified.then((groups) => this.#store(groups, sender));
  }

  #store(groups: Map<Principal, Parsed[]>, sender: Sender): Promise<void> {
    const t = sender.transport;
    const nctx = this.#ctx.pipeline.context({ host: sender.address.replace(/^::ffff:/, '') });
    const stored = [...groups].map(([principal, items]) => ({ principal, events: this.#events(items, nctx, t) }));
    const counts = stored.map((g) => g.events.length);
    const persisted = this.#ctx.pipeline.persist(stored, {
      onBlocked: () => sender.onBlocked?.(),
      givingUp: () => this.#stopDeadline !== undefined && Date.now() > this.#stopDeadline,
    });
    return persisted.then((outcomes) => {
      outcomes.forEach((o, i) => {
        if (o.stored) return;
        const n = counts[i]!;
        this.metrics.dropped.inc({ transport: t, reason: o.reason }, n);
        if (o.reason === 'error') this.#log.error({ err: o.error, transport: t }, 'syslog: events could not be stored and were dropped');
        else this.#log.warn({ code: (o.error as SluiceError).code, events: n }, 'syslog: shutting down with events the store did not take; dropped');
      });
    });
  }

  #events(items: readonly Parsed[], nctx: NormalizeContext, t: Transport): LogEvent[] {
    return items.map(({ frame, message }) => {
      if (message.format === 'raw') this.metrics.malformed.inc({ transport: t });
      const extra: Record<string, string> = {};
      if (frame.error !== undefined) extra['syslog.framing_error'] = frame.error;
      if (frame.truncated !== undefined) {
        this.metrics.truncated.inc({ transport: t });
        extra['syslog.truncated_from'] = frame.truncated > 0 ? String(frame.truncated) : 'unknown';
      }
      return syslogEvent(message, nctx, { attributes: extra });
    });
  }

  /** Groups messages by the principal they are stored as; refused ones are counted and left out. */
  async #classify(parsed: Parsed[], sender: Sender): Promise<Map<Principal, Parsed[]>> {
    const t = sender.transport;
    const groups = new Map<Principal, Parsed[]>();
    const principals = new Map<string, Principal | undefined>();
    // One sender, one address: checked once per chunk, not per message
    // (each check builds a SocketAddress).
    let trusted: boolean | undefined;
    for (const p of parsed) {
      let principal: Principal | undefined;
      if (p.token !== undefined) {
        if (!principals.has(p.token)) principals.set(p.token, await this.#authenticate(p.token, t));
        principal = principals.get(p.token);
        if (principal === undefined) continue;
        sender.principal = principal;
      } else if ((trusted ??= this.isTrusted(sender.address))) {
        principal = TRUSTED_PRINCIPAL;
      } else if (p.message.format === 'raw' && sender.principal !== undefined) {
        // A frame that did not parse, on a connection that showed a token:
        // stored as that sender's, with the parse error, not lost.
        principal = sender.principal;
      } else {
        this.metrics.refused.inc({ transport: t, reason: 'no_token' });
        continue;
      }
      let g = groups.get(principal);
      if (!g) groups.set(principal, (g = []));
      g.push(p);
    }
    return groups;
  }

  async #authenticate(token: string, transport: Transport): Promise<Principal | undefined> {
    const principal = await this.#ctx.tokens.authenticate(token);
    if (principal === undefined) {
      this.metrics.refused.inc({ transport, reason: 'invalid_token' });
      return undefined;
    }
    if (!scopeAllows(principal.scope, 'ingest')) {
      this.metrics.refused.inc({ transport, reason: 'forbidden' });
      return undefined;
    }
    return principal;
  }
}

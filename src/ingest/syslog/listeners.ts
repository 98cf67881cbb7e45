// The syslog listeners of the `ingest` role: TCP, UDP and TLS, each off
// while its port is unset. Started from app.ts's onReady hook and stopped in
// preClose: stop accepting, stop reading, store what was read, close.
//
// Bounds (see docs/drains.md):
// - TCP/TLS: per connection at most CONN_INFLIGHT_BYTES of read messages wait
//   for the store; past it, or while the batcher is full, the socket stops
//   being read, so TCP flow control holds the sender back (no loss).
// - UDP cannot be paused: past UDP_INFLIGHT_BYTES waiting for the store,
//   datagrams are dropped and counted (sluice_syslog_dropped_total).
// - One frame is at most SLUICE_MAX_LINE_BYTES; longer ones are cut.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, isIPv6, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../../context.js';
import { SyslogFramer, type Frame } from './framing.js';
import { type Sender, SyslogReceiver, type Transport } from './receiver.js';

// Large enough that one busy connection fills big inserts (bench/syslog saw
// 4 MiB split a connection into ~8k-row inserts, far below the engine's best).
export const CONN_INFLIGHT_BYTES = 16 * 1024 * 1024;
export const UDP_INFLIGHT_BYTES = 16 * 1024 * 1024;

export interface SyslogPorts {
  tcp?: number;
  udp?: number;
  tls?: number;
}

// Lets tests (and anything else holding the app's context) find the bound
// ports; keyed weakly so a closed app leaves nothing behind.
const byContext = new WeakMap<AppContext, SyslogListeners>();

export function syslogListenersOf(ctx: AppContext): SyslogListeners | undefined {
  return byContext.get(ctx);
}

class Connection implements Sender {
  readonly address: string;
  principal: Sender['principal'];
  ordered: Sender['ordered'];
  readonly #framer: SyslogFramer;
  #inflight = 0;
  #blocked = false;
  #stopped = false;
  readonly #pending = new Set<Promise<void>>();

  constructor(
    readonly transport: Transport,
    readonly socket: Socket,
    private readonly receiver: SyslogReceiver,
    maxFrameBytes: number,
    private readonly log: FastifyBaseLogger,
  ) {
    this.address = socket.remoteAddress ?? '';
    this.#framer = new SyslogFramer(maxFrameBytes);
    socket.on('data', (chunk: Buffer) => this.#take(this.#framer.push(chunk), chunk.length));
    socket.on('end', () => {
      if (!this.#stopped) this.#take(this.#framer.end(), 0);
    });
    socket.on('error', (err) => log.debug({ err, transport, remote: this.address }, 'syslog connection error'));
  }

  onBlocked(): void {
    if (this.#blocked) return;
    this.#blocked = true;
    this.socket.pause();
  }

  #take(frames: Frame[], bytes: number): void {
    if (frames.length === 0) return;
    this.#inflight += bytes;
    if (this.#inflight > CONN_INFLIGHT_BYTES) this.socket.pause();
    // A failure here (the token store unreachable, say) must be handled:
    // an unhandled rejection would end the whole server.
    const p = this.receiver.receive(frames, this).catch((err: unknown) => {
      this.receiver.metrics.dropped.inc({ transport: this.transport, reason: 'error' }, frames.length);
      this.log.error({ err, transport: this.transport }, 'syslog: messages could not be stored');
    }).finally(() => {
      this.#inflight -= bytes;
      this.#pending.delete(p);
      if (!this.#stopped && this.#inflight <= CONN_INFLIGHT_BYTES / 2) {
        this.#blocked = false;
        this.socket.resume();
      }
    });
    this.#pending.add(p);
  }

  /** Stops reading and resolves once what was read is stored. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.socket.pause();
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    this.socket.destroy();
  }
}

export class SyslogListeners {
  readonly receiver: SyslogReceiver;
  readonly #ctx: AppContext;
  readonly #log: FastifyBaseLogger;
  readonly #servers: Array<{ transport: Transport; server: Server }> = [];
  readonly #connections = new Set<Connection>();
  #udp: UdpSocket | undefined;
  #udpInflight = 0;
  #udpQueue: Array<{ frame: Frame; address: string }> = [];
  readonly #udpPending = new Set<Promise<void>>();
  readonly #ports: SyslogPorts = {};

  constructor(ctx: AppContext, log: FastifyBaseLogger) {
    this.#ctx = ctx;
    this.#log = log;
    this.receiver = new SyslogReceiver(ctx, log);
    byContext.set(ctx, this);
  }

  /** The ports bound, by transport (after start). */
  get ports(): Readonly<SyslogPorts> {
    return this.#ports;
  }

  async start(): Promise<void> {
    const c = this.#ctx.config.syslog;
    if (c.tcpPort !== undefined) await this.#listen('tcp', createTcpServer(), c.tcpPort);
    if (c.tlsPort !== undefined) {
      const server = createTlsServer({ cert: readFileSync(c.tlsCert!), key: readFileSync(c.tlsKey!) });
      server.on('tlsClientError', (err) => this.#log.debug({ err }, 'syslog TLS handshake failed'));
      await this.#listen('tls', server, c.tlsPort);
    }
    if (c.udpPort !== undefined) await this.#listenUdp(c.udpPort);
  }

  async #listen(transport: Transport, server: Server, port: number): Promise<void> {
    const event = transport === 'tls' ? 'secureConnection' : 'connection';
    server.on(event, (socket: Socket) => {
      const conn = new Connection(transport, socket, this.receiver, this.#ctx.config.limits.maxLineBytes, this.#log);
      this.#connections.add(conn);
      socket.on('close', () => this.#connections.delete(conn));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.#ctx.config.syslog.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.#log.error({ err, transport }, 'syslog listener error'));
    this.#servers.push({ transport, server });
    const bound = (server.address() as AddressInfo).port;
    this.#ports[transport] = bound;
    this.#log.info({ transport, address: this.#ctx.config.syslog.host, port: bound }, 'syslog listening');
  }

  async #listenUdp(port: number): Promise<void> {
    const host = this.#ctx.config.syslog.host;
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => this.#datagram(msg, rinfo));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (err) => this.#log.error({ err }, 'syslog UDP listener error'));
    this.#udp = socket;
    this.#ports.udp = socket.address().port;
    this.#log.info({ transport: 'udp', address: host, port: this.#ports.udp }, 'syslog listening');
  }

  #datagram(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.#udpInflight + msg.length > UDP_INFLIGHT_BYTES) {
      this.receiver.metrics.dropped.inc({ transport: 'udp', reason: 'overloaded' });
      return;
    }
    this.#udpInflight += msg.length;
    // One message per datagram; a datagram's frames are collected for one
    // event-loop turn so a burst becomes one store call, not one per packet.
    const max = this.#ctx.config.limits.maxLineBytes;
    const frame: Frame = msg.length > max ? { data: msg.subarray(0, max), truncated: msg.length } : { data: msg };
    this.#udpQueue.push({ frame, address: rinfo.address });
    if (this.#udpQueue.length === 1) setImmediate(() => this.#flushUdp());
  }

  #flushUdp(): void {
    const queue = this.#udpQueue;
    this.#udpQueue = [];
    const byAddress = new Map<string, Frame[]>();
    for (const { frame, address } of queue) {
      let frames = byAddress.get(address);
      if (!frames) byAddress.set(address, (frames = []));
      frames.push(frame);
    }
    for (const [address, frames] of byAddress) {
      const bytes = frames.reduce((n, f) => n + f.data.length, 0);
      const p = this.receiver.receive(frames, { transport: 'udp', address }).catch((err: unknown) => {
        this.receiver.metrics.dropped.inc({ transport: 'udp', reason: 'error' }, frames.length);
        this.#log.error({ err, transport: 'udp' }, 'syslog: messages could not be stored');
      }).finally(() => {
        this.#udpInflight -= bytes;
        this.#udpPending.delete(p);
      });
      this.#udpPending.add(p);
    }
  }

  /** Stops accepting and reading, stores what was read, closes every socket. */
  async stop(): Promise<void> {
    this.receiver.stopping();
    const closed = this.#servers.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve())));
    if (this.#udp) {
      const udp = this.#udp;
      this.#udp = undefined;
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      if (this.#udpQueue.length > 0) this.#flushUdp();
    }
    await Promise.all([...this.#connections].map((c) => c.stop()));
    while (this.#udpPending.size > 0) await Promise.all([...this.#udpPending]);
    await Promise.all(closed);
  }
}

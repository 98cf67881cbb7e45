// A real webhook receiver on loopback that records what arrives and can be
// told to fail.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { patience } from './times.js';

export interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: Record<string, unknown>;
}

export class Receiver {
  readonly received: Received[] = [];
  /** Status codes to answer with, in order; then 200. */
  failures: number[] = [];
  #server: Server;
  #waiters: Array<() => void> = [];
  url = '';

  constructor() {
    this.#server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body, json: JSON.parse(body) as Record<string, unknown> });
        res.statusCode = this.failures.shift() ?? 200;
        res.end('ok');
        for (const w of this.#waiters.splice(0)) w();
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`;
    return this;
  }

  async until(cond: (r: Received[]) => boolean, what: string, ms = 90_000): Promise<void> {
    const deadline = Date.now() + patience(ms);
    while (!cond(this.received)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.received.map((r) => r.json)).slice(0, 800)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    return new Promise((r) => this.#server.close(() => r()));
  }
}

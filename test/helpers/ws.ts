// A WebSocket test client that records every message and waits for ones
// matching a condition (generous deadlines; speed lives in bench/).
import WebSocket from 'ws';
import { patience } from './times.js';

export interface Msg {
  type: string;
  events?: Array<Record<string, unknown> & { id: string; message: string }>;
  count?: number;
  code?: string;
  message?: string;
  position?: number;
}

export class TailClient {
  readonly messages: Msg[] = [];
  readonly ws: WebSocket;
  #waiters: Array<() => void> = [];
  closed: Promise<{ code: number }>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url.replace(/^http/, 'ws') + '/api/v1/tail', { headers });
    this.ws.on('message', (d) => {
      this.messages.push(JSON.parse(d.toString()) as Msg);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => this.ws.on('close', (code) => resolve({ code })));
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  send(m: object): void {
    this.ws.send(JSON.stringify(m));
  }

  get events(): Array<Record<string, unknown> & { id: string; message: string }> {
    return this.messages.flatMap((m) => (m.type === 'events' ? (m.events ?? []) : []));
  }

  async until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
    const deadline = Date.now() + patience(ms);
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Round trip: an unknown message type is answered with an error, after anything the server sent before it. */
  async sync(): Promise<void> {
    const before = this.messages.filter((m) => m.type === 'error' && m.code === 'SLUICE_ERR_VALIDATION').length;
    this.send({ type: 'sync-probe' });
    await this.until(() => this.messages.filter((m) => m.type === 'error' && m.code === 'SLUICE_ERR_VALIDATION').length > before, 'sync');
  }

  close(): void {
    this.ws.close();
  }
}

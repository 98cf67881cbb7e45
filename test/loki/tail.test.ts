// Loki's live tail over a real WebSocket, opened as Grafana's Loki data
// source opens it: /loki/api/v1/tail?query=… with the data source's Basic
// auth; the backfill, then each stored line that matches, in Loki's message
// shape, nothing twice and nothing that does not match.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { patience, testTimes } from '../helpers/times.js';

const at = testTimes();
let s: TestServer;
let ing: string;
let basic: string;

beforeAll(async () => {
  s = await startServer();
  ing = await makeToken(s, 'ingest');
  basic = basicAuth(await makeToken(s, 'read'));
});
afterAll(async () => s?.close());

interface LokiTailMessage {
  streams: Array<{ stream: Record<string, string>; values: Array<[string, string]> }>;
  dropped_entries: unknown[];
}

class LokiTail {
  readonly messages: LokiTailMessage[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  constructor(params: Record<string, string>, headers: Record<string, string>) {
    this.ws = new WebSocket(`${s.url.replace(/^http/, 'ws')}/loki/api/v1/tail?${new URLSearchParams(params)}`, { headers });
    this.ws.on('message', (d) => this.messages.push(JSON.parse(d.toString()) as LokiTailMessage));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }
  get lines(): string[] {
    return this.messages.flatMap((m) => m.streams.flatMap((st) => st.values.map(([, l]) => l)));
  }
  async until(cond: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + patience(15_000);
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(this.messages).slice(0, 400)}`);
      await new Promise((r) => this.ws.once('message', r));
    }
  }
}

describe('GET /loki/api/v1/tail', () => {
  it('sends the backfill, then every matching line once, in Loki\'s shape', async () => {
    await ingest(s.url, ing, ndjson([
      { time: at.iso(1000), service: 'lt', level: 'info', message: 'keep old 1' },
      { time: at.iso(2000), service: 'lt', level: 'warn', message: 'drop old 2' },
      { time: at.iso(3000), service: 'lt', level: 'error', message: 'keep old 3' },
    ]));
    const t = new LokiTail({ query: '{service_name="lt"} |= "keep"', start: (BigInt(at.ms(0)) * 1_000_000n).toString(), limit: '10' }, { authorization: basic });
    await t.opened;
    await t.until(() => t.lines.length >= 2, 'the backfill');
    expect(t.lines).toEqual(['keep old 1', 'keep old 3']);
    expect(t.messages[0]!.streams.map((x) => x.stream).sort((a, b) => (a.level! < b.level! ? -1 : 1))).toEqual([
      { service_name: 'lt', level: 'error' }, { service_name: 'lt', level: 'info' },
    ].map((l) => expect.objectContaining(l)));
    expect(t.messages[0]!.dropped_entries).toEqual([]);

    await ingest(s.url, ing, ndjson([
      { service: 'lt', level: 'info', message: 'keep live 1' },
      { service: 'lt', level: 'info', message: 'drop live 2' },
      { service: 'other', level: 'info', message: 'keep other service' },
      { service: 'lt', level: 'error', message: 'keep live 3' },
    ]));
    await ingest(s.url, ing, ndjson([{ service: 'lt', message: 'keep marker' }]));
    await t.until(() => t.lines.includes('keep marker'), 'the marker');
    expect(t.lines).toEqual(['keep old 1', 'keep old 3', 'keep live 1', 'keep live 3', 'keep marker']);
    for (const m of t.messages) for (const st of m.streams) for (const [ns] of st.values) expect(ns).toMatch(/^\d{19}$/);
    t.ws.close();
  });

  it('refuses a bad query or a missing token before the upgrade', async () => {
    const status = (params: Record<string, string>, headers: Record<string, string>): Promise<number> => new Promise((resolve) => {
      const ws = new WebSocket(`${s.url.replace(/^http/, 'ws')}/loki/api/v1/tail?${new URLSearchParams(params)}`, { headers });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    expect(await status({ query: '{service_name="lt"' }, { authorization: basic })).toBe(400);
    expect(await status({ query: 'count_over_time({a="b"}[1m])' }, { authorization: basic })).toBe(400);
    expect(await status({ query: '{service_name="lt"}' }, {})).toBe(401);
    // A regex RE2 cannot compile is a 400, not a socket that dies.
    expect(await status({ query: '{service_name="lt"} |~ "(a+"' }, { authorization: basic })).toBe(400);
    expect(await status({ query: '{service_name="lt"}', start: 'yesterday' }, { authorization: basic })).toBe(400);
    expect(await status({ query: '{service_name="lt"} |~ "(?i)KEEP"' }, { authorization: basic })).toBe(101);
  });
});

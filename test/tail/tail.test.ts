// The live tail over a real WebSocket: auth, filters, backfill then live,
// pause/resume, a slow viewer's drops, limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { TailClient } from '../helpers/ws.js';

let s: TestServer;
let token: string;
let readToken: string;

beforeAll(async () => {
  s = await startServer({ SLUICE_TAIL_MAX_PER_TOKEN: '3' });
  token = await makeToken(s, 'ingest');
  readToken = await makeToken(s, 'read');
});
afterAll(async () => s.close());

async function subscribed(q: string, extra: object = {}, headers = { authorization: `Bearer ${readToken}` }): Promise<TailClient> {
  const c = new TailClient(s.url, headers);
  await c.open();
  c.send({ type: 'subscribe', q, ...extra });
  await c.sync(); // the subscription is in place
  return c;
}

describe('auth', () => {
  it('takes the token as a header or as the first message, and refuses bad ones', async () => {
    const viaMessage = new TailClient(s.url);
    await viaMessage.open();
    viaMessage.send({ type: 'auth', token: readToken });
    viaMessage.send({ type: 'subscribe', q: 'service:tail-auth' });
    await viaMessage.sync();
    await ingest(s.url, token, ndjson([{ msg: 'hello', service: 'tail-auth' }]));
    await viaMessage.until(() => viaMessage.events.length === 1, 'the event');
    viaMessage.close();

    const bad = new TailClient(s.url, { authorization: 'Bearer nope' });
    const status = await new Promise<number>((resolve) => bad.ws.on('unexpected-response', (_r, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(401);

    const ingestOnly = new TailClient(s.url);
    await ingestOnly.open();
    ingestOnly.send({ type: 'auth', token });
    await ingestOnly.until(() => ingestOnly.messages.some((m) => m.code === 'SLUICE_ERR_FORBIDDEN'), 'forbidden');
    expect((await ingestOnly.closed).code).toBe(1008);

    const unknown = new TailClient(s.url);
    await unknown.open();
    unknown.send({ type: 'auth', token: 'sluice_not_a_real_token' });
    await unknown.until(() => unknown.messages.some((m) => m.code === 'SLUICE_ERR_INVALID_TOKEN'), 'invalid token');
    expect((await unknown.closed).code).toBe(1008);

    const none = new TailClient(s.url);
    await none.open();
    none.send({ type: 'subscribe', q: '' });
    await none.until(() => none.messages.some((m) => m.code === 'SLUICE_ERR_UNAUTHORIZED'), 'unauthorized');
    expect((await none.closed).code).toBe(1008);
  });
});

describe('live', () => {
  it('sends exactly the matching events, in order, right after they are stored', async () => {
    const c = await subscribed('service:tail-f level:>=warn -noise');
    const rows = Array.from({ length: 60 }, (_, i) => ({ msg: i % 7 === 0 ? `noise ${i}` : `m ${i}`, service: i % 2 ? 'tail-f' : 'tail-other', level: ['info', 'warn', 'error'][i % 3] }));
    await ingest(s.url, token, ndjson(rows.slice(0, 30)));
    await ingest(s.url, token, ndjson(rows.slice(30)));
    const want = rows.filter((r) => r.service === 'tail-f' && r.level !== 'info' && !r.msg.startsWith('noise')).map((r) => r.msg);
    await c.until(() => c.events.length >= want.length, 'the matching events');
    await c.sync();
    expect(c.events.map((e) => e.message)).toEqual(want);
    c.close();
  });

  it('gives filters naming several services, or none, their events in stored order', async () => {
    const either = await subscribed('service:tail-m1 OR (service:tail-m2 level:error)');
    const notM1 = await subscribed('-service:tail-m1');
    const rows = Array.from({ length: 30 }, (_, i) => ({ msg: `mix ${i}`, service: `tail-m${(i % 3) + 1}`, level: i % 2 ? 'error' : 'info' }));
    await ingest(s.url, token, ndjson(rows));
    const wantEither = rows.filter((r) => r.service === 'tail-m1' || (r.service === 'tail-m2' && r.level === 'error')).map((r) => r.msg);
    const wantNot = rows.filter((r) => r.service !== 'tail-m1').map((r) => r.msg);
    await either.until(() => either.events.length >= wantEither.length, 'the events of either service');
    await notM1.until(() => notM1.events.length >= wantNot.length, 'the events of other services');
    await either.sync();
    await notM1.sync();
    expect(either.events.map((e) => e.message)).toEqual(wantEither);
    expect(notM1.events.map((e) => e.message)).toEqual(wantNot);
    either.close();
    notM1.close();
  });

  it('backfills by time and count, then goes live without a gap or a repeat', async () => {
    await ingest(s.url, token, ndjson(Array.from({ length: 5 }, (_, i) => ({ msg: `old ${i}`, service: 'tail-bf', time: new Date(Date.now() - (5 - i) * 1000).toISOString() }))));
    const c = await subscribed('service:tail-bf', { since: '10m', limit: 3 });
    expect(c.events.map((e) => e.message)).toEqual(['old 2', 'old 3', 'old 4']);
    await ingest(s.url, token, ndjson([{ msg: 'new 0', service: 'tail-bf' }, { msg: 'new 1', service: 'tail-bf' }]));
    await c.until(() => c.events.length === 5, 'live events');
    await c.sync();
    expect(c.events.map((e) => e.message)).toEqual(['old 2', 'old 3', 'old 4', 'new 0', 'new 1']);
    c.close();
  });

  it('holds events while paused and sends them on resume; a new subscribe replaces the filter', async () => {
    const c = await subscribed('service:tail-p');
    c.send({ type: 'pause' });
    await c.sync();
    await ingest(s.url, token, ndjson([{ msg: 'p1', service: 'tail-p' }, { msg: 'p2', service: 'tail-p' }]));
    await c.sync(); // anything sent before the probe's answer would be here by now
    expect(c.events).toEqual([]);
    c.send({ type: 'resume' });
    await c.until(() => c.events.length === 2, 'held events');
    c.send({ type: 'subscribe', q: 'service:tail-q' });
    await c.sync();
    await ingest(s.url, token, ndjson([{ msg: 'p3', service: 'tail-p' }, { msg: 'q1', service: 'tail-q' }]));
    await c.until(() => c.events.length === 3, 'the new filter');
    await c.sync();
    expect(c.events.map((e) => e.message)).toEqual(['p1', 'p2', 'q1']);
    c.close();
  });

  it('points at a filter that does not parse, and keeps the previous filter running', async () => {
    const c = await subscribed('service:tail-e');
    c.send({ type: 'subscribe', q: 'level:>=warn (oops' });
    await c.until(() => c.messages.some((m) => m.code === 'SLUICE_ERR_QUERY_SYNTAX'), 'syntax error');
    expect(c.messages.find((m) => m.code === 'SLUICE_ERR_QUERY_SYNTAX')).toMatchObject({ type: 'error', position: 13 });
    // No `subscribed` for the refused filter; the old one still sends what it matches, live.
    expect(c.messages.filter((m) => m.type === 'subscribed')).toHaveLength(1);
    await ingest(s.url, token, ndjson([{ msg: 'e other', service: 'tail-other' }, { msg: 'e kept', service: 'tail-e' }]));
    await c.until(() => c.events.length === 1, 'the old filter\'s event');
    await c.sync();
    expect(c.events.map((e) => e.message)).toEqual(['e kept']);
    c.close();
  });
});

describe('a slow viewer', () => {
  it('is dropped from and told how many it missed; received + dropped = sent', async () => {
    const c = await subscribed('service:tail-slow');
    // Stop reading: the kernel buffers fill, then the server's send buffer.
    (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const big = 'x'.repeat(2000);
    let sent = 0;
    for (let r = 0; r < 20; r++) {
      const rows = Array.from({ length: 1000 }, (_, i) => ({ msg: `${r}-${i} ${big}`, service: 'tail-slow' }));
      expect((await ingest(s.url, token, ndjson(rows))).status).toBe(200);
      sent += rows.length;
    }
    (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    // One more event after the gap carries the drop count with it.
    await ingest(s.url, token, ndjson([{ msg: 'last', service: 'tail-slow' }]));
    sent += 1;
    await c.until(() => c.events.some((e) => e.message === 'last'), 'the last event', 60_000);
    const dropped = c.messages.filter((m) => m.type === 'dropped').reduce((a, m) => a + (m.count ?? 0), 0);
    expect(dropped).toBeGreaterThan(0);
    expect(c.events.length + dropped).toBe(sent);
    expect(new Set(c.events.map((e) => e.id)).size).toBe(c.events.length);
    c.close();
  });
});

describe('limits', () => {
  it('refuses more live tails per token than SLUICE_TAIL_MAX_PER_TOKEN', async () => {
    const t = await makeToken(s, 'read');
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await subscribed('', {}, { authorization: `Bearer ${t}` }));
    const fourth = new TailClient(s.url, { authorization: `Bearer ${t}` });
    await fourth.until(() => fourth.messages.some((m) => m.code === 'SLUICE_ERR_TAIL_LIMIT'), 'the limit');
    expect((await fourth.closed).code).toBe(1008);
    for (const c of open) c.close();
  });
});

// POST /loki/api/v1/push with real Loki clients: winston-loki (snappy
// protobuf by default, JSON on request) and pino-loki (JSON), over a real
// socket into the real embedded engine. None of these clients sends
// structured metadata in protobuf, so that shape is built here with
// protobufjs and snappyjs.
import { once } from 'node:events';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { pinoLoki } from 'pino-loki';
import { compress } from 'snappyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import winston from 'winston';
import LokiTransport from 'winston-loki';
import { SluiceError } from '../../src/errors.js';
import { PushRequest } from '../../src/ingest/loki/schema.js';
import { makeToken, searchAll, startServer, type TestServer } from '../helpers/server.js';
import { testTimes } from '../helpers/times.js';

let s: TestServer;
let ingestToken: string;
let readToken: string;

beforeAll(async () => {
  s = await startServer();
  ingestToken = await makeToken(s, 'ingest', 'loki-app');
  readToken = await makeToken(s, 'read');
});
afterAll(async () => s.close());

// Events are stamped an hour or two back (testTimes) or now.
const FROM = { from: '1d' };
const t = testTimes();
const T0 = t.ms(3_600_000);

async function sendWithWinston(json: boolean, app: string): Promise<void> {
  const errors: unknown[] = [];
  const transport = new LokiTransport({
    host: s.url,
    basicAuth: `user:${ingestToken}`,
    labels: { app, env: 'test', hostname: 'w-host' },
    json,
    replaceTimestamp: false,
    gracefulShutdown: false,
    // flush() resolves once the batch loop has sent what was logged.
    interval: 0.05,
    onConnectionError: (e: unknown) => errors.push(e),
  });
  const logger = winston.createLogger({ level: 'debug', transports: [transport] });
  logger.info('user login', { timestamp: new Date(T0).toISOString(), user: 'u1' });
  logger.error('payment failed', { timestamp: new Date(T0 + 1000).toISOString() });
  logger.debug('cache miss', { timestamp: new Date(T0 + 2000).toISOString() });
  await transport.flush();
  await transport.close();
  expect(errors).toEqual([]);
}

async function push(body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(`${s.url}/loki/api/v1/push`, { method: 'POST', headers: { authorization: `Bearer ${ingestToken}`, ...headers }, body });
  return { status: res.status, text: await res.text() };
}

function protobufPush(streams: object[]): Buffer {
  return compress(Buffer.from(PushRequest.encode(PushRequest.fromObject({ streams })).finish()));
}

describe('Loki push', () => {
  it('stores what winston-loki sends as snappy protobuf, labels mapped', async () => {
    await sendWithWinston(false, 'loki-proto');
    const events = await searchAll(s.url, readToken, { service: 'loki-proto', ...FROM });
    expect(events).toHaveLength(3);
    // winston-loki's line: the message, then the other meta as JSON.
    const by = Object.fromEntries(events.map((e) => [String(e.message).split(' {')[0]!.trim(), e]));
    expect(by['user login']!.message).toMatch(/^user login \{.*"user":"u1"/);
    expect(by['user login']).toMatchObject({
      level: 'info', host: 'w-host', time: t.rfc(3_600_000), source: 'loki-app', attributes: { env: 'test' },
    });
    expect(by['payment failed']).toMatchObject({ level: 'error', time: t.rfc(3_601_000) });
    expect(by['cache miss']).toMatchObject({ level: 'debug' });
  });

  it('stores what winston-loki sends as JSON, structured metadata as attributes', async () => {
    await sendWithWinston(true, 'loki-wjson');
    const events = await searchAll(s.url, readToken, { service: 'loki-wjson', ...FROM });
    expect(events).toHaveLength(3);
    const login = events.find((e) => String(e.message).startsWith('user login'))!;
    expect(login).toMatchObject({ level: 'info', host: 'w-host', attributes: { env: 'test', user: 'u1' } });
    expect((login.attributes as Record<string, string>).level).toBeUndefined();
  });

  it('stores what pino-loki sends (JSON lines parsed, labels mapped)', async () => {
    const stream = pinoLoki({
      host: s.url,
      basicAuth: { username: 'pino', password: ingestToken },
      labels: { service_name: 'loki-pino', job: 'api' },
      batching: { interval: 60 },
    });
    const logger = pino({ base: { hostname: 'p-host' }, timestamp: () => `,"time":${T0}` }, stream);
    logger.info({ reqId: 'r1' }, 'request done');
    logger.warn({ meta: { trace_id: 'abc123', tenant: 't1' } }, 'slow query');
    logger.error('boom');
    stream.end();
    await once(stream, 'close');
    const events = await searchAll(s.url, readToken, { service: 'loki-pino', ...FROM });
    expect(events).toHaveLength(3);
    const by = Object.fromEntries(events.map((e) => [e.message, e]));
    expect(by['request done']).toMatchObject({ level: 'info', host: 'p-host', time: t.rfc(3_600_000), attributes: { reqId: 'r1', job: 'api' } });
    expect(by['slow query']).toMatchObject({ level: 'warn', trace_id: 'abc123', attributes: { tenant: 't1' } });
    expect(by.boom).toMatchObject({ level: 'error' });
  });

  it('takes gzipped JSON, the legacy shape, protobuf structured metadata; ns timestamps exact', async () => {
    const json = { streams: [{ stream: { app: 'loki-misc', level: 'warn', instance: 'i-1' }, values: [[String(t.ns(3_600_000, 123_456_789n)), 'GET /health 200'], [String(t.ns(3_600_000, 223_456_789n)), 'user login', { trace_id: '0242ac120002', user_id: 'u123' }]] }] };
    expect(await push(gzipSync(JSON.stringify(json)), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).toEqual({ status: 204, text: '' });
    const legacy = { streams: [{ labels: '{app="loki-misc", level="error"}', entries: [{ ts: t.iso(3_602_500), line: 'legacy line' }] }] };
    expect((await push(JSON.stringify(legacy), { 'content-type': 'application/json' })).status).toBe(204);
    const proto = protobufPush([{
      labels: '{service_name="loki-misc", detected_level="debug", pod="p\\"1"}',
      entries: [{ timestamp: { seconds: t.sec(3_603_000), nanos: 5 }, line: 'level=info msg="proto logfmt" status=200', structuredMetadata: [{ name: 'span_id', value: 'eee1' }] }],
    }]);
    expect((await push(proto, { 'content-type': 'application/x-protobuf' })).status).toBe(204);
    const events = await searchAll(s.url, readToken, { service: 'loki-misc', ...FROM });
    const by = Object.fromEntries(events.map((e) => [e.message, e]));
    expect(events).toHaveLength(4);
    expect(by['GET /health 200']).toMatchObject({ level: 'warn', host: 'i-1', time: t.rfc(3_600_000, 123_456_789n) });
    expect(by['user login']).toMatchObject({ trace_id: '0242ac120002', attributes: { user_id: 'u123' } });
    expect(by['legacy line']).toMatchObject({ level: 'error', time: t.rfc(3_602_500) });
    expect(by['proto logfmt']).toMatchObject({ level: 'debug', span_id: 'eee1', time: t.rfc(3_603_000, 5n), attributes: { pod: 'p"1', status: '200' } });
  });

  it('answers 503 + Retry-After under backpressure', async () => {
    const batcher = s.ctx.batcher;
    const submit = batcher.submit.bind(batcher);
    batcher.submit = () => Promise.reject(new SluiceError('SLUICE_ERR_OVERLOADED', undefined, { retryAfter: 1 }));
    try {
      const res = await fetch(`${s.url}/loki/api/v1/push`, {
        method: 'POST', headers: { authorization: `Bearer ${ingestToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ streams: [{ stream: { app: 'loki-busy' }, values: [[String(t.ns(3_600_000)), 'x']] }] }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.text()).toMatch(/^SLUICE_ERR_OVERLOADED: /);
    } finally {
      batcher.submit = submit;
    }
  });

  it('refuses bad input with a clear 4xx and keeps the valid entries of a push', async () => {
    const bogus = await push(Buffer.from('this is not snappy at all'), { 'content-type': 'application/x-protobuf' });
    expect(bogus.status).toBe(400);
    expect(bogus.text).toMatch(/^SLUICE_ERR_BAD_SNAPPY: /);
    const notProto = await push(compress(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])), { 'content-type': 'application/x-protobuf' });
    expect(notProto.status).toBe(400);
    expect(notProto.text).toMatch(/^SLUICE_ERR_INVALID_PROTOBUF: /);
    const badJson = await push('{"streams":[', { 'content-type': 'application/json' });
    expect(badJson).toMatchObject({ status: 400, text: expect.stringMatching(/^SLUICE_ERR_MALFORMED_JSON: /) });
    const badShape = await push('{"streams":{}}', { 'content-type': 'application/json' });
    expect(badShape).toMatchObject({ status: 400, text: expect.stringMatching(/^SLUICE_ERR_VALIDATION: /) });
    const badType = await push('x', { 'content-type': 'text/plain' });
    expect(badType).toMatchObject({ status: 415, text: expect.stringMatching(/^SLUICE_ERR_UNSUPPORTED_MEDIA_TYPE: /) });
    const badLabels = await push(protobufPush([{ labels: '{app=unquoted}', entries: [{ timestamp: { seconds: 1 }, line: 'x' }] }]), { 'content-type': 'application/x-protobuf' });
    expect(badLabels).toMatchObject({ status: 400, text: expect.stringMatching(/bad stream labels/) });
    const mixed = { streams: [{ stream: { app: 'loki-mixed' }, values: [[String(t.ns(3_600_000)), 'kept'], [1.5, 'bad ts'], ['not-a-number', 'bad too']] }] };
    const res = await push(JSON.stringify(mixed), { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/^SLUICE_ERR_INVALID_TIME: 1 of 3 entries rejected; the other 2 were stored/);
    const kept = await searchAll(s.url, readToken, { service: 'loki-mixed', ...FROM });
    expect(kept.map((e) => e.message).sort()).toEqual(['bad ts', 'kept']);
    const noToken = await fetch(`${s.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(noToken.status).toBe(401);
    expect(await noToken.text()).toMatch(/^SLUICE_ERR_UNAUTHORIZED: /);
  });

  it('answers the label routes from what is stored (scope read)', async () => {
    const q = `start=${t.ns(-86_400_000)}&end=${t.ns(4 * 3_600_000)}`;
    const get = (path: string, token = readToken) => fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const labels = await get(`/loki/api/v1/labels?${q}`);
    expect(labels.status).toBe(200);
    const names = (await labels.json()) as { status: string; data: string[] };
    expect(names.status).toBe('success');
    expect(names.data).toEqual(expect.arrayContaining(['service_name', 'level', 'host', 'env', 'job']));
    const services = (await (await get(`/loki/api/v1/label/service_name/values?${q}`)).json()) as { data: string[] };
    expect(services.data).toEqual(expect.arrayContaining(['loki-proto', 'loki-pino', 'loki-misc']));
    const envs = (await (await get(`/loki/api/v1/label/env/values?${q}`)).json()) as { data: string[] };
    expect(envs.data).toEqual(['test']);
    expect((await get('/loki/api/v1/labels', ingestToken)).status).toBe(403);
  });
});

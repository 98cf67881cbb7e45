// The Elasticsearch-compatible root: _bulk with the official
// @elastic/elasticsearch client (bulk helper, ApiKey and Basic auth) and the
// probes shippers make, over a real socket into the real embedded engine.
import { Client } from '@elastic/elasticsearch';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/errors.js';
import { makeToken, searchAll, startServer, type TestServer } from '../helpers/server.js';
import { testTimes } from '../helpers/times.js';

let s: TestServer;
let ingestToken: string;
let readToken: string;

beforeAll(async () => {
  s = await startServer();
  ingestToken = await makeToken(s, 'ingest', 'es-app');
  readToken = await makeToken(s, 'read');
});
afterAll(async () => s.close());

// Events are stamped an hour or two back (testTimes) or now.
const FROM = { from: '1d' };
const t = testTimes();

async function bulk(body: string | Buffer, headers: Record<string, string> = {}, path = '/_bulk'): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ingestToken}`, 'content-type': 'application/x-ndjson', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as Record<string, unknown>, headers: res.headers };
}

describe('Elasticsearch _bulk', () => {
  it('stores what the official client bulk helper sends (ApiKey), ECS fields mapped', async () => {
    const client = new Client({ node: s.url, auth: { apiKey: ingestToken } });
    const info = await client.info();
    expect(info.version.number).toMatch(/^8\./);
    const docs = [
      { '@timestamp': t.iso(123), message: 'hello', 'log.level': 'info', service: { name: 'es-helper' }, host: { name: 'es-host' }, http: { status: 200 } },
      { '@timestamp': t.iso(1000), message: 'world', log: { level: 'warn' }, 'service.name': 'es-helper', trace: { id: 'abc' } },
      { '@timestamp': t.iso(2000), message: 'crash', 'log.level': 'error', 'service.name': 'es-helper', error: { type: 'TypeError' } },
    ];
    const result = await client.helpers.bulk({ datasource: docs, onDocument: () => ({ create: { _index: 'logs-app' } }), refreshOnCompletion: false });
    expect(result).toMatchObject({ total: 3, successful: 3, failed: 0 });
    await client.close();
    const events = await searchAll(s.url, readToken, { service: 'es-helper', ...FROM });
    expect(events).toHaveLength(3);
    const by = Object.fromEntries(events.map((e) => [e.message, e]));
    expect(by.hello).toMatchObject({ level: 'info', host: 'es-host', time: t.rfc(123), source: 'es-app', attributes: { 'http.status': '200', _index: 'logs-app' } });
    expect(by.world).toMatchObject({ level: 'warn', trace_id: 'abc' });
    expect(by.crash).toMatchObject({ level: 'error', attributes: { 'error.type': 'TypeError' } });
  });

  it('takes client.bulk with Basic auth and an index in the path; one item per action, in order', async () => {
    const client = new Client({ node: s.url, auth: { username: 'elastic', password: ingestToken } });
    const res = await client.bulk({
      index: 'path-index',
      operations: [
        { index: { _id: 'x1' } }, { message: 'first', service: 'es-basic', level: 'debug' },
        { create: { _index: 'other' } }, { message: 'second', service: 'es-basic' },
        { delete: { _id: 'x1' } },
      ],
    });
    await client.close();
    expect(res.errors).toBe(true);
    expect(res.items.map((it) => Object.keys(it)[0])).toEqual(['index', 'create', 'delete']);
    expect(res.items[0]!.index).toMatchObject({ _index: 'path-index', _id: 'x1', status: 201, result: 'created' });
    expect(res.items[1]!.create).toMatchObject({ _index: 'other', status: 201 });
    expect(res.items[2]!.delete).toMatchObject({ status: 400, error: { type: 'action_request_validation_exception' } });
    const events = await searchAll(s.url, readToken, { service: 'es-basic', ...FROM });
    expect(events.map((e) => [e.message, (e.attributes as Record<string, string>)._index]).sort()).toEqual([['first', 'path-index'], ['second', 'other']]);
    expect(events.find((e) => e.message === 'first')).toMatchObject({ level: 'debug' });
  });

  it('takes what rsyslog sends: application/json, _type, blank lines, \\r\\n; and gzip', async () => {
    const body = `{"index":{"_index":"syslog","_type":"events"}}\n{"@timestamp":"${t.iso()}","host":"r1","severity":"err","syslogtag":"sshd[1]:","message":"denied","service":"es-rsyslog"}\n\n` +
      `{"index":{"_index":"syslog","_type":"events"}}\r\n{"@timestamp":"${t.iso(1000)}","host":"r1","severity":"info","message":"ok","service":"es-rsyslog"}\r\n`;
    const res = await bulk(body, { 'content-type': 'application/json; charset=utf-8' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(res.json).toMatchObject({ errors: false, items: [{ index: { status: 201 } }, { index: { status: 201 } }] });
    const gz = await bulk(gzipSync('{"create":{}}\n{"message":"zipped","service":"es-rsyslog"}\n'), { 'content-encoding': 'gzip' });
    expect(gz.json).toMatchObject({ errors: false });
    const events = await searchAll(s.url, readToken, { service: 'es-rsyslog', ...FROM });
    const by = Object.fromEntries(events.map((e) => [e.message, e]));
    expect(events).toHaveLength(3);
    expect(by.denied).toMatchObject({ level: 'error', host: 'r1', attributes: { syslogtag: 'sshd[1]:', _index: 'syslog' } });
    expect(by.ok).toMatchObject({ level: 'info' });
  });

  it('answers compact JSON, per-item errors for bad documents, and keeps their valid neighbours', async () => {
    const body = ['{"index":{}}', '{"message":"good","service":"es-mixed"}', '{"index":{}}', '{"message": broken', '{"create":{}}', '[1,2]', '{"index":{}}', '{"message":"bad time","time":"yesterday","service":"es-mixed"}', '{"create":{}}', '{"message":"also good","service":"es-mixed"}', ''].join('\n');
    const res = await fetch(`${s.url}/_bulk`, { method: 'POST', headers: { authorization: `Bearer ${ingestToken}`, 'content-type': 'application/x-ndjson' }, body });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toMatch(/^\{"took":\d+,"errors":true,"items":\[/);
    const json = JSON.parse(text) as { items: Array<Record<string, { status: number; error?: { sluice_code: string } }>> };
    expect(json.items.map((it) => Object.values(it)[0]!.status)).toEqual([201, 400, 400, 400, 201]);
    expect(json.items.map((it) => Object.values(it)[0]!.error?.sluice_code)).toEqual([undefined, 'SLUICE_ERR_MALFORMED_JSON', 'SLUICE_ERR_INVALID_EVENT', 'SLUICE_ERR_INVALID_TIME', undefined]);
    const events = await searchAll(s.url, readToken, { service: 'es-mixed', ...FROM });
    expect(events.map((e) => e.message).sort()).toEqual(['also good', 'good']);
  });

  it('refuses a broken request in the Elasticsearch error shape', async () => {
    const badAction = await bulk('{"index":\n{"message":"x"}\n');
    expect(badAction.status).toBe(400);
    expect(badAction.json).toMatchObject({ status: 400, error: { type: 'illegal_argument_exception', sluice_code: 'SLUICE_ERR_MALFORMED_JSON', root_cause: [{ sluice_code: 'SLUICE_ERR_MALFORMED_JSON' }] } });
    const unknown = await bulk('{"upsert":{}}\n{}\n');
    expect(unknown).toMatchObject({ status: 400, json: { error: { sluice_code: 'SLUICE_ERR_VALIDATION', reason: expect.stringMatching(/unknown action \[upsert\]/) } } });
    const missingSource = await bulk('{"index":{}}\n');
    expect(missingSource.status).toBe(400);
    const badType = await bulk('{"index":{}}\n{}\n', { 'content-type': 'text/csv' });
    expect(badType).toMatchObject({ status: 415, json: { error: { sluice_code: 'SLUICE_ERR_UNSUPPORTED_MEDIA_TYPE' } } });
    const noToken = await fetch(`${s.url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"index":{}}\n{}\n' });
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(await noToken.json()).toMatchObject({ status: 401, error: { type: 'security_exception', sluice_code: 'SLUICE_ERR_UNAUTHORIZED' } });
    const badKey = await bulk('{"index":{}}\n{}\n', { authorization: `ApiKey ${Buffer.from('id:nope').toString('base64')}` });
    expect(badKey.status).toBe(401);
    const encodedKey = await bulk('{"index":{}}\n{"message":"keyed","service":"es-key"}\n', { authorization: `ApiKey ${Buffer.from(`id:${ingestToken}`).toString('base64')}` });
    expect(encodedKey.json).toMatchObject({ errors: false });
  });

  it('answers the whole request 429 + Retry-After under backpressure, so every shipper retries it', async () => {
    const batcher = s.ctx.batcher;
    const submit = batcher.submit.bind(batcher);
    batcher.submit = () => Promise.reject(new SluiceError('SLUICE_ERR_OVERLOADED', undefined, { retryAfter: 1 }));
    try {
      const res = await bulk('{"index":{}}\n{"message":"busy","service":"es-busy"}\n');
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.json).toMatchObject({ status: 429, error: { type: 'es_rejected_execution_exception', sluice_code: 'SLUICE_ERR_OVERLOADED' } });
    } finally {
      batcher.submit = submit;
    }
  });

  it('answers the probes shippers make, and leaves other routes alone', async () => {
    const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(`${s.url}${path}`, { method, headers });
    const root = await get('/');
    expect(root.status).toBe(200);
    expect(root.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(await root.json()).toMatchObject({ cluster_name: 'sluice', version: { number: expect.stringMatching(/^8\./), build_flavor: 'default' }, tagline: 'You Know, for Search' });
    const head = await get('/', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('x-elastic-product')).toBe('Elasticsearch');
    const browser = await get('/', { accept: 'text/html,application/xhtml+xml' });
    // A browser gets the web app's page, not cluster info.
    expect(browser.status).toBe(200);
    expect(browser.headers.get('content-type')).toMatch(/^text\/html/);
    expect(browser.headers.get('x-elastic-product')).toBeNull();
    expect(await (await get('/_cluster/health')).json()).toMatchObject({ status: 'green' });
    const cat = await get('/_cat/health');
    expect(cat.status).toBe(200);
    expect(await cat.text()).toMatch(/^\d+ \d\d:\d\d:\d\d sluice green /);
    expect((await get('/_cat/health', {}, 'HEAD')).status).toBe(200);
    expect((await get('/_index_template/filebeat-8', {}, 'HEAD')).status).toBe(200);
    expect((await get('/logs/_refresh')).status).toBe(200);
    expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await get('/readyz')).status).toBe(200);
    expect((await get('/metrics')).status).toBe(200);
    const other = await get('/no/such/path');
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ code: 'SLUICE_ERR_NOT_FOUND' });
  });
});

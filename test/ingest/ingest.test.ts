// POST /api/v1/ingest over a real socket into the real embedded engine.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, makeToken, ndjson, search, searchAll, startServer, type TestServer } from '../helpers/server.js';
import { testTimes } from '../helpers/times.js';

const t = testTimes();
const WINDOW = t.range(-3_600_000, 3 * 3_600_000);

let s: TestServer;
let ingestToken: string;
let readToken: string;

beforeAll(async () => {
  s = await startServer();
  ingestToken = await makeToken(s, 'ingest', 'web-app');
  readToken = await makeToken(s, 'read');
});
afterAll(async () => s.close());

describe('ingest formats', () => {
  it('stores NDJSON and maps the fields of common loggers', async () => {
    const rows = [
      { level: 50, time: t.ms(123), msg: 'pino error', pid: 12, hostname: 'box-1', service: 'fmt-ndjson', req: { id: 'r1', method: 'GET' } },
      { severity: 'WARNING', timestamp: t.rfc(3_600_000, 123_456_789n), message: 'gcp warn', app: 'fmt-ndjson' },
      { lvl: 'dbg', ts: t.sec(500), msg: 'logfmt-ish', service: 'fmt-ndjson', trace_id: 'abc', span_id: 'def' },
      { '@timestamp': t.iso(3_601_000), 'log.level': 'error', message: 'ecs', service: { name: 'fmt-ndjson' }, host: { name: 'h2' } },
    ];
    const res = await ingest(s.url, ingestToken, ndjson(rows));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accepted: 4, rejected: 0, errors: [] });
    const events = await searchAll(s.url, readToken, { service: 'fmt-ndjson', ...WINDOW });
    const by = Object.fromEntries(events.map((e) => [e.message, e]));
    expect(by['pino error']).toMatchObject({
      level: 'error', severity: 17, host: 'box-1', time: t.rfc(123), source: 'web-app',
      attributes: { pid: '12', 'req.id': 'r1', 'req.method': 'GET' },
    });
    expect(by['gcp warn']).toMatchObject({ level: 'warn', severity: 13, time: t.rfc(3_600_000, 123_456_789n) });
    expect(by['logfmt-ish']).toMatchObject({ level: 'debug', trace_id: 'abc', span_id: 'def', time: t.rfc(500) });
    expect(by.ecs).toMatchObject({ level: 'error', host: 'h2', service: 'fmt-ndjson' });
    for (const e of events) expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });

  it('stores a JSON object and a JSON array', async () => {
    const one = await ingest(s.url, ingestToken, JSON.stringify({ msg: 'single', service: 'fmt-json' }), { 'content-type': 'application/json' });
    expect(one.body).toMatchObject({ accepted: 1, rejected: 0 });
    const many = await ingest(s.url, ingestToken, JSON.stringify([{ msg: 'a', service: 'fmt-json' }, { msg: 'b', service: 'fmt-json' }, 42]), {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(many.status).toBe(200);
    expect(many.body).toMatchObject({ accepted: 2, rejected: 1, errors: [{ index: 2, code: 'SLUICE_ERR_INVALID_EVENT' }] });
    const events = await searchAll(s.url, readToken, { service: 'fmt-json' });
    expect(events.map((e) => e.message).sort()).toEqual(['a', 'b', 'single']);
  });

  it('parses text lines: JSON, logfmt, and plain text with a level marker', async () => {
    const body = [
      '{"msg":"json line","level":"warn"}',
      'level=error msg="logfmt line" status=500 path=/x',
      '2026-11-22 05:00:00 ERROR something broke', // a date in the text is only text
      'just words',
    ].join('\n');
    const res = await ingest(s.url, ingestToken, body, { 'content-type': 'text/plain' });
    expect(res.body).toMatchObject({ accepted: 4, rejected: 0 });
    const events = await searchAll(s.url, readToken, { service: 'fmt-text' }).catch(() => []);
    expect(events).toEqual([]); // service comes from the query string, not guessed
    const res2 = await fetch(`${s.url}/api/v1/ingest?service=fmt-text&host=h9`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${ingestToken}` },
      body,
    });
    expect(res2.status).toBe(200);
    const stored = await searchAll(s.url, readToken, { service: 'fmt-text' });
    const by = Object.fromEntries(stored.map((e) => [e.message, e]));
    expect(by['json line']).toMatchObject({ level: 'warn', host: 'h9' });
    expect(by['logfmt line']).toMatchObject({ level: 'error', attributes: { status: '500', path: '/x' } });
    expect(by['2026-11-22 05:00:00 ERROR something broke']).toMatchObject({ level: 'error' });
    expect(by['just words']).toMatchObject({ level: 'info' });
  });

  it('gives text lines the read times, sources and attributes of X-Sluice-Line-Meta, and keeps what a line says itself', async () => {
    const t0 = t.ms(3_600_000);
    const meta = {
      v: 1, t0,
      runs: [[0, 0, -1], [2, 7, 0, 998], [4, 7, 1]],
      tags: [{ stream: 'stderr' }, { file: '/var/log/\u00e9t\u00e9.log' }],
      attrs: { region: 'eu', stream: 'never-wins' },
      service: 'fmt-meta', host: 'meta-host',
    };
    const body = ['first', 'second', `{"msg":"json has its time","time":"${t.iso()}","region":"us"}`, 'level=warn msg="logfmt on stderr"', '', 'after a blank line'].join('\n');
    const post = (headers: Record<string, string>, b: string = body) =>
      fetch(`${s.url}/api/v1/ingest?service=ignored`, { method: 'POST', headers: { authorization: `Bearer ${ingestToken}`, ...headers }, body: b });
    const res = await post({ 'content-type': 'text/plain', 'x-sluice-line-meta': JSON.stringify(meta) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 5, rejected: 0 });
    const by = Object.fromEntries((await searchAll(s.url, readToken, { service: 'fmt-meta', ...WINDOW })).map((e) => [e.message, e]));
    expect(by.first).toMatchObject({ time: t.rfc(3_600_000), host: 'meta-host', attributes: { region: 'eu', stream: 'never-wins' } });
    expect(by.second).toMatchObject({ time: t.rfc(3_600_000, 1n) });
    expect(by['json has its time']).toMatchObject({ time: t.rfc(), attributes: { region: 'us', stream: 'stderr' } });
    expect(by['logfmt on stderr']).toMatchObject({ level: 'warn', time: t.rfc(3_600_007, 999n), attributes: { stream: 'stderr' } });
    // Line 4 is blank: not an event, but it counts, so line 5 is the third run's second line.
    expect(by['after a blank line']).toMatchObject({ time: t.rfc(3_600_007, 1n), attributes: { file: '/var/log/été.log', region: 'eu' } });

    for (const [bad, code] of [
      ['{"v":2}', 'SLUICE_ERR_INVALID_LINE_META'],
      ['not json', 'SLUICE_ERR_INVALID_LINE_META'],
      [JSON.stringify({ v: 1, runs: [[0, 0, -1]] }), 'SLUICE_ERR_INVALID_LINE_META'],
      [JSON.stringify({ v: 1, t0, runs: [[0, 0, 3]] }), 'SLUICE_ERR_INVALID_LINE_META'],
      [JSON.stringify({ v: 1, t0, runs: [[5, 0, -1], [1, 0, -1]] }), 'SLUICE_ERR_INVALID_LINE_META'],
    ] as const) {
      const r = await post({ 'content-type': 'text/plain', 'x-sluice-line-meta': bad });
      expect(r.status, bad).toBe(400);
      expect(((await r.json()) as { code: string }).code).toBe(code);
    }
    const ndjsonWithMeta = await post({ 'content-type': 'application/x-ndjson', 'x-sluice-line-meta': '{"v":1}' }, '{"msg":"x"}');
    expect(ndjsonWithMeta.status).toBe(400);
    expect(((await ndjsonWithMeta.json()) as { code: string }).code).toBe('SLUICE_ERR_INVALID_LINE_META');
  });

  it('takes gzip bodies', async () => {
    const body = gzipSync(ndjson(Array.from({ length: 300 }, (_, i) => ({ msg: `gz ${i}`, service: 'fmt-gzip' }))));
    const res = await ingest(s.url, ingestToken, body, { 'content-encoding': 'gzip' });
    expect(res.body).toMatchObject({ accepted: 300 });
    expect(await searchAll(s.url, readToken, { service: 'fmt-gzip' })).toHaveLength(300);
  });

  it('keeps an event older than the retention at the received time, with its own time as an attribute', async () => {
    const res = await ingest(s.url, ingestToken, ndjson([{ msg: 'ancient', time: '2001-01-01T00:00:00Z', service: 'fmt-old' }]));
    expect(res.body).toMatchObject({ accepted: 1 });
    const [e] = await searchAll(s.url, readToken, { service: 'fmt-old', from: '1h' });
    expect(e).toMatchObject({ message: 'ancient', attributes: { original_time: '2001-01-01T00:00:00.000000000Z' } });
    expect(e!.time).toBe(e!.received_at);
  });

  it('uses the received time when an event has none', async () => {
    const before = Date.now();
    await ingest(s.url, ingestToken, ndjson([{ msg: 'no time', service: 'fmt-notime' }]));
    const [e] = (await search(s.url, readToken, { service: 'fmt-notime' })).events;
    const t = Date.parse(String(e!.time));
    expect(t).toBeGreaterThanOrEqual(before - 1);
    expect(t).toBeLessThanOrEqual(Date.now());
    expect(e!.time).toBe(e!.received_at);
  });
});

describe('bad input', () => {
  const post = (body: string | Buffer, headers: Record<string, string> = {}) => ingest(s.url, ingestToken, body, headers);

  it('reports malformed lines by index and stores the valid ones beside them', async () => {
    const res = await post('{"msg":"ok 1","service":"bad-mixed"}\n{nope\n\n{"msg":"ok 2","service":"bad-mixed"}\n[1,2]\n');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      accepted: 2,
      rejected: 2,
      errors: [
        { index: 1, code: 'SLUICE_ERR_MALFORMED_JSON' },
        { index: 4, code: 'SLUICE_ERR_INVALID_EVENT' },
      ],
    });
    expect(await searchAll(s.url, readToken, { service: 'bad-mixed' })).toHaveLength(2);
  });

  it('answers 400 with the code when nothing is valid', async () => {
    const res = await post('{nope\n{"a":\n');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'SLUICE_ERR_MALFORMED_JSON', accepted: 0, rejected: 2 });
    const json = await post('{"msg": ', { 'content-type': 'application/json' });
    expect(json.status).toBe(400);
    expect(json.body.code).toBe('SLUICE_ERR_MALFORMED_JSON');
  });

  it('refuses an empty body', async () => {
    const res = await post('\n\n');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('SLUICE_ERR_EMPTY_BODY');
  });

  it('refuses a wrong content type with 415', async () => {
    const res = await post('<xml/>', { 'content-type': 'application/xml' });
    expect(res.status).toBe(415);
    expect(res.body.code).toBe('SLUICE_ERR_UNSUPPORTED_MEDIA_TYPE');
    const enc = await post('x', { 'content-encoding': 'br' });
    expect(enc.status).toBe(415);
    expect(enc.body.code).toBe('SLUICE_ERR_UNSUPPORTED_ENCODING');
  });

  it('refuses a body over the size limit with 413', async () => {
    const big = 'x'.repeat(s.config.limits.maxBodyBytes + 10);
    const res = await post(big, { 'content-type': 'text/plain' });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('SLUICE_ERR_BODY_TOO_LARGE');
  });

  it('refuses gzip that expands past the limit, and broken gzip', async () => {
    const bomb = gzipSync(Buffer.alloc(s.config.limits.maxDecompressedBytes + 1024, 0x20));
    expect(bomb.length).toBeLessThan(s.config.limits.maxBodyBytes);
    const res = await post(bomb, { 'content-encoding': 'gzip', 'content-type': 'text/plain' });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('SLUICE_ERR_DECOMPRESSED_TOO_LARGE');
    const broken = await post(Buffer.from('definitely not gzip'), { 'content-encoding': 'gzip' });
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe('SLUICE_ERR_BAD_GZIP');
  });

  it('rejects a line over the line limit on its own', async () => {
    const long = JSON.stringify({ msg: 'y'.repeat(s.config.limits.maxLineBytes), service: 'bad-long' });
    const res = await post(`${long}\n{"msg":"short","service":"bad-long"}\n`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 1, rejected: 1, errors: [{ index: 0, code: 'SLUICE_ERR_LINE_TOO_LARGE' }] });
  });

  it('rejects events with too many attributes or an unreadable time', async () => {
    const attrs = Object.fromEntries(Array.from({ length: s.config.limits.maxAttributes + 1 }, (_, i) => [`k${i}`, i]));
    const res = await post(ndjson([{ msg: 'wide', ...attrs }, { msg: 'bad time', time: 'yesterday-ish' }, { msg: 'fine', service: 'bad-attrs' }]));
    expect(res.body).toMatchObject({
      accepted: 1,
      rejected: 2,
      errors: [
        { index: 0, code: 'SLUICE_ERR_TOO_MANY_ATTRIBUTES' },
        { index: 1, code: 'SLUICE_ERR_INVALID_TIME' },
      ],
    });
  });

  it('survives invalid UTF-8, NUL bytes and binary garbage', async () => {
    const garbage = Buffer.concat([Buffer.from('{"msg":"nul\\u0000byte","service":"bad-bin"}\n'), Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x0a]), Buffer.from('plain \xff\n', 'latin1')]);
    const res = await post(garbage, { 'content-type': 'text/plain' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 3, rejected: 0 });
    const stored = await searchAll(s.url, readToken, { service: 'bad-bin' });
    expect(stored.map((e) => e.message)).toContain('nul\u0000byte');
  });

  it('refuses an invalid Idempotency-Key', async () => {
    const res = await post(ndjson([{ msg: 'k' }]), { 'idempotency-key': 'has space' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('SLUICE_ERR_INVALID_IDEMPOTENCY_KEY');
  });

  it('answers unknown routes with 404 and a code', async () => {
    const res = await fetch(`${s.url}/api/v1/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'SLUICE_ERR_NOT_FOUND' });
  });
});

describe('metrics', () => {
  it('counts accepted and rejected events and insert sizes', async () => {
    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/sluice_events_accepted_total\{source="web-app"\} \d+/);
    expect(text).toMatch(/sluice_events_rejected_total\{code="SLUICE_ERR_MALFORMED_JSON"\} [1-9]/);
    expect(text).toMatch(/sluice_insert_rows_count [1-9]/);
    expect(text).toContain('sluice_batcher_bytes');
  });
});

// Heroku HTTPS drains: byte-exact logplex-1 bodies over a real socket into
// the real embedded engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/errors.js';
import { splitFrames } from '../../src/ingest/logplex.js';
import { makeToken, searchAll, startServer, type TestServer } from '../helpers/server.js';
import { testTimes } from '../helpers/times.js';

const t = testTimes();

let s: TestServer;
let ingestToken: string;
let readToken: string;

beforeAll(async () => {
  s = await startServer();
  ingestToken = await makeToken(s, 'ingest', 'heroku-app');
  readToken = await makeToken(s, 'read');
});
afterAll(async () => s.close());

// PROTOCOLS.md §1, byte for byte: two 70-byte frames (69 visible + LF).
const README_BODY = '70 <174>1 2012-07-22T00:06:26+00:00 host erlang console - Hi from erlang\n'.repeat(2);

function frame(line: string): string {
  return `${Buffer.byteLength(line)} ${line}`;
}

function basic(token: string, user = 'heroku'): string {
  return 'Basic ' + Buffer.from(`${user}:${token}`).toString('base64');
}

async function drain(body: string | Buffer, headers: Record<string, string> = {}, query = ''): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${s.url}/api/v1/drains/logplex${query}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/logplex-1',
      authorization: basic(ingestToken),
      'user-agent': 'Logplex/v49',
      'logplex-drain-token': 'd.fc6b856b-3332-4546-93de-7d0ee272c3bd',
      ...headers,
    },
    body,
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('logplex drain', () => {
  it('stores the README sample body exactly (Basic auth, token as password)', async () => {
    expect(Buffer.byteLength(README_BODY)).toBe(146);
    const res = await drain(README_BODY, { 'logplex-msg-count': '2', 'logplex-frame-id': '09C557EAFCFB6CF2740EE62F62971098' }, '?service=readme');
    expect(res.status).toBe(200);
    expect(res.text).toBe('stored 2\n');
    const events = await searchAll(s.url, readToken, { service: 'readme', from: '2012-07-01T00:00:00Z' });
    expect(events).toHaveLength(2);
    for (const e of events) {
      // 2012 is older than the retention: filed at its received time, the original kept.
      expect(e).toMatchObject({
        message: 'Hi from erlang', host: 'console', level: 'info', severity: 9, source: 'heroku-app',
        attributes: { 'heroku.source': 'erlang', 'heroku.dyno': 'console', 'heroku.process_type': 'console', 'syslog.facility': 'local5', original_time: '2012-07-22T00:06:26.000000000Z' },
      });
    }
  });

  it('stores a retried Logplex-Frame-Id once', async () => {
    const body = frame(`<190>1 ${t.iso(123).slice(0, 23)}456+00:00 host app web.1 - retried line\n`);
    const headers = { 'logplex-msg-count': '1', 'logplex-frame-id': 'A1B2C3D4E5F60718293A4B5C6D7E8F90' };
    expect((await drain(body, headers, '?service=retry')).status).toBe(200);
    expect((await drain(body, headers, '?service=retry')).status).toBe(200);
    const events = await searchAll(s.url, readToken, { service: 'retry', from: '1d' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ message: 'retried line', host: 'web.1', time: t.rfc(123, 456_000n), attributes: { 'heroku.source': 'app', 'heroku.process_type': 'web' } });
  });

  it('maps app and router lines; router key=value pairs become attributes', async () => {
    const now = new Date().toISOString().replace('Z', '+00:00');
    const router = `at=error code=H12 desc="Request timeout" method=GET path="/slow" host=myapp.herokuapp.com request_id=8601b555-6a83-4c12-8269-97c8e32cdb22 fwd="204.204.204.204" dyno=web.1 connect=0ms service=30000ms status=503 bytes=0 protocol=https`;
    const body = [
      frame(`<158>1 ${now} host heroku router - ${router}\n`),
      frame(`<190>1 ${now} host app web.2 - Listening on port 5000\n`),
      frame(`<187>1 ${now} host app worker.1 - boom: something failed\n`),
      frame(`<45>1 ${now} host heroku web.1 - State changed from starting to up\n`),
    ].join('');
    const res = await drain(body, { 'logplex-msg-count': '4' }, '?service=myapp');
    expect(res.status).toBe(200);
    const events = await searchAll(s.url, readToken, { service: 'myapp' });
    expect(events).toHaveLength(4);
    const by = Object.fromEntries(events.map((e) => [String(e.host), e]));
    expect(by.router).toMatchObject({
      level: 'error', message: router,
      attributes: { 'heroku.source': 'heroku', at: 'error', code: 'H12', desc: 'Request timeout', method: 'GET', path: '/slow', host: 'myapp.herokuapp.com', status: '503', fwd: '204.204.204.204', dyno: 'web.1', service: '30000ms' },
    });
    expect(by['web.2']).toMatchObject({ level: 'info', message: 'Listening on port 5000', attributes: { 'heroku.source': 'app', 'heroku.dyno': 'web.2', 'syslog.facility': 'local7' } });
    expect(by['worker.1']).toMatchObject({ level: 'error', attributes: { 'heroku.process_type': 'worker' } });
    expect(by['web.1']).toMatchObject({ level: 'info', severity: 10, message: 'State changed from starting to up', attributes: { 'heroku.source': 'heroku' } });
  });

  it('takes APP-NAME as the service without ?service=, and the labs layout', async () => {
    const now = new Date().toISOString();
    const body = frame(`<190>1 ${now} host lonely-app web.1 - no service param\n`) +
      frame(`<40>1 ${now} heroku web.3 d.73ea7440-270a-435a-a0ea-adf50b4e5f5a - State changed from up to down\n`);
    expect((await drain(body)).status).toBe(200);
    expect(await searchAll(s.url, readToken, { service: 'lonely-app' })).toMatchObject([{ message: 'no service param', host: 'web.1' }]);
    const labs = await searchAll(s.url, readToken, { service: 'heroku' });
    expect(labs).toMatchObject([{ message: 'State changed from up to down', host: 'web.3', level: 'fatal', attributes: { 'heroku.source': 'heroku', 'heroku.dyno': 'web.3' } }]);
    expect(JSON.stringify(labs)).not.toContain('73ea7440');
  });

  it('stores what parsed on a Logplex-Msg-Count mismatch, answers 2xx and counts it', async () => {
    const before = await metric('sluice_logplex_msg_count_mismatch_total');
    const body = frame(`<190>1 ${new Date().toISOString()} host app web.1 - one of three\n`);
    const res = await drain(body, { 'logplex-msg-count': '3' }, '?service=mismatch');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Logplex-Msg-Count says 3 but the body holds 1');
    expect(await searchAll(s.url, readToken, { service: 'mismatch' })).toHaveLength(1);
    expect(await metric('sluice_logplex_msg_count_mismatch_total')).toBe(before + 1);
  });

  it('stores every valid frame around truncated and wrong-length frames', async () => {
    const now = new Date().toISOString();
    const ok = (n: number) => frame(`<190>1 ${now} host app web.1 - valid ${n}\n`);
    const bad = `<190>1 ${now} host app web.1 - wrong length\n`;
    const tooShort = `${Buffer.byteLength(bad) - 5} ${bad}`;
    const tooLong = `${Buffer.byteLength(bad) + 7} ${bad}`;
    const cut = ok(9).slice(0, 30);
    const body = ok(1) + tooShort + ok(2) + 'garbage here ' + ok(3) + tooLong + ok(4) + cut;
    const res = await drain(body, { 'logplex-msg-count': '8' }, '?service=frames');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^stored 4; 4 invalid: frame 2 at byte \d+: the frame declares \d+ bytes, which do not end where its message does/);
    const events = await searchAll(s.url, readToken, { service: 'frames' });
    expect(events.map((e) => e.message).sort()).toEqual(['valid 1', 'valid 2', 'valid 3', 'valid 4']);
  });

  it('refuses a body with no valid frame (400, text) and needs a token', async () => {
    const res = await drain('this is not logplex', {}, '?service=none');
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/^SLUICE_ERR_INVALID_FRAME: no frame was valid/);
    const anon = await fetch(`${s.url}/api/v1/drains/logplex`, { method: 'POST', headers: { 'content-type': 'application/logplex-1' }, body: README_BODY });
    expect(anon.status).toBe(401);
    const bearer = await drain(frame(`<190>1 ${new Date().toISOString()} host app web.1 - bearer works\n`), { authorization: `Bearer ${ingestToken}` }, '?service=bearer');
    expect(bearer.status).toBe(200);
    const wrongScope = await drain(README_BODY, { authorization: basic(readToken) });
    expect(wrongScope.status).toBe(403);
  });

  it('answers 503 with Retry-After, never 4xx, when the batcher is full', async () => {
    // The batcher refuses as it does when its byte budget is spent.
    const batcher = s.ctx.batcher as { submit: typeof s.ctx.batcher.submit };
    const original = batcher.submit;
    batcher.submit = () => Promise.reject(new SluiceError('SLUICE_ERR_OVERLOADED', undefined, { retryAfter: 1 }));
    try {
      const res = await drain(frame(`<190>1 ${new Date().toISOString()} host app web.1 - overloaded\n`), {}, '?service=overload');
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.text).toMatch(/^SLUICE_ERR_OVERLOADED: /);
    } finally {
      batcher.submit = original;
    }
  });
});

describe('splitFrames', () => {
  it('splits the sample and reports nothing', () => {
    const r = splitFrames(Buffer.from(README_BODY), 1024);
    expect(r.problems).toEqual([]);
    expect(r.frames.map((f) => f.toString())).toEqual([README_BODY.slice(3, 73), README_BODY.slice(76)]);
  });

  it('reports a frame longer than the line limit and keeps its neighbours', () => {
    const big = frame(`<190>1 - host app web.1 - ${'x'.repeat(500)}\n`);
    const small = frame('<190>1 - host app web.1 - small\n');
    const r = splitFrames(Buffer.from(small + big + small), 300);
    expect(r.frames).toHaveLength(2);
    expect(r.problems).toMatchObject([{ frame: 2, message: expect.stringContaining('longer than SLUICE_MAX_LINE_BYTES') }]);
  });

  it('counts multi-byte characters as bytes', () => {
    const line = '<190>1 - host app web.1 - héllo wörld ✓\n';
    const r = splitFrames(Buffer.from(frame(line) + frame(line)), 1024);
    expect(r.problems).toEqual([]);
    expect(r.frames.map((f) => f.toString('utf8'))).toEqual([line, line]);
  });
});

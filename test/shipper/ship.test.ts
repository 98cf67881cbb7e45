// `sluice ship` end to end with a real `sluice serve`: every line exactly
// once, through steady streams, a kill -9 of the server, an outage carried
// by the spool, and a proxy that loses responses.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, searchAll, spawnServer, tempDir, testEnv, type ChildServer } from '../helpers/server.js';
import { ship, write } from '../helpers/ship.js';
import { testTimes } from '../helpers/times.js';

const t = testTimes();

const ADMIN = `admin-${randomUUID()}`;
let env: Record<string, string>;
let server: ChildServer;

beforeAll(async () => {
  env = testEnv({ SLUICE_ADMIN_TOKEN: ADMIN });
  expect((await runCli(['migrate'], env)).code).toBe(0);
  server = await spawnServer(env);
});
afterAll(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
});

/** A port nothing listens on: reserve one, then free it. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  return port;
}

const shipEnv = (url: string) => ({ SLUICE_URL: url, SLUICE_TOKEN: ADMIN });
const lines = (tag: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${tag} line ${from + i}`).join('\n') + '\n';

async function stored(url: string, service: string): Promise<string[]> {
  return (await searchAll(url, ADMIN, { service, order: 'asc', from: '1h' })).map((e) => String(e.message));
}

function expectExactlyOnce(got: string[], tag: string, n: number): void {
  expect(got.length).toBe(n);
  expect(new Set(got).size).toBe(n);
  const nums = got.map((m) => Number(m.split(' ').at(-1)));
  expect(nums.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  expect(got.every((m) => m.startsWith(tag))).toBe(true);
}

describe('pipe mode', () => {
  it('passes every line through unchanged and ships each exactly once, in order', async () => {
    const run = ship(['--service', 'ship-steady', '--spool-dir', tempDir(), '--stats'], shipEnv(server.url));
    const text = lines('steady', 0, 20_000);
    await write(run, text);
    run.child.stdin!.end();
    expect((await run.exited).code).toBe(0);
    expect(run.stdout()).toBe(text);
    expect(run.stderr()).toMatch(/read 20000 lines, sent 20000, spooled 0, dropped 0/);
    const got = await stored(server.url, 'ship-steady');
    expectExactlyOnce(got, 'steady', 20_000);
    // In order: one stream, asc by time.
    expect(got.map((m) => Number(m.split(' ').at(-1)))).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
  });

  it('parses JSON and logfmt lines, guesses levels, joins stack traces, cuts long lines, survives garbage', async () => {
    const run = ship(['--service', 'ship-shapes', '--spool-dir', tempDir(), '--attr', 'region=eu', '--max-line-bytes', '1000'], shipEnv(server.url));
    const trace = ['java.lang.IllegalStateException: boom', '\tat com.example.A.run(A.java:10)', '\tat com.example.B.go(B.java:20)', 'Caused by: java.io.IOException: disk', '\t... 3 more'].join('\n');
    const body = Buffer.concat([
      Buffer.from(`{"level":50,"msg":"pino error","time":${t.ms()},"pid":7}\n`),
      Buffer.from('level=warn msg="logfmt line" user=42\n'),
      // A date in the text is not parsed for the event's time: any will do.
      Buffer.from('2026-11-22 05:00:00 ERROR plain error\n'),
      Buffer.from(trace + '\n'),
      Buffer.from('x'.repeat(5000) + '\n'),
      Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x00, 0x21, 0x0a]),
      Buffer.from('after garbage\n'),
    ]);
    await write(run, body);
    run.child.stdin!.end();
    expect((await run.exited).code).toBe(0);
    expect(Buffer.from(run.stdout(), 'utf8').length).toBeGreaterThan(0);
    const events = await searchAll(server.url, ADMIN, { service: 'ship-shapes', ...t.range(-60_000, 4 * 3_600_000) });
    const by = (p: string) => events.find((e) => String(e.message).startsWith(p))!;
    expect(events).toHaveLength(7);
    expect(by('pino error')).toMatchObject({ level: 'error', time: t.rfc(), attributes: { pid: '7', region: 'eu' } });
    expect(by('logfmt line')).toMatchObject({ level: 'warn', attributes: { user: '42' } });
    expect(by('2026-11-22 05:00:00 ERROR')).toMatchObject({ level: 'error' });
    expect(by('java.lang.IllegalStateException').message).toBe(trace);
    expect(by('xxxx')).toMatchObject({ attributes: { 'sluice.truncated': 'true' } });
    expect(String(by('xxxx').message)).toHaveLength(1000);
    expect(by('bad')).toMatchObject({ attributes: { 'sluice.invalid_utf8': 'true' } });
    expect(by('after garbage')).toBeDefined();
  });
});

describe('faults', () => {
  it('loses nothing and stores nothing twice when serve is killed with -9 mid-stream and restarted', async () => {
    const myEnv = testEnv({ SLUICE_ADMIN_TOKEN: ADMIN });
    expect((await runCli(['migrate'], myEnv)).code).toBe(0);
    let s = await spawnServer(myEnv);
    const port = new URL(s.url).port;
    const run = ship(['--service', 'ship-kill', '--spool-dir', tempDir(), '--batch-lines', '500', '--flush-timeout', '60000', '--stats'], shipEnv(s.url));
    await write(run, lines('kill', 0, 5000));
    while ((await stored(s.url, 'ship-kill')).length < 5000) await new Promise((r) => setTimeout(r, 100));
    s.child.kill('SIGKILL');
    await s.exited;
    await write(run, lines('kill', 5000, 10_000)); // the server is down: these wait
    s = await spawnServer({ ...myEnv, PORT: port });
    await write(run, lines('kill', 10_000, 15_000));
    run.child.stdin!.end();
    expect((await run.exited).code).toBe(0);
    try {
      expectExactlyOnce(await stored(s.url, 'ship-kill'), 'kill', 15_000);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  it('carries an outage in the spool, across a restart of the shipper too', async () => {
    const myEnv = testEnv({ SLUICE_ADMIN_TOKEN: ADMIN });
    expect((await runCli(['migrate'], myEnv)).code).toBe(0);
    // A port that nothing listens on yet.
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const spool = tempDir();
    // The server is down for this whole run: everything goes to the spool.
    const first = ship(['--service', 'ship-outage', '--spool-dir', spool, '--flush-timeout', '200', '--stats'], shipEnv(url));
    await write(first, lines('outage', 0, 3000));
    first.child.stdin!.end();
    expect((await first.exited).code).toBe(0);
    expect(first.stderr()).toMatch(/sent 0, spooled 3000/);
    const firstEnded = Date.now();
    const s = await spawnServer({ ...myEnv, PORT: String(port) });
    try {
      const second = ship(['--service', 'ship-outage', '--spool-dir', spool, '--stats'], shipEnv(url));
      await write(second, lines('outage', 3000, 4000));
      second.child.stdin!.end();
      expect((await second.exited).code).toBe(0);
      expectExactlyOnce(await stored(s.url, 'ship-outage'), 'outage', 4000);
      // The spooled lines keep the time they were read, not the time they arrived.
      const events = await searchAll(s.url, ADMIN, { service: 'ship-outage', from: '1h' });
      const spooled = events.filter((e) => Number(String(e.message).split(' ').at(-1)) < 3000);
      expect(spooled).toHaveLength(3000);
      expect(spooled.every((e) => Date.parse(String(e.time)) <= firstEnded)).toBe(true);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  it('sends the NDJSON batches an earlier version left in the spool', async () => {
    const spool = tempDir();
    const records = [0, 1].map((i) => JSON.stringify({ msg: `legacy line ${i}`, time: new Date().toISOString(), service: 'ship-legacy' }));
    writeFileSync(join(spool, `000000000001-${randomUUID()}-2.ndjson.gz`), gzipSync(records.join('\n') + '\n'));
    const run = ship(['--service', 'ship-legacy', '--spool-dir', spool, '--stats'], shipEnv(server.url), 'ignore');
    expect((await run.exited).code).toBe(0);
    expect(run.stderr()).toMatch(/sent 2,/);
    expect((await stored(server.url, 'ship-legacy')).sort()).toEqual(['legacy line 0', 'legacy line 1']);
  });

  it('drops the oldest batches when the spool is full, and says so in an event', async () => {
    const myEnv = testEnv({ SLUICE_ADMIN_TOKEN: ADMIN });
    expect((await runCli(['migrate'], myEnv)).code).toBe(0);
    const port = await freePort();
    const spool = tempDir();
    const first = ship(['--service', 'ship-full', '--spool-dir', spool, '--batch-lines', '100', '--spool-max-bytes', '4000', '--flush-timeout', '200', '--stats'], shipEnv(`http://127.0.0.1:${port}`));
    // Random-ish text compresses badly, so a few batches fill 4000 bytes.
    await write(first, Array.from({ length: 2000 }, (_, i) => `full ${i} ${randomUUID()}`).join('\n') + '\n');
    first.child.stdin!.end();
    await first.exited;
    const dropped = Number(/dropped (\d+)/.exec(first.stderr())![1]);
    expect(dropped).toBeGreaterThan(0);
    const s = await spawnServer({ ...myEnv, PORT: String(port) });
    try {
      const second = ship(['--service', 'ship-full', '--spool-dir', spool], shipEnv(s.url));
      second.child.stdin!.end('full last line\n');
      await second.exited;
      const got = await searchAll(s.url, ADMIN, { service: 'ship-full', from: '1h' });
      const notice = got.find((e) => String(e.message).startsWith('sluice ship dropped'));
      expect(notice).toMatchObject({ level: 'warn', attributes: { 'sluice.dropped_lines': String(dropped) } });
      // What was not dropped arrived: 2000 lines - dropped + the last line + the notice.
      expect(got.length).toBe(2000 - dropped + 2);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  it('stores each line once through a proxy that loses responses, though the server sees retries', async () => {
    const upstream = new URL(server.url);
    const seen = new Map<string, number>();
    let n = 0;
    const proxy = createServer((req, res) => {
      const key = String(req.headers['idempotency-key']);
      seen.set(key, (seen.get(key) ?? 0) + 1);
      const lose = ++n % 3 === 0; // every third response never reaches the shipper
      const up = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (ur) => {
        ur.resume();
        ur.on('end', () => {
          if (lose) {
            req.socket.destroy();
            return;
          }
          res.writeHead(ur.statusCode ?? 502, { 'content-type': 'application/json' });
          res.end('{"accepted":0,"rejected":0,"errors":[]}');
        });
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const run = ship(['--service', 'ship-flaky', '--spool-dir', tempDir(), '--batch-lines', '200'], shipEnv(url));
      await write(run, lines('flaky', 0, 6000));
      run.child.stdin!.end();
      expect((await run.exited).code).toBe(0);
      expect([...seen.values()].some((c) => c > 1)).toBe(true); // retries of stored batches reached the server
      expectExactlyOnce(await stored(server.url, 'ship-flaky'), 'flaky', 6000);
    } finally {
      proxy.close();
    }
  });
});

// `sluice serve` as a user runs it: acknowledged events survive kill -9, a
// keyed retry after a crash is stored once, SIGTERM drains in-flight work.
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ingest, ndjson, runCli, searchAll, spawnServer, testEnv } from '../helpers/server.js';
import { patience } from '../helpers/times.js';

const ADMIN = `admin-${randomUUID()}`;

async function preparedEnv(): Promise<Record<string, string>> {
  const env = testEnv({ SLUICE_ADMIN_TOKEN: ADMIN });
  const m = await runCli(['migrate'], env);
  expect(m.code, m.stderr).toBe(0);
  return env;
}

/** Resolves once `cond` holds; a generous deadline, checked every 10 ms. */
async function until(cond: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + patience(ms);
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const batch = (service: string, n: number) => ndjson(Array.from({ length: n }, (_, i) => ({ msg: `${service} ${i}`, service })));

describe('crash safety', () => {
  it('keeps acknowledged events across kill -9, and stores a keyed retry once', async () => {
    const env = await preparedEnv();
    const a = await spawnServer(env);
    const plain = await ingest(a.url, ADMIN, batch('crash-plain', 200));
    expect(plain.status).toBe(200);
    const key = randomUUID();
    const keyed = await ingest(a.url, ADMIN, batch('crash-keyed', 30), { 'idempotency-key': key });
    expect(keyed.status).toBe(200);
    a.child.kill('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');

    const b = await spawnServer(env);
    try {
      expect(await searchAll(b.url, ADMIN, { service: 'crash-plain' })).toHaveLength(200);
      const retry = await ingest(b.url, ADMIN, batch('crash-keyed', 30), { 'idempotency-key': key });
      expect(retry.status).toBe(200);
      expect(await searchAll(b.url, ADMIN, { service: 'crash-keyed' })).toHaveLength(30);
    } finally {
      b.child.kill('SIGTERM');
      await b.exited;
    }
  });

  // The data-directory lock exists only for the embedded store.
  it.skipIf(!!process.env.CLICKHOUSE_URL)('refuses a second serve on the same data directory', async () => {
    const env = await preparedEnv();
    const a = await spawnServer(env);
    try {
      const second = await runCli(['serve'], env);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(/in use by process \d+/);
    } finally {
      a.child.kill('SIGTERM');
      await a.exited;
    }
  });
});

describe('SIGTERM', () => {
  it('stops the server started by `npm start` when npm is signalled, as a process manager does', async () => {
    // npm forwards the signal to its script's shell; a shell that ran
    // `migrate && serve` died and left the server running, orphaned.
    const env = testEnv({ SLUICE_ADMIN_TOKEN: ADMIN });
    const a = await spawnServer(env, ['npm', 'start', '--silent']);
    const health = await fetch(new URL('/healthz', a.url));
    expect(health.status).toBe(200);
    a.child.kill('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect(a.output.join('\n')).toContain('"msg":"stopped"');
    await expect(fetch(new URL('/healthz', a.url))).rejects.toThrow();
  });

  it('stops when whatever read its stdout has gone (EPIPE on every log line)', async () => {
    const env = await preparedEnv();
    const a = await spawnServer(env);
    a.child.stdout!.destroy();
    a.child.kill('SIGTERM');
    // A generous deadline: it used to hang for ever flushing logs at exit.
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), 30_000)));
    const outcome = await Promise.race([a.exited, hung]);
    clearTimeout(timer);
    if (outcome === 'hung') a.child.kill('SIGKILL');
    expect(outcome).toEqual({ code: 0, signal: null });
  });

  // The answer also closes its connection: a keep-alive socket would hold the
  // stop open until the client's idle timeout.
  it.each([
    ['one SIGTERM', ['SIGTERM']],
    // Ctrl-C on `npm start`: the terminal signals npm and the server, and
    // npm forwards its copy, so the server gets SIGINT again while it is
    // already stopping (and a process manager may add a SIGTERM).
    ['SIGINT, then SIGINT and SIGTERM while stopping (Ctrl-C under npm)', ['SIGINT', 'SIGINT', 'SIGTERM']],
  ] as const)('answers a request already in flight, stores it, and exits 0 after %s', async (_, signals) => {
    const env = await preparedEnv();
    const a = await spawnServer(env);
    const signalAll = async () => {
      const [first, ...more] = signals;
      a.child.kill(first);
      if (more.length === 0) return;
      // The later signals must arrive while the stop is under way.
      await until(() => a.output.some((l) => l.includes('stopping: draining the batcher')));
      for (const sig of more) a.child.kill(sig);
    };
    const url = new URL(a.url);
    const body = batch('drain', 500);
    // Expect: 100-continue tells us the server has the request in hand
    // before we signal it; the body follows the signal.
    const answer = new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: '/api/v1/ingest',
          headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${ADMIN}`, expect: '100-continue', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, connection: res.headers.connection }));
        },
      );
      req.on('error', reject);
      req.on('continue', () => {
        signalAll().then(() => req.end(body), reject);
      });
      req.flushHeaders();
    });
    const res = await answer;
    expect(res.status, res.body).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ accepted: 500 });
    expect(res.connection).toBe('close');
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect(a.output.join('\n')).toContain('"msg":"stopped"');

    const b = await spawnServer(env);
    try {
      expect(await searchAll(b.url, ADMIN, { service: 'drain' })).toHaveLength(500);
    } finally {
      b.child.kill('SIGTERM');
      expect((await b.exited).code).toBe(0);
    }
  });
});

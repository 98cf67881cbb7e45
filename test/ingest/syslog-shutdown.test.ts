// `sluice serve` with syslog listeners as a user runs it: ports on 0 are
// logged, and SIGTERM with a sender still connected closes cleanly and keeps
// what was stored.
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli, searchAll, spawnServer, testEnv } from '../helpers/server.js';
import { patience } from '../helpers/times.js';

const ADMIN = `admin-${randomUUID()}`;

describe('syslog and SIGTERM', () => {
  it('logs the bound port, and exits 0 on SIGTERM with a connection open', async () => {
    const env = testEnv({ SLUICE_ADMIN_TOKEN: ADMIN, SLUICE_SYSLOG_TCP_PORT: '0', SLUICE_SYSLOG_HOST: '127.0.0.1', SLUICE_SYSLOG_TRUSTED: '127.0.0.1' });
    expect((await runCli(['migrate'], env)).code).toBe(0);
    const a = await spawnServer(env);
    const line = a.output.map((l) => { try { return JSON.parse(l) as { msg?: string; port?: number; transport?: string }; } catch { return {}; } })
      .find((r) => r.msg === 'syslog listening' && r.transport === 'tcp');
    expect(line?.port).toBeGreaterThan(0);

    const sock = connect({ port: line!.port!, host: '127.0.0.1' });
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('error', () => undefined);
    const now = new Date().toISOString();
    sock.write(Array.from({ length: 500 }, (_, i) => `<134>1 ${now} h term-app - - - before stop ${i}\n`).join(''));
    const deadline = Date.now() + patience(20_000);
    while ((await searchAll(a.url, ADMIN, { service: 'term-app' })).length < 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    a.child.kill('SIGTERM');
    expect((await a.exited).code).toBe(0);
    await closed; // the server closed the sender's connection

    const b = await spawnServer(env);
    try {
      expect(await searchAll(b.url, ADMIN, { service: 'term-app' })).toHaveLength(500);
    } finally {
      b.child.kill('SIGTERM');
      await b.exited;
    }
  });
});

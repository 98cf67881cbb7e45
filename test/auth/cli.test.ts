// `sluice token` goes through a running server's API, and opens the store
// directly only when no server answers.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ingest, ndjson, runCli, spawnServer, testEnv } from '../helpers/server.js';

describe('sluice token', () => {
  it('works against a running server and, with none running, on the store directly', async () => {
    const admin = `admin-${randomUUID()}`;
    const env = testEnv({ SLUICE_ADMIN_TOKEN: admin });
    expect((await runCli(['migrate'], env)).code).toBe(0);

    // No server: the CLI opens the embedded store itself.
    const offline = await runCli(['token', 'create', '--name', 'offline', '--scope', 'ingest'], env);
    expect(offline.code, offline.stderr).toBe(0);
    const offlineToken = offline.stdout.trim();
    expect(offlineToken).toMatch(/^sluice_ingest_/);

    const server = await spawnServer(env);
    try {
      const clientEnv = { ...env, SLUICE_URL: server.url, SLUICE_TOKEN: admin };
      expect((await ingest(server.url, offlineToken, ndjson([{ msg: 'made offline' }]))).status).toBe(200);

      const online = await runCli(['token', 'create', '--name', 'online', '--scope', 'read'], clientEnv);
      expect(online.code, online.stderr).toBe(0);
      expect(online.stdout.trim()).toMatch(/^sluice_read_/);

      const list = await runCli(['token', 'list'], clientEnv);
      expect(list.stdout).toMatch(/^offline\tingest\t/m);
      expect(list.stdout).toMatch(/^online\tread\t/m);

      expect((await runCli(['token', 'revoke', 'offline'], clientEnv)).code).toBe(0);
      expect((await ingest(server.url, offlineToken, ndjson([{ msg: 'revoked' }]))).status).toBe(401);

      const noToken = await runCli(['token', 'list'], { ...env, SLUICE_URL: server.url, SLUICE_ADMIN_TOKEN: '' });
      expect(noToken.code).toBe(1);
      expect(noToken.stderr).toContain('SLUICE_ERR_UNAUTHORIZED');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});

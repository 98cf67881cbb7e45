// `serve` restarted while a rule is firing: no second firing notice, and the
// resolve still comes (the state lives in the store).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, ndjson, runCli, spawnServer, testEnv } from '../helpers/server.js';
import { Receiver } from '../helpers/receiver.js';

const ADMIN = `admin-${randomUUID()}`;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await new Receiver().start();
});
afterAll(async () => receiver.close());

async function evaluations(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^sluice_alert_evaluations_total (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('alerts across a restart', () => {
  it('does not fire again and still resolves', async () => {
    const env = testEnv({ SLUICE_ADMIN_TOKEN: ADMIN, SLUICE_WEBHOOK_ALLOW: '127.0.0.1' });
    expect((await runCli(['migrate'], env)).code).toBe(0);
    let server = await spawnServer(env);
    // A silence rule: no heartbeat in a minute fires at once.
    const res = await fetch(`${server.url}/api/v1/alerts/rules`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'no heartbeat', query: 'service:beat', window: '1m', condition: { op: '<', threshold: 1 }, interval: '1s', targets: [{ url: receiver.url }] }),
    });
    expect(res.status).toBe(201);
    await receiver.until((rs) => rs.some((r) => r.json.status === 'firing'), 'firing');
    const firing = receiver.received.find((r) => r.json.status === 'firing')!;

    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    server = await spawnServer(env);
    try {
      // Wait until the new process has evaluated the rule twice.
      while ((await evaluations(server.url)) < 2) await new Promise((r) => setTimeout(r, 250));
      expect(receiver.received.filter((r) => r.json.status === 'firing')).toHaveLength(1);

      await ingest(server.url, ADMIN, ndjson([{ msg: 'tick', service: 'beat' }]));
      await receiver.until((rs) => rs.some((r) => r.json.status === 'resolved'), 'resolved');
      const resolved = receiver.received.find((r) => r.json.status === 'resolved')!;
      expect(resolved.json.episode).toBe(firing.json.episode);
      expect(receiver.received.filter((r) => r.json.status === 'firing')).toHaveLength(1);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 120_000);
});

describe('sluice alerts', () => {
  it('creates, lists and deletes rules through the API', async () => {
    const env = testEnv({ SLUICE_ADMIN_TOKEN: ADMIN, SLUICE_WEBHOOK_ALLOW: '127.0.0.1' });
    expect((await runCli(['migrate'], env)).code).toBe(0);
    const server = await spawnServer(env);
    try {
      const cenv = { ...env, SLUICE_URL: server.url, SLUICE_TOKEN: ADMIN };
      const created = await runCli(['alerts', 'create', '--name', 'api errors', '--query', 'service:api level:>=error', '--window', '1m', '--op', '>', '--threshold', '20', '--target', receiver.url, '--group-by', 'service'], cenv);
      expect(created.code, created.stderr).toBe(0);
      const rule = JSON.parse(created.stdout) as { id: string; targets: Array<{ secret: string }>; group_by: string[] };
      expect(rule.targets[0]!.secret).toEqual(expect.any(String));
      expect(rule.group_by).toEqual(['service']);
      const list = await runCli(['alerts', 'list'], cenv);
      expect(list.stdout).toContain(`${rule.id}\tok\tapi errors\tservice:api level:>=error > 20 in 1m`);
      const snoozed = await runCli(['alerts', 'snooze', rule.id, '--for', '2h'], cenv);
      expect(snoozed.code, snoozed.stderr).toBe(0);
      expect(snoozed.stderr).toMatch(/^snoozed alert rule .* until \d{4}-\d\d-\d\dT/);
      expect((await runCli(['alerts', 'list'], cenv)).stdout).toMatch(new RegExp(`${rule.id}\tok \\(snoozed until [^)]+\\)\tapi errors\t`));
      expect((await runCli(['alerts', 'snooze', rule.id], cenv)).code).toBe(2);
      expect((await runCli(['alerts', 'unsnooze', rule.id], cenv)).code).toBe(0);
      expect((await runCli(['alerts', 'list'], cenv)).stdout).toContain(`${rule.id}\tok\tapi errors\t`);
      expect((await runCli(['alerts', 'delete', rule.id], cenv)).code).toBe(0);
      expect((await runCli(['alerts', 'list'], cenv)).stdout).not.toContain(rule.id);
      const bad = await runCli(['alerts', 'create', '--name', 'x', '--window', '5s', '--threshold', '1', '--target', receiver.url], cenv);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('SLUICE_ERR_VALIDATION');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});

// Sluice under a real Prometheus (Debian's 2.42): the shipped rules pass
// promtool, their unit tests pass promtool's evaluator, and a Prometheus on
// a free port scrapes a running `sluice serve`, loads the rules, reads back
// exactly the events this test sent, and fires a rule under its condition.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Child, PROMTOOL_BIN, startPrometheus, until } from '../helpers/prometheus.js';
import { type ChildServer, ingest, ndjson, ROOT, runCli, spawnServer, testEnv } from '../helpers/server.js';

const run = promisify(execFile);
const RULES_DIR = `${ROOT}docs/prometheus`;
const RULES = `${RULES_DIR}/sluice-rules.yml`;
const ADMIN = `admin-${randomUUID()}`;

let sluice: ChildServer;
let prom: Child;

beforeAll(async () => {
  const env = testEnv({ SLUICE_ADMIN_TOKEN: ADMIN });
  expect((await runCli(['migrate'], env)).code).toBe(0);
  sluice = await spawnServer(env);
  const target = new URL(sluice.url).host;
  prom = await startPrometheus(
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      '  - sluice-rules.yml',
      'scrape_configs:',
      '  - job_name: sluice',
      '    static_configs:',
      `      - targets: [${JSON.stringify(target)}]`,
      '',
    ].join('\n'),
    { 'sluice-rules.yml': readFileSync(RULES, 'utf8') },
  );
}, 60_000);
afterAll(async () => {
  await prom?.stop();
  if (sluice) {
    sluice.child.kill('SIGTERM');
    await sluice.exited;
  }
});

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(q: string): Promise<Sample[]> {
  const res = await fetch(`${prom.url}/api/v1/query?${new URLSearchParams({ query: q })}`);
  const body = (await res.json()) as { status: string; data: { result: Sample[] }; error?: string };
  if (body.status !== 'success') throw new Error(`${q}: ${body.error}`);
  return body.data.result;
}

describe('the shipped rules', () => {
  it('pass promtool check rules', async () => {
    const { stdout } = await run(PROMTOOL_BIN, ['check', 'rules', RULES]);
    expect(stdout).toContain('SUCCESS: 11 rules found');
  });

  it('pass their promtool unit tests: each fires under its condition, not before its `for`', async () => {
    const { stdout } = await run(PROMTOOL_BIN, ['test', 'rules', 'sluice-rules.test.yml'], { cwd: RULES_DIR });
    expect(stdout).toMatch(/SUCCESS/);
  });
});

describe('Prometheus scraping Sluice', () => {
  it('reads sluice_events_accepted_total equal to the events sent', async () => {
    const batches = [100, 250, 7];
    for (const [b, n] of batches.entries()) {
      const res = await ingest(sluice.url, ADMIN, ndjson(Array.from({ length: n }, (_, i) => ({ msg: `scraped ${b}.${i}`, service: 'prom' }))));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    const sent = batches.reduce((a, b) => a + b, 0);
    // Sluice's own count (by source, here the token's name) says the same.
    const own = await (await fetch(`${sluice.url}/metrics`)).text();
    const counted = [...own.matchAll(/^sluice_events_accepted_total\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(counted).toBe(sent);
    // Prometheus's answer once a scrape after the last request has landed.
    const seen = await until('Prometheus to see every event', async () => {
      const [s] = await query('sum(sluice_events_accepted_total{job="sluice"})');
      return s && Number(s.value[1]) === sent ? Number(s.value[1]) : undefined;
    });
    expect(seen).toBe(sent);
    const [up] = await query('up{job="sluice"}');
    expect(up?.value[1]).toBe('1');
  });

  it('loads the rules, all healthy, and fires SluiceAlertDeliveriesFailing when a notice is given up', async () => {
    type Rule = { name: string; health: string; lastError?: string };
    const rules = await until('every rule evaluated once', async () => {
      const res = (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as { data: { groups: Array<{ name: string; rules: Rule[] }> } };
      const all = res.data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => r.health !== 'unknown') ? all : undefined;
    });
    expect(rules.map((r) => [r.name, r.health, r.lastError ?? ''])).toEqual(
      ['SluiceDown', 'SluiceIngestRejecting', 'SluiceInsertSlow', 'SluiceInsertsFailing', 'SluiceBackpressure', 'SluiceDiskLow', 'SluiceDiskFull', 'SluiceRollupLagging', 'SluiceAlertDeliveriesFailing', 'SluiceAlertEvaluationsFailing', 'SluiceAlertEvaluationSlow'].map((n) => [n, 'ok', '']),
    );
    type Alert = { labels: Record<string, string>; state: string };
    const alerts = async () => ((await (await fetch(`${prom.url}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] } }).data.alerts;
    // Healthy so far: nothing fires.
    expect((await alerts()).filter((a) => a.state === 'firing')).toEqual([]);

    // Prometheus holds a sample from before the failure (the counter starts
    // at 0), so the failure is an increase it can see.
    await until('a scrape of no failed deliveries', async () => ((await query('sluice_alert_deliveries_total{result="failed"}'))[0]?.value[1] === '0' ? true : undefined));

    // A rule whose only target is an address Sluice refuses (private, not
    // allowed): its first notice is given up at once.
    const made = await fetch(`${sluice.url}/api/v1/alerts/rules`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'nobody listens', query: 'service:absent', window: '1m', condition: { op: '<', threshold: 1 }, interval: '1s', targets: [{ url: 'http://10.255.255.1/hook' }] }),
    });
    expect(made.status).toBe(201);
    const firing = await until(
      'SluiceAlertDeliveriesFailing to fire',
      async () => {
        const all = await alerts();
        const found = all.find((a) => a.labels.alertname === 'SluiceAlertDeliveriesFailing' && a.state === 'firing');
        if (!found) throw new Error(`alerts ${JSON.stringify(all)}; deliveries ${JSON.stringify(await query('sluice_alert_deliveries_total'))}`);
        return found;
      },
      60_000,
    );
    expect(firing.labels).toMatchObject({ job: 'sluice', instance: new URL(sluice.url).host, result: 'failed', severity: 'warning' });
    const [failed] = await query('sluice_alert_deliveries_total{result="failed"}');
    expect(failed?.value[1]).toBe('1');
  }, 90_000);
});

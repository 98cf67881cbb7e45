// Debian's prometheus-alertmanager and prometheus as child processes on
// free ports, for the tests that prove Sluice against the real tools.
// Every wait polls with a deadline; nothing sleeps hoping.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { baseEnv, tempDir } from './server.js';
import { patience } from './times.js';

export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';
export const PROMETHEUS_BIN = '/usr/bin/prometheus';
export const PROMTOOL_BIN = '/usr/bin/promtool';

/** A port nothing listens on now (the kernel's pick, released for the child to bind). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Calls `probe` until it gives a value (not undefined), or throws after `ms` with `what` and the last problem. */
/**
 * A server's clock, from its HTTP Date header (to the second). Alertmanager
 * and Prometheus are Go programs: they read the real time under `faketime`
 * while Node's clock is moved, so a test that gives them times takes theirs.
 */
export async function serverNow(url: string): Promise<number> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return Date.parse(res.headers.get('date') ?? '');
}

export async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + patience(ms);
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Child {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** What the process wrote, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

function run(bin: string, args: string[], port: number, readyPath: string): Promise<Child> {
  const child = spawn(bin, args, { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const handle: Child = {
    url,
    port,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  return until(`${bin} to be ready on ${url}${readyPath}`, async () => {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${out.slice(-2000)}`);
    const res = await fetch(url + readyPath);
    return res.ok ? handle : undefined;
  }).catch(async (e: unknown) => {
    await handle.stop();
    throw e;
  });
}

/**
 * A real Alertmanager whose one receiver is a webhook to `webhookUrl`
 * (resolved notices on), grouping by alertname with one-second waits. HA
 * clustering is off: it would bind a fixed port. `port` lets a test start
 * it again where Sluice already points.
 */
export async function startAlertmanager(webhookUrl: string, opts: { port?: number; dir?: string } = {}): Promise<Child> {
  const dir = opts.dir ?? tempDir('sluice-am-');
  const port = opts.port ?? (await freePort());
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(
    config,
    [
      'route:',
      '  receiver: test',
      "  group_by: ['alertname']",
      '  group_wait: 1s',
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: test',
      '    webhook_configs:',
      `      - url: ${JSON.stringify(webhookUrl)}`,
      '        send_resolved: true',
      '',
    ].join('\n'),
  );
  return run(
    ALERTMANAGER_BIN,
    [`--config.file=${config}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
    port,
    '/-/ready',
  );
}

/** A real Prometheus with this config (its text), on a free port; its data in a temp directory. */
export async function startPrometheus(configYaml: string, files: Record<string, string> = {}): Promise<Child> {
  const dir = tempDir('sluice-prom-');
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, configYaml);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return run(
    PROMETHEUS_BIN,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    port,
    '/-/ready',
  );
}

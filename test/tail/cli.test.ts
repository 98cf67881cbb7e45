// `sluice tail` as a user runs it: under a pseudo-terminal (coloured), piped
// (plain), and --json; Ctrl-C ends it cleanly.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ingest, ndjson, runCli, spawnServer, testEnv, type ChildServer } from '../helpers/server.js';

const ADMIN = `admin-${randomUUID()}`;
let server: ChildServer;
let env: Record<string, string>;

beforeAll(async () => {
  env = testEnv({ SLUICE_ADMIN_TOKEN: ADMIN });
  expect((await runCli(['migrate'], env)).code).toBe(0);
  server = await spawnServer(env);
});
afterAll(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
});

interface Running {
  output(): string;
  waitFor(re: RegExp): Promise<void>;
  stop(): Promise<number | null>;
}

function startTail(args: string[], pty: boolean): Running {
  const childEnv = { PATH: process.env.PATH ?? '', ...env, SLUICE_URL: server.url, SLUICE_TOKEN: ADMIN };
  const child = pty
    ? spawn('script', ['-qfec', 'exec ' + [process.execPath, CLI, 'tail', ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' '), '/dev/null'], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(process.execPath, [CLI, 'tail', ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: Array<() => void> = [];
  const on = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', on);
  child.stderr!.on('data', on);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    output: () => out,
    async waitFor(re) {
      const deadline = Date.now() + 15_000;
      while (!re.test(out)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; output: ${out}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, 1000);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
    async stop() {
      if (pty) child.stdin!.write('\x03'); // Ctrl-C through the terminal
      else child.kill('SIGINT');
      return exited;
    },
  };
}

describe('sluice tail', () => {
  it('prints coloured lines under a terminal, with history from --since, and exits 0 on Ctrl-C', async () => {
    await ingest(server.url, ADMIN, ndjson([{ msg: 'earlier failure', level: 'error', service: 'cli-a', host: 'h1' }]));
    const t = startTail(['level:>=error service:cli-a', '--since', '10m'], true);
    await t.waitFor(/earlier failure/);
    await ingest(server.url, ADMIN, ndjson([{ msg: 'quiet', level: 'info', service: 'cli-a' }, { msg: 'live failure', level: 'error', service: 'cli-a', host: 'h1' }]));
    await t.waitFor(/live failure/);
    const ESC = '\x1b';
    expect(t.output()).toContain(`${ESC}[31mERROR${ESC}[0m ${ESC}[2mcli-a/h1${ESC}[0m live failure`);
    expect(t.output()).not.toContain('quiet');
    expect(await t.stop()).toBe(0);
  });

  it('prints plain lines when piped, and NDJSON with --json', async () => {
    await ingest(server.url, ADMIN, ndjson([{ msg: 'cli-b marker', level: 'warn', service: 'cli-b' }]));
    const plain = startTail(['service:cli-b', '--since', '1h'], false);
    const json = startTail(['service:cli-b', '--since', '1h', '--json'], false);
    await Promise.all([plain.waitFor(/cli-b marker/), json.waitFor(/cli-b marker/)]);
    expect(plain.output()).toMatch(/^\d{4}-\d{2}-\d{2}T\S+Z WARN {2}cli-b cli-b marker$/m);
    expect(plain.output()).not.toContain('\x1b[');
    const line = json.output().split('\n').find((l) => l.includes('cli-b marker'))!;
    expect(JSON.parse(line)).toMatchObject({ service: 'cli-b', level: 'warn', id: expect.any(String) });
    expect(await plain.stop()).toBe(0);
    expect(await json.stop()).toBe(0);
  });
});

// `sluice tail` as a user runs it: under a pseudo-terminal (coloured), piped
// (plain), and --json; Ctrl-C ends it cleanly.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, CLI, ingest, ndjson, runCli, spawnServer, testEnv, type ChildServer } from '../helpers/server.js';
import { patience } from '../helpers/times.js';

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

function startTail(args: string[], pty: boolean, url = server.url): Running {
  const childEnv = { ...baseEnv(), ...env, SLUICE_URL: url, SLUICE_TOKEN: ADMIN };
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
      const deadline = Date.now() + patience(15_000);
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

  it('lists events that share a time in the order they were sent, in history as live', async () => {
    const time = new Date().toISOString();
    const names = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth'];
    await ingest(server.url, ADMIN, ndjson(names.map((n) => ({ msg: `same-time ${n}`, time, service: 'cli-order' }))));
    const t = startTail(['service:cli-order', '--since', '1h'], false);
    await t.waitFor(/same-time sixth/);
    expect([...t.output().matchAll(/same-time (\w+)/g)].map((m) => m[1])).toEqual(names);
    expect(await t.stop()).toBe(0);
  });

  it('refuses bad options with a usage error, before connecting', async () => {
    const cliEnv = { ...env, SLUICE_URL: server.url, SLUICE_TOKEN: ADMIN };
    const bogus = await runCli(['tail', '--bogus'], cliEnv);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/^sluice: Unknown option '--bogus'.*sluice tail --help/);
    expect(bogus.stderr).not.toMatch(/at .*\.js/); // no stack trace
    const limit = await runCli(['tail', '--limit', 'abc'], cliEnv);
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain('--limit takes a count of events from 0 to 1000, not "abc"');
    const since = await runCli(['tail', '--since', '10q'], cliEnv);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('sluice tail: --since: cannot read time "10q"');
  });

  it('says which address it cannot reach, and keeps retrying until Ctrl-C', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((r) => probe.close(() => r()));
    const t = startTail([], false, `http://127.0.0.1:${port}`);
    await t.waitFor(new RegExp(`cannot connect to http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); retrying in`));
    expect(await t.stop()).toBe(0);
  });

  it('after a restart, shows what was stored while it was away, also before it printed anything', async () => {
    const ownEnv = testEnv({ SLUICE_ADMIN_TOKEN: ADMIN });
    expect((await runCli(['migrate'], ownEnv)).code).toBe(0);
    const first = await spawnServer(ownEnv);
    const t = startTail(['service:cli-gap'], false, first.url);
    await t.waitFor(/connected to/);
    first.child.kill('SIGTERM');
    await first.exited;
    await t.waitFor(/connection lost; reconnecting in/);
    const second = await spawnServer({ ...ownEnv, PORT: new URL(first.url).port });
    try {
      // Stored while the tail is still backing off (or, if it is quick, live).
      expect((await ingest(second.url, ADMIN, ndjson([{ msg: 'stored in the gap', service: 'cli-gap' }]))).status).toBe(200);
      await t.waitFor(/stored in the gap/);
      await t.waitFor(/reconnected/);
      expect(t.output().match(/stored in the gap/g)).toHaveLength(1);
      expect(await t.stop()).toBe(0);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});

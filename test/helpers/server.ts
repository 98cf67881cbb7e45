// Test servers on the real embedded ClickHouse in a temp directory (or on
// the ClickHouse server named by CLICKHOUSE_URL, in a database of its own).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { AppContext } from '../../src/context.js';
import type { Clock } from '../../src/model/clock.js';
import { migrate } from '../../src/store/migrate.js';
import { openStore, type Store } from '../../src/store/store.js';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const CLI = join(ROOT, 'dist/cli/main.js');

/**
 * What a child process inherits of this one's environment: PATH and HOME,
 * and the clock — a run under faketime (LD_PRELOAD and FAKETIME*) moves
 * the clock of every process it starts, as one host's clock would.
 */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && (k === 'LD_PRELOAD' || k.startsWith('FAKETIME'))) env[k] = v;
  return env;
}

export function tempDir(prefix = 'sluice-test-'): string {
  // Inside the run's directory (test/global-setup.ts) when there is one.
  return mkdtempSync(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), prefix));
}

/** Environment for a test server: a fresh data dir, or a fresh database on a server. */
export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { SLUICE_DATA_DIR: tempDir(), LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: '0' };
  for (const k of ['CLICKHOUSE_URL', 'CLICKHOUSE_USER', 'CLICKHOUSE_PASSWORD'] as const) {
    const v = process.env[k];
    if (v) env[k] = v;
  }
  if (env.CLICKHOUSE_URL) env.CLICKHOUSE_DATABASE = `sluice_test_${randomBytes(6).toString('hex')}`;
  return { ...env, ...extra };
}

export interface TestServer {
  readonly url: string;
  readonly adminToken: string;
  readonly ctx: AppContext;
  readonly store: Store;
  readonly config: Config;
  close(): Promise<void>;
}

/** Builds the app in this process and listens on a free port. */
export async function startServer(extra: Record<string, string> = {}, opts: { clock?: Clock; store?: Store } = {}): Promise<TestServer> {
  const config = loadConfig(testEnv(extra));
  // A second app on another's store stands for a second serve process on
  // one ClickHouse server; the store's owner closes it.
  const shared = opts.store;
  const store = shared ?? (await openStore(config, { createDatabase: true }));
  if (!shared) await migrate(store, config.retentionDays, opts.clock);
  const { app, ctx } = await buildApp({ config, store, ...(opts.clock ? { clock: opts.clock } : {}), logger: process.env.SLUICE_TEST_LOG ? { level: 'error' } : false });
  const adminToken = (await ctx.tokens.create(`admin-${randomBytes(3).toString('hex')}`, 'admin')).token;
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    adminToken,
    ctx,
    store,
    config,
    async close() {
      await app.close();
      if (!shared) await store.close();
    },
  };
}

export async function makeToken(s: TestServer, scope: 'ingest' | 'read' | 'admin', name?: string): Promise<string> {
  return (await s.ctx.tokens.create(name ?? `${scope}-${randomBytes(4).toString('hex')}`, scope)).token;
}

export function auth(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** The Authorization value Grafana's data source settings send: Basic, any user, the token as the password. */
export function basicAuth(token: string): string {
  return `Basic ${Buffer.from(`grafana:${token}`).toString('base64')}`;
}

export async function ingest(
  url: string,
  token: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${url}/api/v1/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', ...auth(token), ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}

export async function search(url: string, token: string, params: Record<string, string | number> = {}): Promise<{ events: Array<Record<string, unknown>>; cursor: string | null }> {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
  const res = await fetch(`${url}/api/v1/search?${qs}`, { headers: auth(token) });
  if (res.status !== 200) throw new Error(`search answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { events: Array<Record<string, unknown>>; cursor: string | null };
}

/** Every event of a service, paging through all cursors. */
export async function searchAll(url: string, token: string, params: Record<string, string | number>): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  let cursor: string | null = null;
  do {
    const page = await search(url, token, { limit: 1000, ...params, ...(cursor ? { cursor } : {}) });
    out.push(...page.events);
    cursor = page.cursor;
  } while (cursor);
  return out;
}

export function ndjson(rows: readonly object[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** `sluice serve` as a child process, as a user runs it. */
export interface ChildServer {
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { code, stdout, stderr };
}

/** Runs `sluice serve` (or `command`, e.g. `npm start`) and waits until it listens. */
export async function spawnServer(env: Record<string, string>, command: readonly string[] = [process.execPath, CLI, 'serve']): Promise<ChildServer> {
  const [file = process.execPath, ...args] = command;
  const child = spawn(file, args, {
    cwd: ROOT,
    env: { ...baseEnv(), ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      output.push(line);
      try {
        const rec = JSON.parse(line) as { msg?: string; address?: string };
        if (rec.msg === 'sluice serving' && rec.address) resolve(rec.address);
      } catch {
        // not JSON
      }
    });
    void exited.then((e) => reject(new Error(`serve exited early (${e.code ?? e.signal}): ${output.join('\n')}`)));
  });
  return { url, child, output, exited };
}

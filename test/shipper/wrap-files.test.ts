// Wrap mode (exit codes, signals, stdout/stderr tagged) and files mode
// (rotation, truncation, restart from the state file).
import { randomUUID } from 'node:crypto';
import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, searchAll, spawnServer, tempDir, testEnv, type ChildServer } from '../helpers/server.js';
import { ship } from '../helpers/ship.js';
import { patience } from '../helpers/times.js';

const ADMIN = `admin-${randomUUID()}`;
let server: ChildServer;

beforeAll(async () => {
  const env = testEnv({ SLUICE_ADMIN_TOKEN: ADMIN });
  expect((await runCli(['migrate'], env)).code).toBe(0);
  server = await spawnServer(env);
});
afterAll(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
});

const shipEnv = () => ({ SLUICE_URL: server.url, SLUICE_TOKEN: ADMIN });
const messages = async (service: string) => (await searchAll(server.url, ADMIN, { service, from: '1h', order: 'asc' })).map((e) => String(e.message));

async function until(what: string, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + patience(30_000);
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('wrap mode', () => {
  it('runs the command, passes and tags stdout and stderr, and exits with its code', async () => {
    const script = 'console.log("to stdout"); console.error("to stderr"); process.exit(3)';
    const run = ship(['--service', 'wrap-a', '--spool-dir', tempDir(), '--', process.execPath, '-e', script], shipEnv(), 'ignore');
    expect((await run.exited).code).toBe(3);
    expect(run.stdout()).toBe('to stdout\n');
    expect(run.stderr()).toContain('to stderr\n');
    const events = await searchAll(server.url, ADMIN, { service: 'wrap-a', from: '1h' });
    expect(Object.fromEntries(events.map((e) => [e.message, (e.attributes as Record<string, string>).stream]))).toEqual({ 'to stdout': 'stdout', 'to stderr': 'stderr' });
  });

  it('forwards SIGTERM to the child and ships what it wrote while stopping', async () => {
    // The handler goes in before "ready": once the test sees "ready" and
    // signals, the child must already be listening, or it dies of SIGTERM.
    const script = 'process.on("SIGTERM", () => { console.log("got SIGTERM"); process.exit(0); }); console.log("ready"); setInterval(() => {}, 1000);';
    const run = ship(['--service', 'wrap-b', '--spool-dir', tempDir(), '--', process.execPath, '-e', script], shipEnv(), 'ignore');
    while (!run.stdout().includes('ready')) await new Promise((r) => setTimeout(r, 50));
    run.child.kill('SIGTERM');
    expect(await run.exited, run.stderr()).toEqual({ code: 0, signal: null });
    expect(await messages('wrap-b')).toEqual(['ready', 'got SIGTERM']);
  });

  it('dies by the same signal as the child', async () => {
    const run = ship(['--service', 'wrap-c', '--spool-dir', tempDir(), '--', process.execPath, '-e', 'console.log("bye"); process.kill(process.pid, "SIGKILL")'], shipEnv(), 'ignore');
    expect((await run.exited).signal).toBe('SIGKILL');
    expect(await messages('wrap-c')).toEqual(['bye']);
  });
});

describe('files mode', () => {
  it('follows rotation and truncation, and resumes from its state file without gaps or repeats', async () => {
    const dir = tempDir();
    const spool = tempDir();
    const log = join(dir, 'app.log');
    const args = ['--service', 'files-a', '--file', join(dir, '*.log'), '--spool-dir', spool, '--batch-age', '50'];
    writeFileSync(log, 'one\ntwo\n');
    let run = ship(args, shipEnv(), 'ignore');
    await until('first lines', async () => (await messages('files-a')).length === 2);
    appendFileSync(log, 'three\n');
    // Rotation: rename, then a new file at the path.
    renameSync(log, join(dir, 'app.log.1'));
    appendFileSync(join(dir, 'app.log.1'), 'four (written to the rotated file)\n');
    writeFileSync(log, 'five\n');
    await until('rotated lines', async () => (await messages('files-a')).length === 5);
    // Truncation in place.
    truncateSync(log, 0);
    appendFileSync(log, 'six\n');
    await until('line after truncation', async () => (await messages('files-a')).includes('six'));
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
    // While stopped, more lines; a restart resumes exactly where it was.
    appendFileSync(log, 'seven\neight\n');
    run = ship(args, shipEnv(), 'ignore');
    await until('lines after restart', async () => (await messages('files-a')).length >= 8);
    run.child.kill('SIGTERM');
    await run.exited;
    expect((await messages('files-a')).sort()).toEqual(['eight', 'five', 'four (written to the rotated file)', 'one', 'seven', 'six', 'three', 'two']);
  });
});

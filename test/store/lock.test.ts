// The data directory lock between real processes: children run
// lock-child.mjs on the built dist/ (`npm test` builds it first); this
// process uses src/ directly. A stale sluice.pid is made the way it happens:
// an owner killed with kill -9, or a file naming a live process that is not
// Sluice (a pid reused after a crash; the bare pid is also what older
// versions wrote).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from '../../src/store/lock.js';

const CHILD = new URL('./lock-child.mjs', import.meta.url).pathname;

const dataDir = () => mkdtempSync(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'sluice-lock-'));
const pidFile = (dir: string) => join(dir, 'sluice.pid');

interface Child {
  readonly pid: number;
  send(command: string): void;
  /** The next line it prints; `exited` if it died first. */
  next(): Promise<string>;
  kill(): Promise<void>;
}

/** A lock-child.mjs on `dir`, once it is ready for commands. */
async function start(dir: string): Promise<Child> {
  const proc = spawn(process.execPath, [CHILD, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let dead = false;
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  });
  const exited = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      dead = true;
      for (const w of waiting.splice(0)) w('exited');
      resolve();
    }),
  );
  const c: Child = {
    pid: proc.pid!,
    send: (command) => proc.stdin!.write(`${command}\n`),
    next: () => {
      const line = lines.shift();
      if (line !== undefined) return Promise.resolve(line);
      if (dead) return Promise.resolve('exited');
      return new Promise((resolve) => waiting.push(resolve));
    },
    async kill() {
      if (!dead) proc.kill('SIGKILL');
      await exited;
    },
  };
  expect(await c.next()).toBe('ready');
  return c;
}

async function ask(c: Child, command: string): Promise<string> {
  c.send(command);
  return c.next();
}

/** A live process that is not Sluice, to have its pid written in a stale file. */
async function unrelated(): Promise<{ pid: number; kill(): void }> {
  const proc = spawn('sleep', ['600'], { stdio: 'ignore' });
  await new Promise((resolve, reject) => proc.once('spawn', resolve).once('error', reject));
  return { pid: proc.pid!, kill: () => proc.kill('SIGKILL') };
}

describe('data directory lock', () => {
  it('takes a stale file naming a live process that is not Sluice', async () => {
    const dir = dataDir();
    const other = await unrelated();
    try {
      writeFileSync(pidFile(dir), String(other.pid));
      const release = lockDataDir(dir);
      expect(readFileSync(pidFile(dir), 'utf8')).toBe(String(process.pid));
      release();
    } finally {
      other.kill();
    }
  });

  it('takes the file of an owner killed with kill -9', async () => {
    const dir = dataDir();
    const owner = await start(dir);
    expect(await ask(owner, 'lock')).toBe('locked');
    await owner.kill();
    expect(readFileSync(pidFile(dir), 'utf8')).toBe(String(owner.pid));
    lockDataDir(dir)();
  });

  it('refuses while another process holds it, naming the directory and that process', async () => {
    const dir = dataDir();
    const owner = await start(dir);
    const second = await start(dir);
    try {
      expect(await ask(owner, 'lock')).toBe('locked');
      let err: unknown;
      try {
        lockDataDir(dir);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DataDirLockedError);
      expect((err as Error).message).toBe(
        `the data directory ${dir} is in use by process ${owner.pid}: the embedded store serves one process (use a ClickHouse server for more)`,
      );
      expect(await ask(second, 'lock')).toMatch(new RegExp(`^refused DataDirLockedError: .* in use by process ${owner.pid}:`));
    } finally {
      await owner.kill();
      await second.kill();
    }
  });

  it('refuses a second lock in the process that holds it', () => {
    const dir = dataDir();
    const release = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by process ${process.pid}:`));
    release();
    lockDataDir(dir)();
  });

  it('release removes the file, and then another process takes it', async () => {
    const dir = dataDir();
    const first = await start(dir);
    const next = await start(dir);
    try {
      expect(await ask(first, 'lock')).toBe('locked');
      expect(await ask(first, 'release')).toBe('released');
      expect(existsSync(pidFile(dir))).toBe(false);
      expect(await ask(next, 'lock')).toBe('locked');
      expect(readFileSync(pidFile(dir), 'utf8')).toBe(String(next.pid));
      // A second call of an old release leaves the new owner's file alone.
      expect(await ask(first, 'release')).toBe('released');
      expect(readFileSync(pidFile(dir), 'utf8')).toBe(String(next.pid));
    } finally {
      await first.kill();
      await next.kill();
    }
  });

  it('lets exactly one of 8 processes starting together take a stale lock, 20 rounds', async () => {
    const dir = dataDir();
    const other = await unrelated();
    const racers = await Promise.all(Array.from({ length: 8 }, () => start(dir)));
    try {
      for (let round = 0; round < 20; round++) {
        // Even rounds race on the file of the last winner, killed; odd ones
        // on a file naming a live process that is not Sluice.
        if (round % 2 === 1) writeFileSync(pidFile(dir), String(other.pid));
        // All are waiting on stdin: one write each lets them go together.
        for (const r of racers) r.send('lock');
        const answers = await Promise.all(racers.map((r) => r.next()));
        const winners = racers.filter((_, i) => answers[i] === 'locked');
        expect(winners, `round ${round}: ${answers.join(' | ')}`).toHaveLength(1);
        for (const a of answers) if (a !== 'locked') expect(a).toMatch(/^refused DataDirLockedError: .* is in use by /);
        const winner = winners[0]!;
        expect(readFileSync(pidFile(dir), 'utf8')).toBe(String(winner.pid));
        await winner.kill();
        racers[racers.indexOf(winner)] = await start(dir);
      }
    } finally {
      other.kill();
      await Promise.all(racers.map((r) => r.kill()));
    }
  });
});

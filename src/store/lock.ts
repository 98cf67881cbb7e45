// One process per embedded data directory. A second process opening the
// same directory was seen to get an empty view of it rather than an error,
// so Sluice locks `sluice.pid` in it for as long as it runs.
//
// The lock is the kernel's, on the open file (an open file description lock
// on Linux, flock on macOS; Node has neither, fs-native-extensions does), not
// the pid written in the file: the kernel drops it when its owner exits,
// however it exits, and grants it to one opener at a time. A file left by a
// crash, or naming a pid that now belongs to another process (containers
// restart pids at 1), or written by an older Sluice (the same bare pid, never
// locked), is therefore just taken, and no takeover logic can race. The pid
// inside is only for the message.
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readFileSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// CommonJS without types of its own; false when another descriptor holds it.
const { tryLock } = createRequire(import.meta.url)('fs-native-extensions') as { tryLock(fd: number): boolean };

export class DataDirLockedError extends Error {}

function isFile(fd: number, file: string): boolean {
  const a: Stats = fstatSync(fd);
  const b = statSync(file, { throwIfNoEntry: false });
  return b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

function refusal(dir: string, fd: number): DataDirLockedError {
  // Empty only in the instant between the owner's lock and its write.
  const pid = Number(readFileSync(fd, 'utf8').trim());
  const who = Number.isInteger(pid) && pid > 0 ? `process ${pid}` : 'another process';
  return new DataDirLockedError(
    `the data directory ${dir} is in use by ${who}: the embedded store serves one process (use a ClickHouse server for more)`,
  );
}

/** Takes the lock or throws DataDirLockedError; returns the release function. */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, 'sluice.pid');
  // Another turn only when an owner released between our open and our lock:
  // its file is unlinked, so the lock we got guards nothing; open the new one.
  for (let attempt = 0; attempt < 100; attempt++) {
    const fd = openSync(file, constants.O_RDWR | constants.O_CREAT, 0o644);
    let held = false;
    try {
      if (!tryLock(fd)) throw refusal(dir, fd);
      if (!isFile(fd, file)) continue;
      ftruncateSync(fd, 0);
      writeSync(fd, String(process.pid), 0);
      held = true;
    } finally {
      if (!held) closeSync(fd);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Unlink before unlocking, so a process that opened this file meanwhile
      // sees it gone once it gets the lock (above) instead of sharing it.
      if (isFile(fd, file)) rmSync(file, { force: true });
      closeSync(fd);
    };
  }
  throw new DataDirLockedError(`cannot lock the data directory ${dir}`);
}

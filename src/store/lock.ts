// One process per embedded data directory. A second process opening the
// same directory was seen to get an empty view of it rather than an error,
// so Sluice keeps its own lock file: the owner's pid, created exclusively.
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';

export class DataDirLockedError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock or throws DataDirLockedError; returns the release function. */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, 'sluice.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new DataDirLockedError(
          `the data directory ${dir} is in use by process ${pid}: the embedded store serves one process (use a ClickHouse server for more)`,
        );
      }
      // The owner died without cleaning up (kill -9): take the lock over.
      rmSync(file, { force: true });
    }
  }
  throw new DataDirLockedError(`cannot lock the data directory ${dir}`);
}

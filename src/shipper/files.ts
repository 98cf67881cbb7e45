// Follows files (`--file '/var/log/app/*.log'`): polls the pattern, reads
// what was appended, survives rotation (a renamed file is read to its end
// before it is let go; the new file at the path starts at 0) and truncation
// (a file shorter than our offset is read again from 0). Files are known by
// device and inode, so a rename does not look like a new file. Offsets are
// kept in a state file, written once the batch holding the lines up to that
// offset is delivered, so a restart resumes without gaps or repeats.
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Shipper } from './ship.js';
import { Stream } from './ship.js';

interface Tracked {
  key: string;
  path: string;
  fd: number;
  /** Read position. */
  offset: number;
  /** Where `stream` began reading: its records end at base + stream.consumed. */
  base: number;
  stream: Stream;
}

type State = Record<string, { path: string; offset: number }>;

const CHUNK = 256 * 1024;
const MAX_CHUNKS_PER_POLL = 64;

function globToRegExp(glob: string): RegExp {
  return new RegExp('^' + glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
}

export function expand(pattern: string): string[] {
  const dir = dirname(pattern);
  const re = globToRegExp(basename(pattern));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => re.test(n)).map((n) => join(dir, n)).sort();
}

const keyOf = (s: { dev: number; ino: number }) => `${s.dev}:${s.ino}`;

export class FileTailer {
  readonly #files = new Map<string, Tracked>();
  readonly #state: State;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly shipper: Shipper,
    private readonly patterns: readonly string[],
    private readonly stateFile: string,
    private readonly pollMs = 250,
  ) {
    this.#state = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as { files: State }).files : {};
    // Batches still in the spool were read past what the state says.
    for (const offsets of shipper.queue.waitingOffsets()) this.#merge(offsets);
    shipper.offsetsNow = () => this.#committed();
    shipper.sender.onDelivered = (b) => {
      if (b.offsets) {
        this.#merge(b.offsets);
        this.#save();
      }
    };
  }

  // Batches are delivered (and spooled) in order, so a later batch's offset
  // is the newer one — also when it is smaller, after a truncation.
  #merge(offsets: State): void {
    Object.assign(this.#state, offsets);
  }

  #save(): void {
    const tmp = `${this.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, files: this.#state }));
    renameSync(tmp, this.stateFile);
  }

  /** Where each file stands: bytes whose lines are all in sealed or open batches. */
  #committed(): State {
    const out: State = {};
    for (const f of this.#files.values()) out[f.key] = { path: f.path, offset: f.base + f.stream.consumed };
    return out;
  }

  start(): void {
    const loop = () => {
      if (this.#stopped) return;
      try {
        this.poll();
      } catch (e) {
        this.shipper.opts.log(`file tail: ${(e as Error).message}`);
      }
      this.#timer = setTimeout(loop, this.pollMs);
    };
    loop();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const f of this.#files.values()) {
      f.stream.end();
      closeSync(f.fd);
    }
  }

  poll(): void {
    const present = new Map<string, string>(); // key -> path
    for (const p of this.patterns) {
      for (const path of expand(p)) {
        try {
          const st = statSync(path);
          if (st.isFile()) present.set(keyOf(st), path);
        } catch {
          // vanished between listing and stat
        }
      }
    }
    for (const [key, path] of present) {
      if (this.#files.has(key)) {
        this.#files.get(key)!.path = path;
        continue;
      }
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch (e) {
        // One unreadable file must not stop the others; retried next poll.
        this.shipper.opts.log(`cannot read ${path}: ${(e as Error).message}`);
        continue;
      }
      const saved = this.#state[key];
      const start = saved?.offset ?? 0;
      const f: Tracked = { key, path, fd, offset: start, base: start, stream: new Stream(this.shipper, undefined, path) };
      this.#files.set(key, f);
    }
    for (const f of [...this.#files.values()]) {
      const size = fstatSync(f.fd).size;
      if (size < f.offset) {
        // Truncated in place (copytruncate): start over.
        f.stream.end();
        f.stream = new Stream(this.shipper, undefined, f.path);
        f.offset = 0;
        f.base = 0;
      }
      const buf = Buffer.allocUnsafe(CHUNK);
      for (let i = 0; i < MAX_CHUNKS_PER_POLL; i++) {
        const n = readSync(f.fd, buf, 0, CHUNK, f.offset);
        if (n === 0) break;
        f.offset += n;
        f.stream.push(buf.subarray(0, n));
      }
      if (!present.has(f.key) && f.offset >= fstatSync(f.fd).size) {
        // Rotated away (or deleted) and read to its end: let it go.
        f.stream.end();
        closeSync(f.fd);
        this.#files.delete(f.key);
      }
    }
  }
}

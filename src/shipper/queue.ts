// The shipper's ordered queue of sealed batches, in memory and on disk.
//
// Bounds: at most `memoryBytes` of batches wait in memory; past that, or
// while the server is unreachable, new batches go to the spool directory
// (when the spool cannot be written, the oldest batches in memory past the
// bound are dropped and counted, as below). The
// spool holds at most `spoolMaxBytes`; when a new batch would pass that, the
// oldest spooled batches are dropped, their lines counted, and a synthetic
// event reports the loss (see `takeDropNotice`). Batches left in the spool
// by an earlier run are sent first, in order, under their original ids (so
// a batch the server already stored is stored once).
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Batch {
  readonly seq: number;
  readonly id: string;
  readonly lines: number;
  /** The gzipped body, while in memory. */
  body: Buffer | undefined;
  /** Its spool file, once on disk. */
  file: string | undefined;
  readonly bytes: number;
  /** File offsets this batch completes (files mode). */
  readonly offsets: Record<string, { path: string; offset: number }> | undefined;
  /** Its X-Sluice-Line-Meta: the body is text lines. Unset: NDJSON (spools of earlier versions). */
  readonly meta: string | undefined;
}

export interface QueueOptions {
  readonly dir: string;
  readonly memoryBytes: number;
  readonly spoolMaxBytes: number;
}

interface DropInfo {
  lines: number;
  batches: number;
  first: string;
  last: string;
}

const NAME = /^(\d{12})-([0-9a-f-]{36})-(\d+)\.ndjson\.gz$/;

export class BatchQueue {
  readonly #items: Batch[] = [];
  #memory = 0;
  #spooled = 0;
  #nextSeq = 1;
  #dropped: DropInfo = { lines: 0, batches: 0, first: '', last: '' };
  /** Lines written to the spool, ever (for --stats). */
  spooledLines = 0;
  droppedLines = 0;
  /** The batch the sender is delivering: never evicted under it. */
  sending: Batch | undefined;
  readonly #waiters: Array<() => void> = [];

  readonly #dropFile: string;

  constructor(private readonly opts: QueueOptions) {
    mkdirSync(opts.dir, { recursive: true });
    // A loss an earlier run could not report yet is reported by this one.
    this.#dropFile = join(opts.dir, 'dropped.json');
    try {
      this.#dropped = JSON.parse(readFileSync(this.#dropFile, 'utf8')) as DropInfo;
    } catch {
      // none
    }
    // Batches an earlier run left behind go first.
    for (const f of readdirSync(opts.dir).sort()) {
      const m = NAME.exec(f);
      if (!m) continue;
      const file = join(opts.dir, f);
      const bytes = statSync(file).size;
      let offsets: Batch['offsets'];
      try {
        offsets = JSON.parse(readFileSync(sidecar(file, 'offsets'), 'utf8')) as Batch['offsets'];
      } catch {
        offsets = undefined;
      }
      let meta: string | undefined;
      try {
        meta = readFileSync(sidecar(file, 'meta'), 'utf8');
      } catch {
        meta = undefined;
      }
      this.#items.push({ seq: Number(m[1]), id: m[2]!, lines: Number(m[3]), body: undefined, file, bytes, offsets, meta });
      this.#spooled += bytes;
      this.#nextSeq = Math.max(this.#nextSeq, Number(m[1]) + 1);
    }
  }

  get length(): number {
    return this.#items.length;
  }

  get pendingLines(): number {
    return this.#items.reduce((a, b) => a + b.lines, 0);
  }

  nextSeq(): number {
    return this.#nextSeq++;
  }

  /** Offsets recorded by batches still waiting (files mode resumes from the newest). */
  waitingOffsets(): Array<NonNullable<Batch['offsets']>> {
    return this.#items.flatMap((b) => (b.offsets ? [b.offsets] : []));
  }

  /** Adds a sealed batch; to disk when asked to, when memory is full, or when the server is away. */
  add(batch: Batch, toDisk: boolean): void {
    this.#items.push(batch);
    this.#memory += batch.bytes;
    if (toDisk || this.#memory > this.opts.memoryBytes) this.#spill(batch);
    for (const w of this.#waiters.splice(0)) w();
  }

  head(): Batch | undefined {
    return this.#items[0];
  }

  body(b: Batch): Buffer {
    return b.body ?? readFileSync(b.file!);
  }

  /** The head batch was delivered (or refused for good). */
  done(b: Batch): void {
    const i = this.#items.indexOf(b);
    if (i === -1) return;
    this.#items.splice(i, 1);
    if (b.body) this.#memory -= b.bytes;
    if (b.file) {
      this.#spooled -= b.bytes;
      rmSync(b.file, { force: true });
      rmSync(sidecar(b.file, 'offsets'), { force: true });
      rmSync(sidecar(b.file, 'meta'), { force: true });
    }
  }

  /** Moves every batch still in memory to disk (the server is away, or we are stopping). */
  spillAll(): void {
    // A copy: a spool that cannot be written drops batches from the list.
    for (const b of [...this.#items]) if (b.body && this.#items.includes(b)) this.#spill(b);
  }

  #spill(b: Batch): void {
    if (b.file) return;
    // Make room first: the oldest spooled batches go.
    while (this.#spooled + b.bytes > this.opts.spoolMaxBytes) {
      const victim = this.#items.find((x) => x.file !== undefined && x !== b && x !== this.sending);
      if (!victim) break;
      this.#noteDrop(victim);
      this.done(victim);
    }
    if (this.#spooled + b.bytes > this.opts.spoolMaxBytes) {
      // Even an empty spool cannot take it: the batch itself is lost.
      this.#noteDrop(b);
      this.done(b);
      return;
    }
    const name = `${String(b.seq).padStart(12, '0')}-${b.id}-${b.lines}.ndjson.gz`;
    const file = join(this.opts.dir, name);
    try {
      // The sidecars first: a body on disk is a batch, and must be whole.
      if (b.offsets) writeAtomic(sidecar(file, 'offsets'), JSON.stringify(b.offsets));
      if (b.meta !== undefined) writeAtomic(sidecar(file, 'meta'), b.meta);
      writeAtomic(file, b.body!);
    } catch {
      // A full or unwritable disk: the batch stays in memory and is sent
      // from there, within the memory bound; past it the oldest batches in
      // memory are dropped and counted, as when the spool is full.
      this.#boundMemory();
      return;
    }
    if (b.body) this.#memory -= b.bytes;
    b.body = undefined;
    b.file = file;
    this.#spooled += b.bytes;
    this.spooledLines += b.lines;
  }

  #boundMemory(): void {
    while (this.#memory > this.opts.memoryBytes) {
      const victim = this.#items.find((x) => x.body !== undefined && x !== this.sending);
      if (!victim) return;
      this.#noteDrop(victim);
      this.done(victim);
    }
  }

  #noteDrop(b: Batch): void {
    const at = new Date().toISOString();
    this.#dropped.lines += b.lines;
    this.#dropped.batches++;
    this.#dropped.first ||= at;
    this.#dropped.last = at;
    this.droppedLines += b.lines;
    try {
      writeAtomic(this.#dropFile, JSON.stringify(this.#dropped));
    } catch {
      // The disk is what failed: the notice still goes out from memory.
    }
  }

  /** A loss not yet reported: the caller ships it as a synthetic event. */
  takeDropNotice(): { lines: number; batches: number; first: string; last: string } | undefined {
    if (this.#dropped.lines === 0) return undefined;
    const d = this.#dropped;
    this.#dropped = { lines: 0, batches: 0, first: '', last: '' };
    rmSync(this.#dropFile, { force: true });
    return d;
  }

  /** Resolves when a batch is added. */
  wait(): Promise<void> {
    return new Promise((r) => this.#waiters.push(r));
  }
}

/** A spooled batch's offsets or line meta, beside its body. */
function sidecar(file: string, kind: 'offsets' | 'meta'): string {
  return file.replace(/\.ndjson\.gz$/, `.${kind}.json`);
}

function writeAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

// Watches free space in the data directory; below SLUICE_MIN_FREE_DISK ingest
// answers 503 and /readyz fails, so clients back off before the disk fills.
import { statfs } from 'node:fs/promises';

export class DiskMonitor {
  #free = Number.POSITIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dir: string | undefined,
    private readonly minFreeBytes: number,
    private readonly everyMs = 5000,
  ) {}

  async start(): Promise<void> {
    await this.check();
    if (this.dir === undefined) return;
    this.#timer = setInterval(() => void this.check(), this.everyMs);
    this.#timer.unref();
  }

  async check(): Promise<void> {
    // With a ClickHouse server the data lives elsewhere; the server guards it.
    if (this.dir === undefined) return;
    try {
      const s = await statfs(this.dir);
      this.#free = s.bavail * s.bsize;
    } catch {
      this.#free = Number.POSITIVE_INFINITY;
    }
  }

  get freeBytes(): number {
    return this.#free;
  }

  get low(): boolean {
    return this.#free < this.minFreeBytes;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}

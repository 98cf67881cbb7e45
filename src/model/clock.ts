// The one clock of a serve process. Everything Sluice stamps or compares
// with what it stamped (received times, retention and future clamps, batch
// ages, the rollup watermark, alert windows, tail backfill, cache ages)
// reads it, so a test moves it instead of waiting, and SQL is given its
// "now" as a parameter rather than asking the engine, whose clock may
// differ (a ClickHouse server on another host).

export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
  /** Nanoseconds since the epoch. */
  nowNs(): bigint;
}

const NS_PER_MS = 1_000_000n;

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  // hrtime gives sub-millisecond resolution that Date lacks.
  nowNs: () => BigInt(Date.now()) * NS_PER_MS + (process.hrtime.bigint() % NS_PER_MS),
};

/** A clock that moves only when told: for tests, and for replaying a timeline. */
export class ManualClock implements Clock {
  #ns: bigint;

  constructor(startMs: number = Date.now()) {
    this.#ns = BigInt(Math.round(startMs)) * NS_PER_MS;
  }

  nowMs(): number {
    return Number(this.#ns / NS_PER_MS);
  }

  nowNs(): bigint {
    return this.#ns;
  }

  advance(ms: number): void {
    this.#ns += BigInt(Math.round(ms)) * NS_PER_MS;
  }

  set(ms: number): void {
    this.#ns = BigInt(Math.round(ms)) * NS_PER_MS;
  }
}

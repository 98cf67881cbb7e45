// Per-token ingest rate limit in events per second (SLUICE_TOKEN_RATE_LIMIT).
// A bucket may go into debt by one request, so a request larger than a
// second's allowance still passes once and the next ones wait it off.
// Bounded: one small record per token name.
export class RateLimiter {
  readonly #buckets = new Map<string, { level: number; at: number }>();

  constructor(private readonly perSecond: number) {}

  /** Seconds to wait before retrying, or 0 when the events may pass. */
  take(key: string, events: number, now = Date.now()): number {
    if (this.perSecond <= 0) return 0;
    const b = this.#buckets.get(key) ?? { level: this.perSecond, at: now };
    b.level = Math.min(this.perSecond, b.level + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.#buckets.set(key, b);
    if (b.level < 0) return Math.max(1, Math.ceil(-b.level / this.perSecond));
    b.level -= events;
    return 0;
  }
}

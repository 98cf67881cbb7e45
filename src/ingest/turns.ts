// Turns on the event loop for the requests' synchronous work (decoding a
// body, building its rows). Without them, every request whose body arrived
// in one poll of the sockets was decoded in that same iteration of the
// loop, one after another: under load that held timers, the live tail's
// sends and health checks for 190 ms at p99 (bench/ingest, #17). A turn is
// one request's work per iteration (setImmediate), in arrival order; the
// loop runs its timers and I/O between turns. The work is the same, so
// throughput is too.
export class Turns {
  readonly #waiting: Array<() => void> = [];
  #scheduled = false;
  #asked = 0;
  #granted = 0;

  /** Resolves when it is the caller's turn: the caller's synchronous work then runs alone in this iteration. */
  take(): Promise<void> {
    this.#asked++;
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#schedule();
    });
  }

  /** Turns asked for so far (requests received and waiting to be decoded, or done). */
  get asked(): number {
    return this.#asked;
  }

  /** Turns given so far. */
  get granted(): number {
    return this.#granted;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const next = this.#waiting.shift();
      if (next) {
        this.#granted++;
        next();
      }
      // Scheduled from inside the check phase, the next turn runs in the
      // next iteration, after the timers and the poll for I/O.
      if (this.#waiting.length > 0) this.#schedule();
    });
  }
}

// When each rule runs. The due times are pure bookkeeping over the `now` a
// caller passes (the app's clock), so tests move a ManualClock and tick by
// hand; the loop that ticks on its own is the only part that reads real
// time, and only to wait between ticks.
import { ms, type RuleSpec } from './rule.js';

/** A stable number from a rule id, to spread rules over their interval. */
export function phaseOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return h;
}

export class DueTimes {
  readonly #next = new Map<string, number>();

  /** The rules due at `now`, in their order; each one's next due time moves on by its interval. */
  take(rules: readonly RuleSpec[], now: number): RuleSpec[] {
    const due: RuleSpec[] = [];
    for (const rule of rules) {
      const interval = ms(rule.interval);
      // A rule seen for the first time starts at its own offset in the
      // interval, so rules made together do not all come due in one tick.
      const at = this.#next.get(rule.id) ?? now + (phaseOf(rule.id) % interval) - interval;
      if (at > now) {
        this.#next.set(rule.id, at);
        continue;
      }
      // Next on the rule's own phase after now: a tick that comes late (a
      // slow scan, a paused process) runs the rule once, not again at once.
      let next = at + interval;
      if (next <= now) next += Math.ceil((now - next + 1) / interval) * interval;
      this.#next.set(rule.id, next);
      due.push(rule);
    }
    return due;
  }

  /** Drops the rules not in `ids` (deleted). */
  keep(ids: ReadonlySet<string>): void {
    for (const id of this.#next.keys()) if (!ids.has(id)) this.#next.delete(id);
  }
}

/**
 * Runs `tick` one at a time: a tick asked for (by a test, say) while another
 * runs starts after it, so a rule is never evaluated twice at once. start()
 * adds a loop that ticks again `everyMs` after each tick ends.
 */
export class Ticker {
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    private readonly run: (now?: number) => Promise<void>,
    private readonly everyMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  tick(now?: number): Promise<void> {
    const next = this.#chain.then(() => this.run(now));
    this.#chain = next.catch(() => undefined);
    return next;
  }

  start(): void {
    const loop = () => {
      if (this.#stopped) return;
      this.#running = this.tick()
        .catch(this.onError)
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(loop, this.everyMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}

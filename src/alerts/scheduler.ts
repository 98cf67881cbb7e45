// When each rule runs. The due times are pure bookkeeping over the `now` a
// caller passes (the app's clock), so tests move a ManualClock and tick by
// hand; the loop that ticks on its own is the only part that reads real
// time, and only to wait between ticks.
import { ms, type RuleSpec } from './rule.js';

/**
 * A stable number from a rule id, to spread rules over their interval:
 * FNV-1a, then a final mix so ids that differ in one character (r-1, r-2)
 * land far apart, not a millisecond apart.
 */
export function phaseOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class DueTimes {
  readonly #next = new Map<string, number>();

  /**
   * Rules for which `together` holds come due on their interval's grid
   * (multiples of it on the clock), so rules that share one scan per tick
   * (the engine's short windows) are counted in the same tick instead of
   * each interval's worth of ticks scanning for a few of them. The others
   * are spread over their interval by their id.
   */
  constructor(private readonly together: (rule: RuleSpec) => boolean = () => false) {}

  /** The rules due at `now`, in their order; each one's next due time moves on by its interval. */
  take(rules: readonly RuleSpec[], now: number): RuleSpec[] {
    const due: RuleSpec[] = [];
    for (const rule of rules) {
      const interval = ms(rule.interval);
      // A rule seen for the first time is due at once: on the grid at its
      // last grid point, otherwise at its own offset in the interval, so
      // rules made together do not all come due in one tick.
      const at = this.#next.get(rule.id) ?? (this.together(rule) ? now - (((now % interval) + interval) % interval) : now + (phaseOf(rule.id) % interval) - interval);
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
 * adds a loop that ticks at the next multiple of `everyMs` on the clock
 * after each tick ends: rules due on a grid run as it comes round, not up
 * to a tick late, and a slow tick does not shift every later one.
 */
const GRID_SLACK_MS = 3;

export class Ticker {
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    private readonly run: (now?: number) => Promise<void>,
    private readonly everyMs: number,
    private readonly onError: (err: unknown) => void,
    private readonly clockMs: () => number = Date.now,
  ) {}

  tick(now?: number): Promise<void> {
    const next = this.#chain.then(() => this.run(now));
    this.#chain = next.catch(() => undefined);
    return next;
  }

  start(): void {
    const loop = () => {
      if (this.#stopped) return;
      // The grid point, not the moment the timer fired: counts kept
      // between ticks need the window's edges on the grid (./sliding.ts).
      const at = this.clockMs();
      this.#running = this.tick(at - (at % this.everyMs))
        .catch(this.onError)
        .finally(() => {
          // A few ms past the grid point: a timer may fire a little early
          // on the clock, and a rule due at the point must be due by then.
          if (!this.#stopped) this.#timer = setTimeout(loop, this.everyMs - (this.clockMs() % this.everyMs) + GRID_SLACK_MS);
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

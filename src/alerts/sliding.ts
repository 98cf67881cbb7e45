// What the shared scan of the short-window rules keeps between ticks, so a
// tick scans only what arrived since the last one instead of each rule's
// whole window again (bench/alerts: rescanning a minute at 20k events/s for
// 100 rules took ~0.9 s a tick, longer than a 1 s rule's interval).
//
// Per rule: counts per group in buckets of GRID_MS of received time,
// bucket b holding (b·GRID_MS, (b+1)·GRID_MS], kept up to the rule's
// settled point: a received time by which every event the store will hold
// is visible (Rollup.settledNs: no insert of this process holds an earlier
// one; on a shared server, a lag). A tick at `now` scans each rule from its
// settled point (or its window's start, the first time) to now; it keeps
// the buckets up to the new settled point and counts the rest for this tick
// only (the next tick scans them again). The window's count is the kept
// buckets inside it plus that rest: the number a scan of the whole window
// gives (test/alerts/counts.test.ts holds both to it). That needs the
// window's start on the grid: `now` and the window both multiples of
// GRID_MS, as the engine's own ticks are; other ticks (a test's clock, a
// window of 1100ms) scan the whole window as before.
//
// Bound: a rule keeps at most MAX_ENTRIES (bucket, group) counts; past it,
// it drops them and its whole window is scanned at each tick until the rule
// changes.
import { ms, type RuleSpec } from './rule.js';

export const GRID_MS = 250;
const MAX_ENTRIES = 200_000;

/** Counts per group key (a JSON array of the group's values; `[]` for a rule without groups). */
export type Tally = Map<string, number>;

/** One bucket's counts for one rule, as a scan returns them. */
export interface BucketRow {
  readonly bucket: number;
  readonly tally: Tally;
}

interface Kept {
  readonly sig: string;
  settled: number;
  readonly buckets: Map<number, Tally>;
  entries: number;
}

/** What a rule's counts depend on: a change to any of it starts the rule afresh. */
const signature = (rule: RuleSpec) => JSON.stringify([rule.query, rule.window, rule.group_by]);

export function addInto(into: Tally, from: Tally): number {
  let added = 0;
  for (const [k, n] of from) {
    const had = into.get(k);
    if (had === undefined) added++;
    into.set(k, (had ?? 0) + n);
  }
  return added;
}

export class SlidingCounts {
  readonly #kept = new Map<string, Kept>();
  /** Rules over MAX_ENTRIES (id → the signature that was): counted whole. */
  readonly #tooBig = new Map<string, string>();

  /** Whether `rule` can be counted at `now` from kept buckets. */
  fits(rule: RuleSpec, now: number): boolean {
    return now % GRID_MS === 0 && ms(rule.window) % GRID_MS === 0 && this.#tooBig.get(rule.id) !== signature(rule);
  }

  /** Where a scan for `rule` at `now` starts: its settled point, or its window's start. Drops the buckets that left the window. */
  from(rule: RuleSpec, now: number): number {
    const start = now - ms(rule.window);
    const k = this.#kept.get(rule.id);
    // Nothing kept, another version of the rule, kept too long ago, or a
    // clock that went back: start afresh.
    if (!k || k.sig !== signature(rule) || k.settled < start || k.settled > now) {
      this.#kept.delete(rule.id);
      return start;
    }
    for (const [b, t] of k.buckets) {
      if (b * GRID_MS >= start) continue;
      k.buckets.delete(b);
      k.entries -= t.size;
    }
    return k.settled;
  }

  /**
   * Takes the scan of `rule` over (from, now] by bucket: keeps the buckets
   * that end by `settled`, and gives the window's tally at `now`.
   */
  take(rule: RuleSpec, now: number, from: number, settled: number, rows: readonly BucketRow[]): Tally {
    let k = this.#kept.get(rule.id);
    if (!k && settled > from) this.#kept.set(rule.id, (k = { sig: signature(rule), settled: from, buckets: new Map(), entries: 0 }));
    const total: Tally = new Map();
    for (const { bucket, tally } of rows) {
      addInto(total, tally);
      if (!k || (bucket + 1) * GRID_MS > settled) continue;
      let kept = k.buckets.get(bucket);
      if (!kept) k.buckets.set(bucket, (kept = new Map()));
      k.entries += addInto(kept, tally);
    }
    if (!k) return total;
    for (const [b, t] of k.buckets) if ((b + 1) * GRID_MS <= from) addInto(total, t);
    if (settled > k.settled) k.settled = settled;
    if (k.entries > MAX_ENTRIES) {
      this.#kept.delete(rule.id);
      this.#tooBig.set(rule.id, k.sig);
    }
    return total;
  }

  /** Forgets the rules not in `ids` (deleted). */
  keep(ids: ReadonlySet<string>): void {
    for (const id of this.#kept.keys()) if (!ids.has(id)) this.#kept.delete(id);
    for (const id of this.#tooBig.keys()) if (!ids.has(id)) this.#tooBig.delete(id);
  }
}

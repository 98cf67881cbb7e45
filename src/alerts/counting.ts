// Turns a rule into counts per group over (now - window, now] by received
// time, and fetches the sample lines a notice carries. Fields resolve
// through the query layer's column table (../query/columns.ts), so a field
// the search language knows as a column is a column here too; the rollup
// path reads under the rollup's own rollup-plus-raw guard (Rollup.reading),
// which holds the watermark still between the two reads. Time is the
// caller's `now` (the app's clock), given to SQL as parameters. Counts are
// read on the store's alerts session; the sample lines of a notice on the
// query session, so a burst of notices does not hold up the next count.
import type { AppContext } from '../context.js';
import type { EventJson } from '../model/event.js';
import { formatClickHouse } from '../model/time.js';
import { EVENT_SELECT, field, groupSql, inRollup, paramsInto } from '../query/columns.js';
import { newPatternCounts } from '../patterns/new-patterns.js';
import { knowPatternsOf, templateRegex } from '../patterns/registry.js';
import { compileForRollup, compileQuery } from '../query/language/compile.js';
import { readRows } from '../query/read.js';
import { type EventRow, toEventJson } from '../store/events-read.js';
import { type GroupCount, groupKey } from './evaluate.js';
import { ms, type RuleSpec } from './rule.js';
import { addInto, type BucketRow, GRID_MS, SlidingCounts, type Tally } from './sliding.js';

const KNOWN_GROUPS_TTL_MS = 5 * 60_000;
const SAMPLES = 5;
const MINUTE = 60_000;

const nsText = (t: number) => formatClickHouse(BigInt(t) * 1_000_000n);

/** The SQL of a group-by field (a column of ../query/columns.ts, or an attribute), its key a parameter `gk${tag}_N`. */
function groupExpr(name: string, tag: number | string, params: Record<string, unknown>): string {
  return groupSql(name, paramsInto(params, 'gk' + tag + '_'));
}

type Found = ReadonlyArray<{ labels: Record<string, string>; count: number }>;

export class RuleCounter {
  readonly #known = new Map<string, { at: number; groups: GroupCount[] }>();
  readonly #sliding = new SlidingCounts();

  constructor(private readonly ctx: AppContext) {}

  /**
   * Counts for several rules from one scan of raw events: a countIf per
   * ungrouped rule, a sumMapIf keyed by the group's values per grouped
   * rule, each over its own range. A rule the sliding counts fit scans only
   * from its settled point (./sliding.ts); the others their whole window.
   * The same answer as counts(rule, now, false) for each rule.
   */
  async batchCounts(rules: readonly RuleSpec[], now: number): Promise<Map<string, Map<string, GroupCount>>> {
    for (const r of rules) await knowPatternsOf(this.ctx, r.query);
    const sliding = rules.map((r) => this.#sliding.fits(r, now));
    const froms = rules.map((r, i) => (sliding[i] ? this.#sliding.from(r, now) : now - ms(r.window)));
    // Not the tick's own bucket: an event stamped at `now` may still be on
    // its way to the store.
    const settledMs = Number(this.ctx.rollup.settledNs(BigInt(now - 1) * 1_000_000n) / 1_000_000n);
    const settled = settledMs - (settledMs % GRID_MS);
    const rows = await this.#scan(rules, froms, now, sliding.some(Boolean));
    const out = new Map<string, Map<string, GroupCount>>();
    for (const [i, rule] of rules.entries()) {
      const tally = sliding[i] ? this.#sliding.take(rule, now, froms[i]!, settled, rows[i]!) : rows[i]!.reduce((t, r) => (addInto(t, r.tally), t), new Map() as Tally);
      const found = [...tally].map(([key, count]) => {
        const values = JSON.parse(key) as string[];
        return { labels: Object.fromEntries(rule.group_by.map((f, n) => [f, values[n] ?? ''])), count };
      });
      out.set(rule.id, await this.#complete(rule, now, found));
    }
    return out;
  }

  /** One scan of raw events: rule i over (froms[i], to], per bucket of received time (sliding.ts's grid) when `byBucket`. */
  async #scan(rules: readonly RuleSpec[], froms: readonly number[], to: number, byBucket: boolean): Promise<BucketRow[][]> {
    const lowest = Math.min(...froms);
    const params: Record<string, unknown> = { to: nsText(to), from: nsText(lowest), grid: GRID_MS * 1_000_000 };
    // One parameter per distinct start, and none for the rules that start
    // where the scan does (after the first tick, most): the engine's
    // analysis of a 100-rule scan costs more than reading a second of
    // events, and each parameter is a cast to analyse.
    const starts = new Map<number, string>();
    const cols = rules.map((rule, i) => {
      // Distinct prefixes: q1_ and q11_ cannot make the same name.
      const q = compileQuery(rule.query, 'q' + i + '_');
      Object.assign(params, q.params);
      let cond = '(' + q.sql + ')';
      if (froms[i]! !== lowest) {
        let name = starts.get(froms[i]!);
        if (name === undefined) starts.set(froms[i]!, (name = 'f' + starts.size));
        params[name] = nsText(froms[i]!);
        cond = 'received_at > {' + name + ':DateTime64(9)} AND ' + cond;
      }
      if (rule.group_by.length === 0) return 'countIf(' + cond + ') AS c' + i;
      // One field: its value is the key (a JSON array is made here, not by
      // the engine for every row); more: a JSON array of their values.
      const values = rule.group_by.map((f, j) => 'toString(' + groupExpr(f, i + '_' + j, params) + ')');
      const key = values.length === 1 ? values[0]! : 'toJSONString([' + values.join(', ') + '])';
      return 'sumMapIf([' + key + '], [toUInt64(1)], ' + cond + ') AS c' + i;
    });
    const found = await readRows<Record<string, string | number | [string[], Array<string | number>]>>(
      this.ctx,
      [
        'SELECT', [byBucket ? 'intDiv(toUnixTimestamp64Nano(received_at) - 1, {grid:Int64}) AS b' : '0 AS b', ...cols].join(',\n'),
        'FROM logs',
        'WHERE received_at > {from:DateTime64(9)} AND received_at <= {to:DateTime64(9)}',
        byBucket ? 'GROUP BY b' : '',
      ].join('\n'),
      params,
      this.ctx.store.alerts,
    );
    return rules.map((rule, i) =>
      found.map((row) => {
        const value = row['c' + i];
        const tally: Tally = new Map();
        if (rule.group_by.length === 0) {
          if (Number(value) > 0) tally.set('[]', Number(value));
        } else if (Array.isArray(value)) {
          const [keys, counts] = value as [string[], Array<string | number>];
          keys.forEach((k, j) => tally.set(rule.group_by.length === 1 ? JSON.stringify([k]) : k, Number(counts[j] ?? 0)));
        }
        return { bucket: Number(row.b), tally };
      }),
    );
  }

  /**
   * Counts per group. When the query names only rollup columns (service,
   * level) and so do the groups, the full minutes up to the rollup's
   * watermark come from the received-minute rollup and the rest (the
   * partial first minute, the minutes since the watermark) from raw events;
   * the sum is still exact.
   */
  async counts(rule: RuleSpec, now: number, useRollup = true): Promise<Map<string, GroupCount>> {
    // A rule may name a pattern this process has not listed (after a restart).
    await knowPatternsOf(this.ctx, rule.query);
    if (rule.kind === 'new_pattern') return newPatternCounts(this.ctx, rule, now);
    const fromMs = now - ms(rule.window);
    const firstFull = Math.ceil(fromMs / MINUTE) * MINUTE;
    const endFull = Math.floor(now / MINUTE) * MINUTE;
    const rollup = useRollup && endFull > firstFull && inRollup(rule.group_by) ? compileForRollup(rule.query, 'r') : undefined;
    if (!rollup) return this.#complete(rule, now, await this.#raw(rule, fromMs, now));
    const rows = await this.ctx.rollup.reading(async (w) => {
      // The rollup is complete for every minute that ends at or before W.
      const lastFull = Math.min(endFull, Math.floor(Number(w / 1_000_000n) / MINUTE) * MINUTE);
      if (lastFull <= firstFull) return this.#raw(rule, fromMs, now);
      const names = rule.group_by.map((_, i) => 'g' + i);
      const rparams: Record<string, unknown> = { ...rollup.params, rf: firstFull / 1000, rt: lastFull / 1000 };
      const summed = await readRows<Record<string, string | number>>(
        this.ctx,
        [
          // inRollup: every group is a rollup column, named alike there.
          'SELECT', [...rule.group_by.map((f, i) => field(f)!.name + ' AS g' + i), 'sum(count) AS n'].join(', '),
          'FROM logs_received_per_minute',
          'WHERE minute >= {rf:DateTime} AND minute < {rt:DateTime} AND', rollup.sql,
          names.length > 0 ? 'GROUP BY ' + names.join(', ') : '',
        ].join('\n'),
        rparams,
        this.ctx.store.alerts,
      );
      return [...(await this.#raw(rule, fromMs, now, { e1: firstFull, e2: lastFull })), ...this.#labelled(rule, summed)];
    });
    return this.#complete(rule, now, rows);
  }

  /** Raw counts over (from, to], or only its edges (from, e1) and [e2, to] when the rollup has the middle. */
  async #raw(rule: RuleSpec, fromMs: number, toMs: number, gap?: { e1: number; e2: number }): Promise<Found> {
    const q = compileQuery(rule.query, 'q');
    const params: Record<string, unknown> = { ...q.params, from: nsText(fromMs), to: nsText(toMs) };
    const groups = rule.group_by.map((f, i) => groupExpr(f, i, params) + ' AS g' + i);
    const names = rule.group_by.map((_, i) => 'g' + i);
    let window = 'received_at > {from:DateTime64(9)} AND received_at <= {to:DateTime64(9)}';
    if (gap) {
      window = '((received_at > {from:DateTime64(9)} AND received_at < {e1:DateTime64(9)}) OR (received_at >= {e2:DateTime64(9)} AND received_at <= {to:DateTime64(9)}))';
      params.e1 = nsText(gap.e1);
      params.e2 = nsText(gap.e2);
    }
    const rows = await readRows<Record<string, string | number>>(
      this.ctx,
      ['SELECT', [...groups, 'count() AS n'].join(', '), 'FROM logs', 'WHERE', window, 'AND', q.sql, names.length > 0 ? 'GROUP BY ' + names.join(', ') : ''].join('\n'),
      params,
      this.ctx.store.alerts,
    );
    return this.#labelled(rule, rows);
  }

  #labelled(rule: RuleSpec, rows: ReadonlyArray<Record<string, string | number>>): Found {
    return rows.map((r) => ({ labels: Object.fromEntries(rule.group_by.map((f, i) => [f, String(r['g' + i])])), count: Number(r.n) }));
  }

  /** Sums rows per group; adds the zero an ungrouped rule needs and, for `<` rules, the silent groups. */
  async #complete(rule: RuleSpec, now: number, rows: Found): Promise<Map<string, GroupCount>> {
    const out = new Map<string, GroupCount>();
    for (const r of rows) {
      const key = groupKey(r.labels);
      const count = r.count + (out.get(key)?.count ?? 0);
      if (count > 0 || rule.group_by.length === 0) out.set(key, { labels: r.labels, count });
    }
    if (rule.group_by.length === 0 && out.size === 0) out.set(groupKey({}), { labels: {}, count: 0 });
    if ((rule.condition.op === '<' || rule.condition.op === '<=') && rule.group_by.length > 0) {
      // A silent group must count as zero, so a dead service fires.
      for (const g of await this.knownGroups(rule, now)) if (!out.has(groupKey(g.labels))) out.set(groupKey(g.labels), { labels: g.labels, count: 0 });
    }
    return out;
  }

  /** The groups a rule's query matched in the last day (cached for five minutes). */
  async knownGroups(rule: RuleSpec, now: number): Promise<GroupCount[]> {
    await knowPatternsOf(this.ctx, rule.query);
    const cached = this.#known.get(rule.id);
    if (cached && now - cached.at < KNOWN_GROUPS_TTL_MS) return cached.groups;
    const q = compileQuery(rule.query, 'q');
    const params: Record<string, unknown> = { ...q.params, from: nsText(now - 86_400_000) };
    const groups = rule.group_by.map((f, i) => groupExpr(f, i, params) + ' AS g' + i);
    const rows = await readRows<Record<string, string>>(
      this.ctx,
      ['SELECT DISTINCT', groups.join(', '), 'FROM logs WHERE received_at > {from:DateTime64(9)} AND', q.sql, 'LIMIT 1000'].join('\n'),
      params,
      this.ctx.store.alerts,
    );
    const found = rows.map((r) => ({ labels: Object.fromEntries(rule.group_by.map((f, i) => [f, String(r['g' + i])])), count: 0 }));
    this.#known.set(rule.id, { at: now, groups: found });
    return found;
  }

  /** Up to five of the newest events of a group in the window. */
  async samples(rule: RuleSpec, labels: Record<string, string>, now: number): Promise<EventJson[]> {
    await knowPatternsOf(this.ctx, rule.query);
    const q = compileQuery(rule.query, 'q');
    const params: Record<string, unknown> = { ...q.params, from: nsText(now - ms(rule.window)), to: nsText(now), n: SAMPLES };
    const where = ['received_at > {from:DateTime64(9)}', 'received_at <= {to:DateTime64(9)}', q.sql];
    rule.group_by.forEach((f, i) => {
      where.push(groupExpr(f, i, params) + ' = {gv' + i + ':String}');
      params['gv' + i] = labels[f] ?? '';
    });
    if (rule.kind === 'new_pattern' && labels.template !== undefined) {
      where.push('match(message, {pattern:String})');
      params.pattern = templateRegex(labels.template);
    }
    const rows = await readRows<EventRow>(this.ctx, ['SELECT', EVENT_SELECT, 'FROM logs WHERE', where.join(' AND '), 'ORDER BY received_at DESC LIMIT {n:UInt32}'].join('\n'), params);
    return rows.map(toEventJson);
  }

  /** Forgets the cached groups of rules not in `ids`. */
  keep(ids: ReadonlySet<string>): void {
    for (const id of this.#known.keys()) if (!ids.has(id)) this.#known.delete(id);
    this.#sliding.keep(ids);
  }
}

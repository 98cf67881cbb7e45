// Runs the rules (only in a process with the `alerts` role; a deployment
// runs one): every half second it evaluates the rules that are due, counts by
// received time over the exact window, persists changed states, and hands
// notifications to delivery without waiting for it. Time is the app's clock
// (ctx.clock), given to SQL as parameters: received times are Sluice's, and
// the engine's own now() may differ (a server on another host).
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import { type EventJson } from '../model/event.js';
import { formatClickHouse, formatRfc3339 } from '../model/time.js';
import { EVENT_SELECT, field, groupSql, inRollup, paramsInto } from '../query/columns.js';
import { compileForRollup, compileQuery } from '../query/language/compile.js';
import { readRows } from '../query/read.js';
import { type EventRow, toEventJson } from '../store/events-read.js';
import { deliver, type DeliveryOptions } from './deliver.js';
import { evaluate, type GroupCount, groupKey, type GroupState, type Notification } from './evaluate.js';
import { FORMATTERS } from './notify/registry.js';
import { parseAllow } from './notify/safe-http.js';
import type { TestNotification } from './notify/types.js';
import { loadRules, loadStates, saveStates } from './records.js';
import { ms, type RuleSpec } from './rule.js';

// Half a second: a rule runs at most this late after it is due; each tick
// with due rules is one scan (batchCounts), so a shorter tick costs scans.
const TICK_MS = 500;
const RELOAD_MS = 5000;
const KNOWN_GROUPS_TTL_MS = 5 * 60_000;
const SAMPLES = 5;
// Rules with windows up to this long are counted together in one scan of
// raw events per tick; longer ones each use the rollup or their own scan.
const BATCH_MAX_WINDOW_MS = 15 * 60_000;

const nsText = (t: number) => formatClickHouse(BigInt(t) * 1_000_000n);

/** The SQL of a group-by field (a column of ../query/columns.ts, or an attribute), its key a parameter `gk${tag}_N`. */
function groupExpr(name: string, tag: number | string, params: Record<string, unknown>): string {
  return groupSql(name, paramsInto(params, 'gk' + tag + '_'));
}

/** A stable number from a rule id, to spread rules over their interval. */
function phaseOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return h;
}

export class AlertEngine {
  #rules: RuleSpec[] = [];
  #states = new Map<string, Map<string, GroupState>>();
  readonly #due = new Map<string, number>();
  readonly #known = new Map<string, { at: number; groups: GroupCount[] }>();
  readonly #inflight = new Set<Promise<unknown>>();
  #timer: NodeJS.Timeout | undefined;
  #loadedAt = 0;
  #running: Promise<void> | undefined;
  // Ticks run one at a time: a tick called (by a test, say) while the loop's
  // runs starts after it, so a rule is never evaluated twice at once.
  #ticking: Promise<void> = Promise.resolve();
  #stopped = false;
  readonly #delivery: DeliveryOptions;
  readonly #abort = new AbortController();

  constructor(
    private readonly ctx: AppContext,
    private readonly log: FastifyBaseLogger,
    delivery: Partial<DeliveryOptions> = {},
  ) {
    this.#delivery = {
      allow: parseAllow(ctx.config.webhooks.allow), timeoutMs: ctx.config.webhooks.timeoutMs, attempts: 5, baseDelayMs: 1000,
      signal: this.#abort.signal, clock: ctx.clock, ...delivery,
    };
  }

  /** Reads the rules and their states; start() does it, a test that ticks by hand calls it alone. */
  async load(): Promise<void> {
    this.#states = await loadStates(this.ctx.store);
    await this.reload();
  }

  async start(): Promise<void> {
    await this.load();
    const loop = () => {
      if (this.#stopped) return;
      this.#running = this.tick()
        .catch((err: unknown) => this.log.error({ err }, 'alerts: evaluation failed'))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(loop, TICK_MS);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    clearTimeout(this.#timer);
    await this.#running;
    await this.idle();
  }

  /** Resolves when every notice handed to delivery so far has been delivered or given up. */
  async idle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  async reload(): Promise<void> {
    this.#rules = await loadRules(this.ctx.store);
    this.#loadedAt = this.ctx.clock.nowMs();
    const ids = new Set(this.#rules.map((r) => r.id));
    for (const id of this.#due.keys()) if (!ids.has(id)) this.#due.delete(id);
  }

  /** Evaluates the rules due at `now` (the clock's, read when called). */
  tick(now = this.ctx.clock.nowMs()): Promise<void> {
    const run = this.#ticking.then(() => this.#tick(now));
    this.#ticking = run.catch(() => undefined);
    return run;
  }

  async #tick(now: number): Promise<void> {
    if (now - this.#loadedAt >= RELOAD_MS) await this.reload();
    const due: RuleSpec[] = [];
    for (const rule of this.#rules) {
      const interval = ms(rule.interval);
      // A rule seen for the first time starts at its own offset in the
      // interval, so rules made together do not all come due in one tick.
      const at = this.#due.get(rule.id) ?? now + (phaseOf(rule.id) % interval) - interval;
      if (at > now) {
        this.#due.set(rule.id, at);
        continue;
      }
      this.#due.set(rule.id, Math.max(at + interval, now));
      due.push(rule);
    }
    // The due rules with short windows share one scan of the window; a
    // failed batch (one rule's regex, say) falls back to a query per rule so
    // one rule cannot stop the others.
    const batch = due.filter((r) => ms(r.window) <= BATCH_MAX_WINDOW_MS);
    let counted = new Map<string, Map<string, GroupCount>>();
    if (batch.length > 1) {
      counted = await this.batchCounts(batch, now).catch((err: unknown) => {
        this.log.warn({ err, rules: batch.length }, 'alerts: batched evaluation failed; evaluating rule by rule');
        return new Map<string, Map<string, GroupCount>>();
      });
    }
    for (const rule of due) {
      try {
        await this.evaluateRule(rule, now, counted.get(rule.id));
      } catch (err) {
        this.log.warn({ err, rule: rule.name }, 'alerts: rule evaluation failed');
      }
    }
  }

  /**
   * Counts for several rules from one scan of raw events over the widest of
   * their windows: a countIf per ungrouped rule, a sumMapIf keyed by the
   * group's values per grouped rule, each with its own window and query.
   * The same answer as counts(rule, now, false) for each rule.
   */
  async batchCounts(rules: readonly RuleSpec[], now: number): Promise<Map<string, Map<string, GroupCount>>> {
    const params: Record<string, unknown> = { to: nsText(now) };
    const cols: string[] = [];
    let widest = 0;
    rules.forEach((rule, i) => {
      widest = Math.max(widest, ms(rule.window));
      // Distinct prefixes: q1_ and q11_ cannot make the same name.
      const q = compileQuery(rule.query, 'q' + i + '_');
      Object.assign(params, q.params);
      params['f' + i] = nsText(now - ms(rule.window));
      const cond = 'received_at > {f' + i + ':DateTime64(9)} AND (' + q.sql + ')';
      if (rule.group_by.length === 0) {
        cols.push('countIf(' + cond + ') AS c' + i);
      } else {
        const key = 'toJSONString([' + rule.group_by.map((f, j) => 'toString(' + groupExpr(f, i + '_' + j, params) + ')').join(', ') + '])';
        cols.push('sumMapIf([' + key + '], [toUInt64(1)], ' + cond + ') AS c' + i);
      }
    });
    params.from = nsText(now - widest);
    const [row] = await readRows<Record<string, string | number | [string[], Array<string | number>]>>(
      this.ctx,
      ['SELECT', cols.join(',\n'), 'FROM logs', 'WHERE received_at > {from:DateTime64(9)} AND received_at <= {to:DateTime64(9)}'].join('\n'),
      params,
    );
    const out = new Map<string, Map<string, GroupCount>>();
    for (const [i, rule] of rules.entries()) {
      const value = row?.['c' + i];
      const found: Array<{ labels: Record<string, string>; count: number }> = [];
      if (rule.group_by.length === 0) {
        found.push({ labels: {}, count: Number(value ?? 0) });
      } else if (Array.isArray(value)) {
        const [keys, counts] = value as [string[], Array<string | number>];
        keys.forEach((k, j) => {
          const values = JSON.parse(k) as string[];
          found.push({ labels: Object.fromEntries(rule.group_by.map((f, n) => [f, values[n] ?? ''])), count: Number(counts[j] ?? 0) });
        });
      }
      out.set(rule.id, await this.#complete(rule, now, found));
    }
    return out;
  }

  /**
   * Counts per group over (now - window, now] by received time. When the
   * query names only service and level and the groups are among them, the
   * full minutes up to the rollup's watermark come from the received-minute
   * rollup and the rest (the partial first minute, the minutes since the
   * watermark) from raw events; the sum is still exact.
   */
  async counts(rule: RuleSpec, now: number, useRollup = true): Promise<Map<string, GroupCount>> {
    const fromMs = now - ms(rule.window);
    const firstFull = Math.ceil(fromMs / 60_000) * 60_000;
    // The rollup is complete for every minute that ends at or before its
    // watermark: later chunks only add to later minutes, so this needs no
    // lock against the job moving the watermark meanwhile.
    let lastFull = Math.floor(now / 60_000) * 60_000;
    if (useRollup && lastFull > firstFull) {
      const w = Math.floor(Number((await this.ctx.rollup.watermark()) / 1_000_000n) / 60_000) * 60_000;
      if (w < lastFull) lastFull = w;
    }
    const rollup = useRollup && lastFull > firstFull && inRollup(rule.group_by) ? compileForRollup(rule.query, 'r') : undefined;
    const ns = (t: number) => formatClickHouse(BigInt(t) * 1_000_000n);

    const q = compileQuery(rule.query, 'q');
    const params: Record<string, unknown> = { ...q.params, from: ns(fromMs), to: ns(now) };
    const groups = rule.group_by.map((f, i) => groupExpr(f, i, params) + ' AS g' + i);
    const names = rule.group_by.map((_, i) => 'g' + i);
    let window = 'received_at > {from:DateTime64(9)} AND received_at <= {to:DateTime64(9)}';
    if (rollup) {
      window = '((received_at > {from:DateTime64(9)} AND received_at < {e1:DateTime64(9)}) OR (received_at >= {e2:DateTime64(9)} AND received_at <= {to:DateTime64(9)}))';
      params.e1 = ns(firstFull);
      params.e2 = ns(lastFull);
    }
    const rows = await readRows<Record<string, string | number>>(
      this.ctx,
      ['SELECT', [...groups, 'count() AS n'].join(', '), 'FROM logs', 'WHERE', window, 'AND', q.sql, names.length > 0 ? 'GROUP BY ' + names.join(', ') : ''].join('\n'),
      params,
    );
    if (rollup) {
      const rparams: Record<string, unknown> = { ...rollup.params, rf: firstFull / 1000, rt: lastFull / 1000 };
      rows.push(
        ...(await readRows<Record<string, string | number>>(
          this.ctx,
          [
            // inRollup: every group is a rollup column, named alike there.
            'SELECT', [...rule.group_by.map((f, i) => field(f)!.name + ' AS g' + i), 'sum(count) AS n'].join(', '),
            'FROM logs_received_per_minute',
            'WHERE minute >= {rf:DateTime} AND minute < {rt:DateTime} AND', rollup.sql,
            names.length > 0 ? 'GROUP BY ' + names.join(', ') : '',
          ].join('\n'),
          rparams,
        )),
      );
    }
    return this.#complete(
      rule,
      now,
      rows.map((r) => ({ labels: Object.fromEntries(rule.group_by.map((f, i) => [f, String(r['g' + i])])), count: Number(r.n) })),
    );
  }

  /** Sums rows per group; adds the zero an ungrouped rule needs and, for `<` rules, the silent groups. */
  async #complete(rule: RuleSpec, now: number, rows: ReadonlyArray<{ labels: Record<string, string>; count: number }>): Promise<Map<string, GroupCount>> {
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

  async knownGroups(rule: RuleSpec, now: number): Promise<GroupCount[]> {
    const cached = this.#known.get(rule.id);
    if (cached && now - cached.at < KNOWN_GROUPS_TTL_MS) return cached.groups;
    const q = compileQuery(rule.query, 'q');
    const params: Record<string, unknown> = { ...q.params, from: formatClickHouse(BigInt(now - 86_400_000) * 1_000_000n) };
    const groups = rule.group_by.map((f, i) => groupExpr(f, i, params) + ' AS g' + i);
    const rows = await readRows<Record<string, string>>(
      this.ctx,
      ['SELECT DISTINCT', groups.join(', '), 'FROM logs WHERE received_at > {from:DateTime64(9)} AND', q.sql, 'LIMIT 1000'].join('\n'),
      params,
    );
    const found = rows.map((r) => ({ labels: Object.fromEntries(rule.group_by.map((f, i) => [f, String(r['g' + i])])), count: 0 }));
    this.#known.set(rule.id, { at: now, groups: found });
    return found;
  }

  async evaluateRule(rule: RuleSpec, now: number, counted?: Map<string, GroupCount>): Promise<Notification[]> {
    const counts = counted ?? (await this.counts(rule, now));
    const prev = this.#states.get(rule.id) ?? new Map<string, GroupState>();
    const ev = evaluate(rule, counts, prev, now, randomUUID);
    const changed = new Map([...ev.states].filter(([k, s]) => {
      const p = prev.get(k);
      return !p || p.state !== s.state || p.lastNotified !== s.lastNotified;
    }));
    // State first: a notice goes out only once its state is recorded, so a
    // restart never sends it again.
    await saveStates(this.ctx.store, rule.id, changed);
    this.#states.set(rule.id, ev.states);
    this.ctx.metrics.alertEvaluations.inc();
    for (const n of ev.notifications) this.#send(rule, n, now);
    return ev.notifications;
  }

  async samples(rule: RuleSpec, labels: Record<string, string>, now: number): Promise<EventJson[]> {
    const q = compileQuery(rule.query, 'q');
    const params: Record<string, unknown> = {
      ...q.params,
      from: formatClickHouse(BigInt(now - ms(rule.window)) * 1_000_000n),
      to: formatClickHouse(BigInt(now) * 1_000_000n),
      n: SAMPLES,
    };
    const where = ['received_at > {from:DateTime64(9)}', 'received_at <= {to:DateTime64(9)}', q.sql];
    rule.group_by.forEach((f, i) => {
      where.push(groupExpr(f, i, params) + ' = {gv' + i + ':String}');
      params['gv' + i] = labels[f] ?? '';
    });
    const rows = await readRows<EventRow>(this.ctx, ['SELECT', EVENT_SELECT, 'FROM logs WHERE', where.join(' AND '), 'ORDER BY received_at DESC LIMIT {n:UInt32}'].join('\n'), params);
    return rows.map(toEventJson);
  }

  searchUrl(rule: RuleSpec, labels: Record<string, string>, now: number): string {
    const terms = Object.entries(labels).map(([k, v]) => `${k}:${JSON.stringify(v)}`);
    const q = [rule.query ? `(${rule.query})` : '', ...terms].filter(Boolean).join(' ');
    const qs = new URLSearchParams({ q, from: formatRfc3339(BigInt(now - ms(rule.window)) * 1_000_000n), to: formatRfc3339(BigInt(now) * 1_000_000n) });
    return `${this.ctx.config.publicUrl}/api/v1/search?${qs}`;
  }

  #send(rule: RuleSpec, n: Notification | TestNotification, now: number): void {
    const job = (async () => {
      const samples = n.kind === 'resolved' ? [] : await this.samples(rule, n.labels, now).catch(() => []);
      await Promise.all(rule.targets.map((target) => this.#deliverTo(rule, n, target, samples, now)));
    })();
    this.#inflight.add(job);
    void job.finally(() => this.#inflight.delete(job));
  }

  #deliverTo(rule: RuleSpec, n: Notification | TestNotification, target: RuleSpec['targets'][number], samples: EventJson[], now: number): Promise<boolean> {
    const payload = FORMATTERS[target.format]({ rule, notification: n, samples, searchUrl: this.searchUrl(rule, n.labels, now), publicUrl: this.ctx.config.publicUrl });
    return deliver(
      this.ctx.store,
      this.log,
      { ruleId: rule.id, ruleName: rule.name, groupKey: n.groupKey, kind: n.kind, notificationId: n.id, target, payload },
      this.#delivery,
    );
  }

  /** POST /rules/{id}/test: a sample notice to every target, now. */
  async test(rule: RuleSpec): Promise<Array<{ target: string; delivered: boolean }>> {
    const now = this.ctx.clock.nowMs();
    const n: TestNotification = { kind: 'test', groupKey: groupKey({}), labels: {}, value: 0, id: randomUUID(), episode: 'test', startedAt: now, at: now };
    const samples = await this.samples(rule, {}, now).catch(() => []);
    return Promise.all(
      rule.targets.map(async (t) => ({ target: t.url, delivered: await this.#deliverTo(rule, n, t, samples, now) })),
    );
  }

  statesOf(ruleId: string): Map<string, GroupState> {
    return this.#states.get(ruleId) ?? new Map();
  }
}

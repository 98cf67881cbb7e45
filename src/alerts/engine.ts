// Runs the rules (only in a process with the `alerts` role; a deployment
// runs one) by wiring four parts: the scheduler (which rules are due at the
// app's clock), the counting (a rule → counts per group), the state machine
// (evaluate.ts, pure) and the fan-out (notices to targets and pushes to
// Alertmanager, not awaited).
// Each changed state is stored before its notice goes out, so a restart
// neither fires again nor misses a resolve.
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import { AlertmanagerPush } from './alertmanager.js';
import { RuleCounter } from './counting.js';
import type { DeliveryOptions } from './deliver.js';
import { evaluate, type GroupCount, groupKey, type GroupState, type Notification } from './evaluate.js';
import { Fanout } from './fanout.js';
import type { TestNotification } from './notify/types.js';
import { loadRules, loadStates, saveStates } from './records.js';
import { ms, type RuleSpec, snoozed } from './rule.js';
import { DueTimes, Ticker } from './scheduler.js';

// Half a second: a rule runs at most this late after it is due; each tick
// with due rules is one scan (batchCounts), so a shorter tick costs scans.
// A multiple of sliding.ts's GRID_MS, so the ticks' counts can be kept.
const TICK_MS = 500;
const RELOAD_MS = 5000;
// Rules with windows up to this long are counted together in one scan of
// raw events per tick; longer ones each use the rollup or their own scan.
const BATCH_MAX_WINDOW_MS = 15 * 60_000;

/** How a rule's last evaluation went, in this process (the API shows it). */
export interface RuleStatus {
  lastEvaluatedAt: number;
  /** The last evaluation's error, or '' when it succeeded. */
  lastError: string;
}

/** One rule's evaluation in a tick, before its states are stored. */
interface Evaluated {
  readonly rule: RuleSpec;
  readonly states: Map<string, GroupState>;
  readonly notifications: Notification[];
  readonly changed: Map<string, GroupState>;
  readonly quiet: boolean;
}

export class AlertEngine {
  #rules: RuleSpec[] = [];
  #states = new Map<string, Map<string, GroupState>>();
  readonly #status = new Map<string, RuleStatus>();
  // Short-window rules share one scan per tick, so they come due together.
  readonly #due = new DueTimes((r) => ms(r.window) <= BATCH_MAX_WINDOW_MS);
  readonly #ticker: Ticker;
  #loadedAt = 0;
  readonly counter: RuleCounter;
  readonly fanout: Fanout;
  readonly alertmanager: AlertmanagerPush;

  constructor(
    private readonly ctx: AppContext,
    private readonly log: FastifyBaseLogger,
    delivery: Partial<DeliveryOptions> = {},
  ) {
    this.counter = new RuleCounter(ctx);
    this.fanout = new Fanout(ctx, log, this.counter, delivery);
    this.alertmanager = new AlertmanagerPush(ctx, log, this.counter, this.fanout);
    this.#ticker = new Ticker((now) => this.#tick(now ?? this.ctx.clock.nowMs()), TICK_MS, (err) => this.log.error({ err }, 'alerts: evaluation failed'), () => this.ctx.clock.nowMs());
  }

  /** Reads the rules and their states; start() does it, a test that ticks by hand calls it alone. */
  async load(): Promise<void> {
    this.#states = await loadStates(this.ctx.store);
    await this.reload();
  }

  async start(): Promise<void> {
    await this.load();
    this.#ticker.start();
  }

  async stop(): Promise<void> {
    await this.#ticker.stop();
    await this.fanout.stop();
  }

  /** Resolves when every notice handed to delivery so far has been delivered or given up. */
  idle(): Promise<void> {
    return this.fanout.idle();
  }

  async reload(): Promise<void> {
    this.#rules = await loadRules(this.ctx.store);
    this.#loadedAt = this.ctx.clock.nowMs();
    const ids = new Set(this.#rules.map((r) => r.id));
    this.#due.keep(ids);
    this.counter.keep(ids);
    this.alertmanager.keep(ids);
    for (const id of this.#status.keys()) if (!ids.has(id)) this.#status.delete(id);
  }

  /** Evaluates the rules due at `now` (the clock's, read when called). */
  tick(now?: number): Promise<void> {
    return this.#ticker.tick(now ?? this.ctx.clock.nowMs());
  }

  async #tick(now: number): Promise<void> {
    if (now - this.#loadedAt >= RELOAD_MS) await this.reload();
    const due = this.#due.take(this.#rules, now);
    if (due.length === 0) return;
    const counting = this.ctx.metrics.alertTickSeconds.startTimer({ phase: 'counting' });
    // The due rules with short windows share one scan of what arrived since
    // their counts were kept (even one rule: the scan is that much shorter);
    // a failed batch (one rule's regex, say) falls back to a query per rule
    // so one rule cannot stop the others.
    const batch = due.filter((r) => ms(r.window) <= BATCH_MAX_WINDOW_MS && r.kind !== 'new_pattern');
    let counted = new Map<string, Map<string, GroupCount>>();
    if (batch.length > 0) {
      counted = await this.counter.batchCounts(batch, now).catch((err: unknown) => {
        this.log.warn({ err, rules: batch.length }, 'alerts: batched evaluation failed; evaluating rule by rule');
        return new Map<string, Map<string, GroupCount>>();
      });
    }
    counting();
    const stating = this.ctx.metrics.alertTickSeconds.startTimer({ phase: 'states' });
    const evaluated: Evaluated[] = [];
    for (const rule of due) {
      try {
        evaluated.push(this.#evaluate(rule, now, counted.get(rule.id) ?? (await this.counter.counts(rule, now))));
      } catch (err) {
        this.#failed(rule, now, err);
      }
    }
    // State first, for all the tick's rules in one insert: a notice goes out
    // only once its state is recorded, so a restart never sends it again.
    try {
      await saveStates(this.ctx.store, evaluated.map((e) => ({ ruleId: e.rule.id, changed: e.changed })));
    } catch (err) {
      // Logged once, by the ticker, not once per rule.
      for (const e of evaluated) this.#failed(e.rule, now, err, false);
      throw err;
    } finally {
      stating();
    }
    for (const e of evaluated) this.#commit(e, now);
  }

  #failed(rule: RuleSpec, now: number, err: unknown, log = true): void {
    this.#status.set(rule.id, { lastEvaluatedAt: now, lastError: (err as Error).message ?? String(err) });
    this.ctx.metrics.alertEvaluationFailures.inc();
    if (log) this.log.warn({ err, rule: rule.name }, 'alerts: rule evaluation failed');
  }

  /** A rule's new states and notices from its counts; nothing stored or sent yet. */
  #evaluate(rule: RuleSpec, now: number, counts: Map<string, GroupCount>): Evaluated {
    const prev = this.#states.get(rule.id) ?? new Map<string, GroupState>();
    const ev = evaluate(rule, counts, prev, now, randomUUID);
    const quiet = snoozed(rule, now);
    if (quiet) {
      // A group that fires during a snooze is stored as never notified, so
      // the first evaluation after the snooze sends its firing notice (as a
      // repeat of the episode); a resolve is stored and not sent.
      for (const n of ev.notifications) {
        const s = ev.states.get(n.groupKey);
        if (n.kind === 'firing' && s) ev.states.set(n.groupKey, { ...s, lastNotified: 0 });
      }
    }
    const changed = new Map([...ev.states].filter(([k, s]) => {
      const p = prev.get(k);
      return !p || p.state !== s.state || p.lastNotified !== s.lastNotified;
    }));
    return { rule, states: ev.states, notifications: ev.notifications, changed, quiet };
  }

  /** After its states are stored: a rule's states become current and its notices go out. */
  #commit(e: Evaluated, now: number): void {
    this.#states.set(e.rule.id, e.states);
    this.#status.set(e.rule.id, { lastEvaluatedAt: now, lastError: '' });
    this.ctx.metrics.alertEvaluations.inc();
    if (e.quiet) return;
    for (const n of e.notifications) this.fanout.send(e.rule, n, now);
    this.alertmanager.afterEvaluation(e.rule, e.states, e.notifications, now);
  }

  /** POST /rules/{id}/test: a sample notice to every target, now. */
  async test(rule: RuleSpec): Promise<Array<{ target: string; delivered: boolean }>> {
    const now = this.ctx.clock.nowMs();
    const n: TestNotification = { kind: 'test', groupKey: groupKey({}), labels: {}, value: 0, id: randomUUID(), episode: 'test', startedAt: now, at: now };
    return this.fanout.sendNow(rule, n, now);
  }

  statesOf(ruleId: string): Map<string, GroupState> {
    return this.#states.get(ruleId) ?? new Map();
  }

  /** How the rule's last evaluation in this process went; undefined before the first. */
  status(ruleId: string): RuleStatus | undefined {
    return this.#status.get(ruleId);
  }
}

// Notification fan-out: one notice to every target of its rule, each in the
// target's format, without the caller waiting for delivery (which retries
// for up to a minute). idle() waits for what is in flight; stop() ends the
// retries.
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import type { EventJson } from '../model/event.js';
import { formatRfc3339 } from '../model/time.js';
import type { RuleCounter } from './counting.js';
import { deliver, type DeliveryOptions } from './deliver.js';
import type { Notification } from './evaluate.js';
import { FORMATTERS } from './notify/registry.js';
import { parseAllow } from './notify/safe-http.js';
import type { TestNotification } from './notify/types.js';
import { ms, type RuleSpec, type Target } from './rule.js';

export type Notice = Notification | TestNotification;

/** A link to the events behind a notice: the rule's query and the group, over the window. */
export function searchUrl(publicUrl: string, rule: RuleSpec, labels: Record<string, string>, now: number): string {
  // A new pattern's template label is for reading; its id is the term.
  const terms = Object.entries(labels).filter(([k]) => !(rule.kind === 'new_pattern' && k === 'template')).map(([k, v]) => `${k}:${JSON.stringify(v)}`);
  const q = [rule.query ? `(${rule.query})` : '', ...terms].filter(Boolean).join(' ');
  const qs = new URLSearchParams({ q, from: formatRfc3339(BigInt(now - ms(rule.window)) * 1_000_000n), to: formatRfc3339(BigInt(now) * 1_000_000n) });
  return `${publicUrl}/api/v1/search?${qs}`;
}

export class Fanout {
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #abort = new AbortController();
  readonly delivery: DeliveryOptions;

  constructor(
    private readonly ctx: AppContext,
    private readonly log: FastifyBaseLogger,
    private readonly counter: RuleCounter,
    delivery: Partial<DeliveryOptions> = {},
  ) {
    this.delivery = {
      allow: parseAllow(ctx.config.webhooks.allow), timeoutMs: ctx.config.webhooks.timeoutMs, attempts: 5, baseDelayMs: 1000,
      signal: this.#abort.signal, clock: ctx.clock, onOutcome: (ok) => ctx.metrics.alertDeliveries.inc({ result: ok ? 'delivered' : 'failed' }), ...delivery,
    };
  }

  /** Hands `n` to every target of `rule`; returns at once. */
  send(rule: RuleSpec, n: Notice, now: number): void {
    this.track(
      (async () => {
        const samples = n.kind === 'resolved' ? [] : await this.counter.samples(rule, n.labels, now).catch(() => []);
        await Promise.all(rule.targets.map((target) => this.#deliverTo(rule, n, target, samples, now)));
      })(),
    );
  }

  /** Sends `n` to every target now and says which got it (the rules API's test notice). */
  async sendNow(rule: RuleSpec, n: Notice, now: number): Promise<Array<{ target: string; delivered: boolean }>> {
    const samples = await this.counter.samples(rule, n.labels, now).catch(() => []);
    return Promise.all(rule.targets.map(async (t) => ({ target: t.url, delivered: await this.#deliverTo(rule, n, t, samples, now) })));
  }

  /** Counts `job` as in flight until it settles. */
  track(job: Promise<unknown>): void {
    this.#inflight.add(job);
    void job.finally(() => this.#inflight.delete(job)).catch(() => undefined);
  }

  /** Resolves when every notice handed over so far has been delivered or given up. */
  async idle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  /** No more retries; waits for what is in flight to end. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.idle();
  }

  #deliverTo(rule: RuleSpec, n: Notice, target: Target, samples: EventJson[], now: number): Promise<boolean> {
    const payload = FORMATTERS[target.format]({
      rule, notification: n, samples, searchUrl: searchUrl(this.ctx.config.publicUrl, rule, n.labels, now), publicUrl: this.ctx.config.publicUrl, target,
    });
    return deliver(
      this.ctx.store,
      this.log,
      { ruleId: rule.id, ruleName: rule.name, groupKey: n.groupKey, kind: n.kind, notificationId: n.id, target, payload },
      this.delivery,
    );
  }
}

// Alertmanager as a destination, as Prometheus and the Loki ruler use it:
// POST /api/v2/alerts with the firing groups of a rule, again every
// SLUICE_ALERTMANAGER_RESEND_MS while they fire (each send sets endsAt four
// resends, or four evaluation intervals if longer, ahead, so an
// Alertmanager that stops hearing from Sluice resolves the alert itself),
// and once more with endsAt at the resolve. Alertmanager then does the
// grouping, silences, inhibition and routing. Deliveries go through
// deliver(): the same SSRF rules, retries and history as webhooks; a push
// that fails for good is made again at the next resend.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import { deliver } from './deliver.js';
import { type GroupState, labelsOf, type Notification } from './evaluate.js';
import { type Fanout, searchUrl } from './fanout.js';
import type { RuleCounter } from './counting.js';
import type { TlsFiles } from './notify/safe-http.js';
import { ms, type RuleSpec } from './rule.js';
import type { EventJson } from '../model/event.js';

/** One alert as POST /api/v2/alerts takes it (postableAlert). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

/** A Prometheus label name from a field name: `http.status` → `http_status`. */
export function labelName(field: string): string {
  const name = field.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(name) ? '_' + name : name;
}

/** The labels of a rule's alert for one group: the rule's labels, the group's values, severity, alertname and the rule's id. */
export function alertLabels(rule: RuleSpec, group: Record<string, string>): Record<string, string> {
  const labels: Record<string, string> = { severity: rule.severity ?? 'warning', ...rule.labels };
  for (const [k, v] of Object.entries(group)) labels[labelName(k)] = v;
  labels.alertname = rule.name;
  labels.sluice_rule_id = rule.id;
  return labels;
}

export function describeSamples(samples: readonly EventJson[]): string {
  return samples.map((e) => `${e.time} ${e.level} ${e.service}: ${e.message}`).join('\n').slice(0, 4000);
}

export function postableAlert(
  rule: RuleSpec,
  a: { labels: Record<string, string>; value: number; startsAt: number; endsAt: number; description: string; generatorURL: string },
): PostableAlert {
  return {
    labels: alertLabels(rule, a.labels),
    annotations: {
      summary: `${rule.name}: ${a.value} events in ${rule.window} (${rule.condition.op} ${rule.condition.threshold})`,
      description: a.description,
      query: rule.query,
    },
    startsAt: new Date(a.startsAt).toISOString(),
    endsAt: new Date(a.endsAt).toISOString(),
    generatorURL: a.generatorURL,
  };
}

interface Sent {
  at: number;
  episode: string;
  description: string;
}

export class AlertmanagerPush {
  readonly #sent = new Map<string, Sent>();
  readonly #tls: TlsFiles | undefined;
  readonly #defaultOrigin: string | undefined;
  readonly #auth: Record<string, string>;

  constructor(
    private readonly ctx: AppContext,
    private readonly log: FastifyBaseLogger,
    private readonly counter: RuleCounter,
    private readonly fanout: Fanout,
  ) {
    const am = ctx.config.alertmanager;
    // Read once at start: a missing file stops `serve` rather than the first page at 3 a.m.
    const tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
    if (am.caFile) tls.ca = readFileSync(am.caFile);
    if (am.certFile) tls.cert = readFileSync(am.certFile);
    if (am.keyFile) tls.key = readFileSync(am.keyFile);
    this.#tls = Object.keys(tls).length > 0 ? tls : undefined;
    this.#defaultOrigin = am.url ? new URL(am.url).origin : undefined;
    this.#auth = am.bearerToken
      ? { authorization: `Bearer ${am.bearerToken}` }
      : am.basicAuth
        ? { authorization: `Basic ${Buffer.from(am.basicAuth).toString('base64')}` }
        : {};
  }

  /** The Alertmanager a rule pushes to (its base URL), or undefined. */
  baseUrl(rule: RuleSpec): string | undefined {
    if (!rule.alertmanager) return undefined;
    return (rule.alertmanager.url || this.ctx.config.alertmanager.url)?.replace(/\/+$/, '');
  }

  /**
   * After a rule's evaluation (its states stored): pushes the groups that
   * resolved now, and the firing groups that are new or due for a resend.
   * Returns at once; the pushes are tracked by the fan-out.
   */
  afterEvaluation(rule: RuleSpec, states: ReadonlyMap<string, GroupState>, notices: readonly Notification[], now: number): void {
    const base = this.baseUrl(rule);
    if (!base) return;
    const resendMs = this.ctx.config.alertmanager.resendMs;
    // As Prometheus does: four sends ahead, and a rule evaluated less often than it resends is sent only when evaluated.
    const endsAt = now + 4 * Math.max(resendMs, ms(rule.interval));
    const firing: Array<{ key: string; s: GroupState; n?: Notification }> = [];
    const resends: typeof firing = [];
    for (const [key, s] of states) {
      if (s.state !== 'firing') continue;
      const n = notices.find((x) => x.kind === 'firing' && x.groupKey === key);
      const sent = this.#sent.get(rule.id + '\0' + key);
      if (n && n.episode === s.episode && (!sent || sent.episode !== s.episode)) firing.push({ key, s, n });
      else if (!sent || sent.episode !== s.episode || now - sent.at >= resendMs) resends.push({ key, s });
    }
    const resolved = notices.filter((n) => n.kind === 'resolved');
    const batches: Array<[kind: string, items: Array<{ key: string; labels: Record<string, string>; value: number; startsAt: number; endsAt: number; episode: string }>]> = [
      ['firing', firing.map(({ key, s, n }) => ({ key, labels: n!.labels, value: s.value, startsAt: s.since, endsAt, episode: s.episode }))],
      ['resend', resends.map(({ key, s }) => ({ key, labels: labelsOf(key), value: s.value, startsAt: s.since, endsAt, episode: s.episode }))],
      ['resolved', resolved.map((n) => ({ key: n.groupKey, labels: n.labels, value: n.value, startsAt: n.startedAt, endsAt: n.at, episode: n.episode }))],
    ];
    for (const [kind, items] of batches) {
      if (items.length === 0) continue;
      // Marked as sent when handed over: the next tick does not send it again while this one is in flight.
      for (const it of items) {
        const id = rule.id + '\0' + it.key;
        if (kind === 'resolved') this.#sent.delete(id);
        else this.#sent.set(id, { at: now, episode: it.episode, description: this.#sent.get(id)?.description ?? '' });
      }
      this.fanout.track(this.#push(rule, base, kind, items, now));
    }
  }

  async #push(rule: RuleSpec, base: string, kind: string, items: ReadonlyArray<{ key: string; labels: Record<string, string>; value: number; startsAt: number; endsAt: number; episode: string }>, now: number): Promise<boolean> {
    const alerts: PostableAlert[] = [];
    for (const it of items) {
      const id = rule.id + '\0' + it.key;
      let description = this.#sent.get(id)?.description ?? '';
      if (kind !== 'resolved' && !description) {
        description = describeSamples(await this.counter.samples(rule, it.labels, now).catch(() => []));
        const sent = this.#sent.get(id);
        if (sent) sent.description = description;
      }
      alerts.push(postableAlert(rule, { ...it, description, generatorURL: searchUrl(this.ctx.config.publicUrl, rule, it.labels, now) }));
    }
    const url = base + '/api/v2/alerts';
    return deliver(
      this.ctx.store,
      this.log,
      {
        ruleId: rule.id, ruleName: rule.name, groupKey: items.length === 1 ? items[0]!.key : '', kind, notificationId: randomUUID(),
        target: { url, format: 'alertmanager', secret: '' }, payload: alerts,
        ...(new URL(url).origin === this.#defaultOrigin ? { headers: this.#auth } : {}),
        ...(this.#tls ? { tls: this.#tls } : {}),
      },
      this.fanout.delivery,
    );
  }

  /** Forgets what was sent for rules not in `ids`. */
  keep(ids: ReadonlySet<string>): void {
    for (const k of this.#sent.keys()) if (!ids.has(k.slice(0, k.indexOf('\0')))) this.#sent.delete(k);
  }
}

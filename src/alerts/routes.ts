// /api/v1/alerts: rules (admin to change, read to see), their state, the
// delivery history, and a test notice.
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth/plugin.js';
import type { AppContext } from '../context.js';
import { SluiceError } from '../errors.js';
import { compileQuery } from '../query/language/compile.js';
import { AlertEngine } from './engine.js';
import { type GroupState, labelsOf } from './evaluate.js';
import { loadRules, loadStates, readHistory, ruleCreatedAt, saveRule } from './records.js';
import { DEFAULT_LOOKBACK, MAX_SNOOZE_MS, ms, type RuleBody, ruleBodySchema, ruleProblem, type RuleSpec, snoozeBodySchema, snoozed } from './rule.js';
import { parseIsoNs } from '../model/time.js';

/**
 * A rule as the API shows it: target secrets are never shown again, and a
 * target URL — often a credential itself (a Slack hook, a ?token=) — is cut
 * to its origin for anyone but an admin.
 */
function publicRule(r: RuleSpec, admin: boolean) {
  return {
    ...r,
    targets: r.targets.map(({ url, format }) => ({ url: admin ? url : redact(url), format })),
    alertmanager: r.alertmanager ? { url: admin || !r.alertmanager.url ? r.alertmanager.url : redact(r.alertmanager.url) } : null,
  };
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '…';
  }
}

const isAdmin = (req: { principal: { scope: string } | null }) => req.principal?.scope === 'admin';

/** A PagerDuty target's routing key: the one given, or the one it had (a credential: never shown again). */
function routingKey(t: NonNullable<RuleBody['targets']>[number], old: RuleSpec | undefined): { routing_key?: string } {
  if ((t.format ?? 'sluice') !== 'pagerduty') return {};
  const key = t.routing_key ?? old?.targets.find((o) => o.url === t.url && o.format === 'pagerduty')?.routing_key;
  if (!key) throw new SluiceError('SLUICE_ERR_VALIDATION', `targets: ${t.url} is a pagerduty target and needs its routing_key (the integration key)`);
  return { routing_key: key };
}

/** When a snooze asked for at `now` ends (ms): `for` a duration or `until` a time, in the future, at most MAX_SNOOZE_MS ahead. */
function snoozeUntil(body: { for?: string; until?: string }, now: number): number {
  if ((body.for === undefined) === (body.until === undefined)) throw new SluiceError('SLUICE_ERR_VALIDATION', 'snooze takes one of for (a duration like 2h) or until (an RFC 3339 time)');
  let until: number;
  if (body.for !== undefined) until = now + ms(body.for);
  else {
    const ns = parseIsoNs(body.until!);
    if (ns === undefined) throw new SluiceError('SLUICE_ERR_VALIDATION', `until: ${JSON.stringify(body.until)} is not an RFC 3339 time`);
    until = Number(ns / 1_000_000n);
  }
  if (until <= now) throw new SluiceError('SLUICE_ERR_VALIDATION', 'snooze must end in the future');
  if (until - now > MAX_SNOOZE_MS) throw new SluiceError('SLUICE_ERR_VALIDATION', 'snooze can last at most 30d');
  return until;
}

function toSpec(ctx: AppContext, id: string, body: RuleBody, old: RuleSpec | undefined): RuleSpec {
  const problem = ruleProblem(body);
  if (problem) throw new SluiceError('SLUICE_ERR_VALIDATION', problem);
  if (body.alertmanager && !body.alertmanager.url && !ctx.config.alertmanager.url) {
    throw new SluiceError('SLUICE_ERR_VALIDATION', 'alertmanager names no url and SLUICE_ALERTMANAGER_URL is not set');
  }
  compileQuery(body.query); // a query that does not compile is a 400 with its position
  return {
    id,
    name: body.name,
    ...(body.kind === 'new_pattern' ? { kind: body.kind, lookback: body.lookback ?? DEFAULT_LOOKBACK } : {}),
    query: body.query,
    window: body.window,
    condition: body.condition,
    group_by: body.group_by ?? [],
    interval: body.interval ?? '15s',
    for: body.for ?? '0s',
    repeat: body.repeat ?? '1h',
    targets: (body.targets ?? []).map((t) => ({
      url: t.url,
      format: t.format ?? 'sluice',
      // Keep a target's secret across edits unless a new one is given.
      secret: t.secret ?? old?.targets.find((o) => o.url === t.url)?.secret ?? randomBytes(24).toString('base64url'),
      ...routingKey(t, old),
    })),
    labels: body.labels ?? {},
    severity: body.severity ?? 'warning',
    alertmanager: body.alertmanager ? { url: body.alertmanager.url ?? '' } : null,
    // A snooze is not part of the rule's definition: an edit keeps it.
    snoozed_until: old?.snoozed_until ?? null,
  };
}

export async function alertRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const read = requireScope(ctx.tokens, 'read');
  const admin = requireScope(ctx.tokens, 'admin');

  const find = async (id: string): Promise<RuleSpec> => {
    const rule = (await loadRules(ctx.store)).find((r) => r.id === id);
    if (!rule) throw new SluiceError('SLUICE_ERR_RULE_NOT_FOUND', `no alert rule has id ${JSON.stringify(id)}`);
    return rule;
  };
  const changed = async () => ctx.alerts?.reload();
  const savedTimes = async (id: string) => {
    const now = ctx.clock.nowMs();
    return { createdAt: (await ruleCreatedAt(ctx.store, id)) ?? now, updatedAt: now };
  };

  /** What the engine knows of a rule: null where this process runs no engine (SLUICE_ROLES without alerts). */
  const evaluation = (id: string) => {
    const st = ctx.alerts?.status(id);
    return { last_evaluated_at: st ? new Date(st.lastEvaluatedAt).toISOString() : null, last_error: st ? st.lastError || null : null };
  };
  const groupsOf = (states: ReadonlyMap<string, GroupState> | undefined) =>
    [...(states ?? new Map<string, GroupState>())].map(([key, s]) => ({
      group: labelsOf(key), state: s.state, since: new Date(s.since).toISOString(), value: s.value,
      last_notified: s.lastNotified ? new Date(s.lastNotified).toISOString() : null,
    }));

  app.get('/api/v1/alerts/rules', { onRequest: read }, async (req) => {
    const states = await loadStates(ctx.store);
    return {
      rules: (await loadRules(ctx.store)).map((r) => {
        const groups = [...(states.get(r.id) ?? new Map<string, GroupState>()).values()];
        const firing = groups.filter((g) => g.state === 'firing').length;
        return {
          ...publicRule(r, isAdmin(req)),
          state: firing > 0 ? 'firing' : groups.some((g) => g.state === 'pending') ? 'pending' : 'ok',
          firing_groups: firing,
          snoozed: snoozed(r, ctx.clock.nowMs()),
          ...evaluation(r.id),
          groups: groupsOf(states.get(r.id)),
        };
      }),
    };
  });

  app.get<{ Params: { id: string } }>('/api/v1/alerts/rules/:id', { onRequest: read }, async (req) => {
    const rule = await find(req.params.id);
    const states = (await loadStates(ctx.store)).get(rule.id);
    return { ...publicRule(rule, isAdmin(req)), snoozed: snoozed(rule, ctx.clock.nowMs()), ...evaluation(rule.id), groups: groupsOf(states) };
  });

  app.post<{ Body: RuleBody }>('/api/v1/alerts/rules', { onRequest: admin, schema: { body: ruleBodySchema } }, async (req, reply) => {
    const rule = toSpec(ctx, randomUUID(), req.body, undefined);
    const now = ctx.clock.nowMs();
    await saveRule(ctx.store, rule, { createdAt: now, updatedAt: now });
    await changed();
    // The only time the secrets are shown.
    return reply.code(201).send(rule);
  });

  app.put<{ Params: { id: string }; Body: RuleBody }>('/api/v1/alerts/rules/:id', { onRequest: admin, schema: { body: ruleBodySchema } }, async (req) => {
    const old = await find(req.params.id);
    const rule = toSpec(ctx, old.id, req.body, old);
    await saveRule(ctx.store, rule, await savedTimes(old.id));
    await changed();
    const fresh = rule.targets.filter((t) => !old.targets.some((o) => o.url === t.url && o.secret === t.secret));
    return { ...publicRule(rule, true), new_secrets: fresh.map(({ url, secret }) => ({ url, secret })) };
  });

  app.delete<{ Params: { id: string } }>('/api/v1/alerts/rules/:id', { onRequest: admin }, async (req, reply) => {
    const old = await find(req.params.id);
    await saveRule(ctx.store, old, await savedTimes(old.id), true);
    await changed();
    return reply.code(204).send();
  });

  // Snooze: no notices until a time (`until`, RFC 3339) or for a while (`for`, a duration).
  app.post<{ Params: { id: string }; Body: { for?: string; until?: string } }>(
    '/api/v1/alerts/rules/:id/snooze',
    { onRequest: admin, schema: { body: snoozeBodySchema } },
    async (req) => {
      const rule = await find(req.params.id);
      const now = ctx.clock.nowMs();
      const until = snoozeUntil(req.body, now);
      const next = { ...rule, snoozed_until: new Date(until).toISOString() };
      await saveRule(ctx.store, next, await savedTimes(rule.id));
      await changed();
      return { ...publicRule(next, true), snoozed: true };
    },
  );

  app.delete<{ Params: { id: string } }>('/api/v1/alerts/rules/:id/snooze', { onRequest: admin }, async (req) => {
    const rule = await find(req.params.id);
    const next = { ...rule, snoozed_until: null };
    await saveRule(ctx.store, next, await savedTimes(rule.id));
    await changed();
    return { ...publicRule(next, true), snoozed: false };
  });

  app.post<{ Params: { id: string } }>('/api/v1/alerts/rules/:id/test', { onRequest: admin }, async (req) => {
    const rule = await find(req.params.id);
    const engine = ctx.alerts ?? new AlertEngine(ctx, req.log, { attempts: 1 });
    return { results: await engine.test(rule) };
  });

  app.get<{ Querystring: { rule?: string; limit?: number } }>(
    '/api/v1/alerts/history',
    {
      onRequest: read,
      schema: { querystring: { type: 'object', additionalProperties: false, properties: { rule: { type: 'string', maxLength: 64 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } } },
    },
    async (req) => {
      const history = await readHistory(ctx.store, req.query.rule, req.query.limit ?? 100);
      return { history: isAdmin(req) ? history : history.map((h) => ({ ...h, target: redact(String(h.target)) })) };
    },
  );
}

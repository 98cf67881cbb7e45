// Alert rules: their JSON schema (validated by fastify's ajv) and the parsed
// form the evaluator uses.
import { parseDurationNs } from '../model/time.js';
import { groupProblem } from '../query/columns.js';

export const FORMATS = ['sluice', 'slack', 'alertmanager', 'pagerduty'] as const;
export type Format = (typeof FORMATS)[number];
export type Op = '>' | '>=' | '<' | '<=';
/** PagerDuty's severities; also the `severity` label an Alertmanager alert carries. */
export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Target {
  url: string;
  format: Format;
  secret: string;
  /** PagerDuty's integration key (format pagerduty). */
  routing_key?: string;
}

/**
 * `threshold` (the default) counts the query's events per group;
 * `new_pattern` counts, per message pattern (src/patterns/), the events of
 * patterns first seen in the window — none in the `lookback` before it.
 */
export const KINDS = ['threshold', 'new_pattern'] as const;
export type Kind = (typeof KINDS)[number];

/** A rule as stored and as the API shows it (secrets hidden there). */
export interface RuleSpec {
  id: string;
  name: string;
  kind?: Kind;
  /** new_pattern: how far back a pattern must be absent to count as new (default 24h). */
  lookback?: string;
  query: string;
  window: string;
  condition: { op: Op; threshold: number };
  group_by: string[];
  interval: string;
  for: string;
  repeat: string;
  targets: Target[];
  /** Labels every alert of the rule carries (Alertmanager, PagerDuty custom details). */
  labels?: Record<string, string>;
  severity?: Severity;
  /** Push to an Alertmanager: its base URL, '' for SLUICE_ALERTMANAGER_URL; absent or null: no push. */
  alertmanager?: { url: string } | null;
  /** No notices until this time (RFC 3339); states are still evaluated and stored. */
  snoozed_until?: string | null;
}

const DURATION = '^[0-9]{1,6}(s|m|h|d)$';
const FIELD = '^[A-Za-z_@][A-Za-z0-9_.@-]{0,127}$';
// Prometheus label names: Alertmanager refuses others.
const LABEL = '^[A-Za-z_][A-Za-z0-9_]{0,127}$';

export const ruleBodySchema = {
  type: 'object',
  required: ['name', 'query', 'window', 'condition'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    kind: { type: 'string', enum: KINDS },
    lookback: { type: 'string', pattern: DURATION },
    query: { type: 'string', maxLength: 4096 },
    window: { type: 'string', pattern: DURATION },
    condition: {
      type: 'object',
      required: ['op', 'threshold'],
      additionalProperties: false,
      properties: { op: { type: 'string', enum: ['>', '>=', '<', '<='] }, threshold: { type: 'number', minimum: 0 } },
    },
    group_by: { type: 'array', maxItems: 5, uniqueItems: true, items: { type: 'string', pattern: FIELD } },
    interval: { type: 'string', pattern: DURATION },
    for: { type: 'string', pattern: DURATION },
    repeat: { type: 'string', pattern: DURATION },
    labels: {
      type: 'object',
      maxProperties: 20,
      propertyNames: { pattern: LABEL },
      additionalProperties: { type: 'string', maxLength: 1024 },
    },
    severity: { type: 'string', enum: SEVERITIES },
    alertmanager: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          additionalProperties: false,
          properties: { url: { type: 'string', pattern: '^https?://', maxLength: 2048 } },
        },
      ],
    },
    targets: {
      type: 'array',
      minItems: 0,
      maxItems: 10,
      items: {
        type: 'object',
        required: ['url'],
        additionalProperties: false,
        properties: {
          url: { type: 'string', pattern: '^https?://', maxLength: 2048 },
          format: { type: 'string', enum: FORMATS },
          secret: { type: 'string', minLength: 16, maxLength: 256 },
          routing_key: { type: 'string', pattern: '^[A-Za-z0-9]{20,64}$' },
        },
      },
    },
  },
} as const;

export type RuleBody = Omit<RuleSpec, 'id' | 'group_by' | 'interval' | 'for' | 'repeat' | 'targets' | 'alertmanager' | 'snoozed_until'> & {
  group_by?: string[];
  interval?: string;
  for?: string;
  repeat?: string;
  targets?: Array<{ url: string; format?: Format; secret?: string; routing_key?: string }>;
  alertmanager?: { url?: string } | null;
};

export const ms = (d: string): number => Number(parseDurationNs(d)! / 1_000_000n);

/** Range checks a JSON schema cannot say; returns the complaint or undefined. */
export function ruleProblem(r: RuleBody): string | undefined {
  const w = ms(r.window);
  if (w < 60_000 || w > 86_400_000) return 'window must be from 1m to 24h';
  // 1 s: the engine looks for due rules every half second; shorter would be promised, not kept.
  if (r.interval !== undefined && ms(r.interval) < 1000) return 'interval must be at least 1s';
  if (r.repeat !== undefined && ms(r.repeat) < 60_000) return 'repeat must be at least 1m';
  if ((r.targets ?? []).length === 0 && !r.alertmanager) return 'a rule needs targets, an alertmanager, or both';
  for (const f of r.group_by ?? []) {
    const problem = groupProblem(f);
    if (problem) return `group_by: ${problem}`;
  }
  if (r.kind === 'new_pattern') {
    // Its groups are the new patterns; "fewer than" a new pattern means nothing.
    if ((r.group_by ?? []).length > 0) return 'a new_pattern rule groups by pattern: give no group_by';
    if (r.condition.op !== '>' && r.condition.op !== '>=') return "a new_pattern rule's condition is > or >=";
    const lookback = ms(r.lookback ?? DEFAULT_LOOKBACK);
    if (lookback < w || lookback > 7 * 86_400_000) return 'lookback must be from the window to 7d';
  } else if (r.lookback !== undefined) return 'lookback is for new_pattern rules';
  return undefined;
}

export const DEFAULT_LOOKBACK = '24h';

/** Whether a rule's notices are held back at `now` (ms). */
export function snoozed(rule: Pick<RuleSpec, 'snoozed_until'>, now: number): boolean {
  return rule.snoozed_until ? Date.parse(rule.snoozed_until) > now : false;
}

/** The longest snooze: a rule snoozed and forgotten should wake up. */
export const MAX_SNOOZE_MS = 30 * 86_400_000;

export const snoozeBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    for: { type: 'string', pattern: DURATION },
    until: { type: 'string', maxLength: 64 },
  },
} as const;

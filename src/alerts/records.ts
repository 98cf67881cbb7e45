// Alert rules, states and delivery history in the store.
import type { Store } from '../store/store.js';
import { nextVersion } from '../store/version.js';
import type { GroupState, State } from './evaluate.js';
import type { RuleSpec } from './rule.js';

export async function loadRules(store: Store): Promise<RuleSpec[]> {
  const rs = await store.control.query({ query: 'SELECT spec FROM alert_rules FINAL WHERE deleted = 0 ORDER BY created_at', format: 'JSONEachRow' });
  return (await rs.json<{ spec: string }>()).map((r) => JSON.parse(r.spec) as RuleSpec);
}

/** Times are ms from the app's clock: `updatedAt` is now, `createdAt` now or the rule's first save. */
export async function saveRule(store: Store, rule: RuleSpec, times: { createdAt: number; updatedAt: number }, deleted = false): Promise<void> {
  await store.control.insert({
    table: 'alert_rules',
    values: [{ id: rule.id, spec: JSON.stringify(rule), created_at: times.createdAt, updated_at: times.updatedAt, deleted: deleted ? 1 : 0, version: nextVersion() }],
    format: 'JSONEachRow',
  });
}

export async function ruleCreatedAt(store: Store, id: string): Promise<number | undefined> {
  const rs = await store.control.query({
    query: "SELECT toUnixTimestamp64Milli(created_at) AS t FROM alert_rules FINAL WHERE id = toUUIDOrZero({id:String}) AND deleted = 0 SETTINGS output_format_json_quote_64bit_integers = 0",
    query_params: { id },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ t: number }>();
  return row?.t;
}

interface StateRow {
  rule_id: string;
  group_key: string;
  state: State;
  since: number;
  value: number;
  last_notified: number;
  episode: string;
}

export async function loadStates(store: Store): Promise<Map<string, Map<string, GroupState>>> {
  const rs = await store.control.query({
    query: `SELECT toString(rule_id) AS rule_id, group_key, state, toUnixTimestamp64Milli(since) AS since, value,
              toUnixTimestamp64Milli(last_notified) AS last_notified, episode
            FROM alert_states FINAL SETTINGS output_format_json_quote_64bit_integers = 0`,
    format: 'JSONEachRow',
  });
  const out = new Map<string, Map<string, GroupState>>();
  for (const r of await rs.json<StateRow>()) {
    let m = out.get(r.rule_id);
    if (!m) out.set(r.rule_id, (m = new Map()));
    m.set(r.group_key, { state: r.state, since: Number(r.since), value: Number(r.value), lastNotified: Number(r.last_notified), episode: r.episode });
  }
  return out;
}

/** Stores the changed group states of several rules in one insert (one per tick, not one per rule). */
export async function saveStates(store: Store, changes: ReadonlyArray<{ ruleId: string; changed: ReadonlyMap<string, GroupState> }>): Promise<void> {
  const values = changes.flatMap(({ ruleId, changed }) =>
    [...changed].map(([group_key, s]) => ({
      rule_id: ruleId, group_key, state: s.state, since: s.since, value: s.value, last_notified: s.lastNotified, episode: s.episode, version: nextVersion(),
    })),
  );
  if (values.length === 0) return;
  await store.control.insert({ table: 'alert_states', values, format: 'JSONEachRow' });
}

export interface Attempt {
  rule_id: string;
  rule_name: string;
  group_key: string;
  kind: string;
  notification_id: string;
  target: string;
  attempt: number;
  status: number;
  ok: boolean;
  error: string;
  response: string;
}

/** `at`: when the attempt was sent (ms, the app's clock). */
export async function recordAttempt(store: Store, at: number, a: Attempt): Promise<void> {
  await store.control.insert({ table: 'alert_history', values: [{ ...a, ok: a.ok ? 1 : 0, time: at }], format: 'JSONEachRow' });
}

export async function readHistory(store: Store, ruleId: string | undefined, limit: number): Promise<Array<Record<string, unknown>>> {
  const rs = await store.control.query({
    query: `SELECT formatDateTime(time, '%Y-%m-%dT%H:%i:%S.%fZ') AS at, toString(rule_id) AS rule, rule_name, group_key, kind, notification_id,
              target, attempt, status, ok = 1 AS delivered, error, response
            FROM alert_history
            WHERE {rule:String} = '' OR rule_id = toUUIDOrZero({rule:String})
            ORDER BY time DESC LIMIT {limit:UInt32}
            SETTINGS output_format_json_quote_64bit_integers = 0`,
    query_params: { rule: ruleId ?? '', limit },
    format: 'JSONEachRow',
  });
  return rs.json();
}

// What the alert pages share: the rule API's shapes (docs/alerts.md), the
// polling they all use, and how a rule's condition and state read.
import { useEffect, useState } from 'preact/hooks';
import type { ApiError } from '../api';

export type Op = '>' | '>=' | '<' | '<=';
export type Format = 'sluice' | 'slack' | 'alertmanager' | 'pagerduty';
export type State = 'ok' | 'pending' | 'firing' | 'resolved';
export type Severity = 'critical' | 'error' | 'warning' | 'info';

export interface Target {
  url: string;
  format: Format;
  secret?: string;
}
export interface Rule {
  id: string;
  name: string;
  query: string;
  window: string;
  condition: { op: Op; threshold: number };
  group_by: string[];
  interval: string;
  for: string;
  repeat: string;
  targets: Target[];
  labels?: Record<string, string>;
  severity?: Severity;
  /** Pushes to an Alertmanager ('' = the server's SLUICE_ALERTMANAGER_URL). */
  alertmanager?: { url: string } | null;
  /** No notices until then (RFC 3339), or null. */
  snoozed_until?: string | null;
}
export interface Group {
  group: Record<string, string>;
  state: State;
  since: string;
  value: number;
  last_notified: string | null;
}
export interface Delivery {
  at: string;
  group_key: string;
  kind: string;
  notification_id: string;
  target: string;
  attempt: number;
  status: number;
  delivered: number | boolean;
  error: string;
}
/** A signing secret the server made; shown once, on the rule's page. */
export interface Secret {
  url: string;
  secret: string;
}

export const rulePath = (id: string) => `/api/v1/alerts/rules/${encodeURIComponent(id)}`;

/** How often a rule's page reloads: as often as the rule runs, between 1 s and 5 s (a 1 s rule's page is not 5 s behind it). */
export function pollMs(interval: string | undefined): number {
  const m = /^(\d+)(s|m|h)$/.exec(interval ?? '');
  if (!m) return 5000;
  const ms = Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
  return Math.min(5000, Math.max(1000, ms));
}

/** Loads now and again `ms` after each answer (or as `ms` says from the answer): states change on the server's clock, not on clicks. */
export function usePolled<T>(load: (signal: AbortSignal) => Promise<T>, key: string, ms: number | ((data: T) => number) = 5000) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let next = typeof ms === 'number' ? ms : 5000;
    load(ac.signal)
      .then(
        (d) => {
          setData(d);
          setError(null);
          next = typeof ms === 'number' ? ms : ms(d);
        },
        (e: ApiError) => {
          if (e.name !== 'AbortError') setError(e);
        },
      )
      .finally(() => {
        if (!ac.signal.aborted) timer = setTimeout(() => setTick((n) => n + 1), next);
      });
    return () => {
      ac.abort();
      clearTimeout(timer);
    };
  }, [key, tick]);
  return { data, error, reload: () => setTick((n) => n + 1) };
}

export function groupText(labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(' ') || 'all events';
}

/** A delivery's group key is the JSON of its [name, value] pairs. */
export function groupKeyText(key: string): string {
  try {
    return groupText(Object.fromEntries(JSON.parse(key) as Array<[string, string]>));
  } catch {
    return key;
  }
}

/** How the newest notice in a history (newest first) went: its targets, and the latest failed attempt at each it never reached. */
export interface Outcome {
  at: string;
  kind: string;
  targets: number;
  failed: Delivery[];
}

export function lastOutcome(history: readonly Delivery[]): Outcome | null {
  const newest = history[0];
  if (!newest) return null;
  const attempts = history.filter((h) => h.notification_id === newest.notification_id);
  const targets = [...new Set(attempts.map((h) => h.target))];
  // A notice reached a target when any attempt there did; retries may still be under way.
  const failed = targets.filter((t) => !attempts.some((h) => h.target === t && h.delivered)).map((t) => attempts.find((h) => h.target === t)!);
  return { at: attempts.at(-1)!.at, kind: newest.kind, targets: targets.length, failed };
}

export function failureText(d: Delivery): string {
  return d.status ? `HTTP ${d.status}` : d.error || 'no answer';
}

/** "not delivered" with why, or "delivered"; nothing claims success that the history does not show. */
export function OutcomeText(props: { outcome: Outcome }) {
  const o = props.outcome;
  if (o.failed.length === 0) return <span class="delivered">delivered</span>;
  const to = o.targets > 1 ? ` to ${o.failed.length} of ${o.targets} targets` : '';
  return (
    <span class="error not-delivered">
      not delivered{to}: {failureText(o.failed[0]!)}
    </span>
  );
}

export function StateBadge(props: { state: State }) {
  return <span class={`state state-${props.state}`}>{props.state}</span>;
}

export const condition = (r: Rule) => `count ${r.condition.op} ${r.condition.threshold} in ${r.window}${r.group_by.length ? ` per ${r.group_by.join(', ')}` : ''}`;

// The evaluator: a pure function from (rule, counts, previous state, now) to
// (new state, notifications). Per group: ok → pending (while `for` runs) →
// firing → resolved (which then behaves as ok). No I/O, no clock: the caller
// passes `now`.
import type { Op, RuleSpec } from './rule.js';
import { ms } from './rule.js';

export type State = 'ok' | 'pending' | 'firing' | 'resolved';

export interface GroupState {
  state: State;
  /** When this state began (ms). */
  since: number;
  value: number;
  /** When a firing notice last went out (ms), 0 if never. */
  lastNotified: number;
  /** Id of the current firing episode: its firing, repeats and resolve share it. */
  episode: string;
}

export interface GroupCount {
  labels: Record<string, string>;
  count: number;
}

export interface Notification {
  kind: 'firing' | 'resolved';
  groupKey: string;
  labels: Record<string, string>;
  value: number;
  /** Unique per notice: a receiver drops repeats of the same id. */
  id: string;
  episode: string;
  /** When the episode started firing (ms). */
  startedAt: number;
  at: number;
}

export interface Evaluation {
  states: Map<string, GroupState>;
  notifications: Notification[];
}

export function breaches(op: Op, value: number, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

/**
 * `counts` holds every group to consider: the caller zero-fills groups it
 * knows of (for `<` rules, the groups seen in the last day). A group absent
 * from `counts` but in `prev` counts as zero.
 */
export function evaluate(
  rule: Pick<RuleSpec, 'condition' | 'for' | 'repeat'>,
  counts: ReadonlyMap<string, GroupCount>,
  prev: ReadonlyMap<string, GroupState>,
  now: number,
  newId: () => string,
): Evaluation {
  const states = new Map<string, GroupState>();
  const notifications: Notification[] = [];
  const forMs = ms(rule.for);
  const repeatMs = ms(rule.repeat);
  const keys = new Set([...counts.keys(), ...prev.keys()]);

  for (const key of keys) {
    const c = counts.get(key);
    const value = c?.count ?? 0;
    const labels = c?.labels ?? labelsOf(key);
    const p = prev.get(key) ?? { state: 'ok' as State, since: now, value: 0, lastNotified: 0, episode: '' };
    const breach = breaches(rule.condition.op, value, rule.condition.threshold);
    const notify = (kind: 'firing' | 'resolved', episode: string, startedAt: number) =>
      notifications.push({ kind, groupKey: key, labels, value, id: newId(), episode, startedAt, at: now });

    let next: GroupState;
    if (breach) {
      if (p.state === 'firing') {
        next = { ...p, value };
        if (repeatMs > 0 && now - p.lastNotified >= repeatMs) {
          notify('firing', p.episode, p.since);
          next.lastNotified = now;
        }
      } else if (p.state === 'pending' && now - p.since >= forMs) {
        const episode = newId();
        next = { state: 'firing', since: now, value, lastNotified: now, episode };
        notify('firing', episode, now);
      } else if (p.state === 'pending') {
        next = { ...p, value };
      } else if (forMs === 0) {
        const episode = newId();
        next = { state: 'firing', since: now, value, lastNotified: now, episode };
        notify('firing', episode, now);
      } else {
        next = { state: 'pending', since: now, value, lastNotified: 0, episode: '' };
      }
    } else if (p.state === 'firing') {
      next = { state: 'resolved', since: now, value, lastNotified: p.lastNotified, episode: p.episode };
      notify('resolved', p.episode, p.since);
    } else if (p.state === 'pending') {
      next = { state: 'ok', since: now, value, lastNotified: 0, episode: '' };
    } else {
      next = { ...p, value };
    }
    // A quiet group with nothing to remember is forgotten (it comes back
    // as soon as it has events again).
    if (!(c === undefined && next.state === p.state && (next.state === 'ok' || next.state === 'resolved'))) states.set(key, next);
  }
  return { states, notifications };
}

/** Group keys are JSON of [field, value] pairs; this reads them back. */
export function groupKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels));
}

export function labelsOf(key: string): Record<string, string> {
  try {
    return Object.fromEntries(JSON.parse(key) as Array<[string, string]>);
  } catch {
    return {};
  }
}

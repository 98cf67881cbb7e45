// PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/):
// a `trigger` when a group fires (and on each repeat: PagerDuty folds it
// into the open incident), a `resolve` when it resolves, both with one
// dedup_key per rule and group so they meet the same incident. The target's
// routing_key is the integration key; its URL is normally
// https://events.pagerduty.com/v2/enqueue.
import { createHash } from 'node:crypto';
import type { Formatter } from './types.js';

const SUMMARY_MAX = 1024;

/** The same for every notice of a rule's group, whatever the episode. */
export function dedupKey(ruleId: string, groupKey: string): string {
  return `sluice/${ruleId}/${createHash('sha256').update(groupKey).digest('hex').slice(0, 16)}`;
}

export const pagerdutyFormat: Formatter = ({ rule, notification: n, samples, searchUrl, publicUrl, target }) => {
  const routing_key = target.routing_key ?? '';
  const dedup_key = n.kind === 'test' ? `sluice/test/${n.id}` : dedupKey(rule.id, n.groupKey);
  if (n.kind === 'resolved') return { routing_key, event_action: 'resolve', dedup_key };
  const group = Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(' ');
  const summary = `${n.kind === 'test' ? '[TEST] ' : ''}${rule.name}${group ? ` (${group})` : ''}: ${n.value} events in ${rule.window} (${rule.condition.op} ${rule.condition.threshold})`;
  return {
    routing_key,
    event_action: 'trigger',
    dedup_key,
    payload: {
      summary: summary.slice(0, SUMMARY_MAX),
      source: n.labels.host ?? n.labels.service ?? new URL(publicUrl).host,
      severity: rule.severity ?? 'warning',
      timestamp: new Date(n.at).toISOString(),
      ...(n.labels.service ? { component: n.labels.service } : {}),
      group: rule.name,
      class: 'log threshold',
      custom_details: {
        query: rule.query,
        window: rule.window,
        condition: `${rule.condition.op} ${rule.condition.threshold}`,
        count: n.value,
        group: n.labels,
        labels: rule.labels ?? {},
        rule_id: rule.id,
        started_at: new Date(n.startedAt).toISOString(),
        samples: samples.map((e) => `${e.time} ${e.level} ${e.service}: ${e.message}`.slice(0, 500)),
      },
    },
    links: [{ href: searchUrl, text: 'Matching events in Sluice' }],
    client: 'Sluice',
    client_url: publicUrl,
  };
};

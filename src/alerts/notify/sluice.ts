// Sluice's own webhook JSON: everything a receiver needs, samples included.
import type { Formatter } from './types.js';

export const sluiceFormat: Formatter = ({ rule, notification: n, samples, searchUrl }) => ({
  id: n.id,
  status: n.kind,
  rule: { id: rule.id, name: rule.name, query: rule.query, window: rule.window, condition: rule.condition, group_by: rule.group_by },
  group: n.labels,
  count: n.value,
  threshold: rule.condition.threshold,
  op: rule.condition.op,
  window: rule.window,
  episode: n.episode,
  started_at: new Date(n.startedAt).toISOString(),
  at: new Date(n.at).toISOString(),
  search_url: searchUrl,
  samples,
});

// Alertmanager-compatible webhook payload (version 4), so tools that take
// Alertmanager's webhooks take Sluice's.
import { createHash } from 'node:crypto';
import type { Formatter } from './types.js';

export const alertmanagerFormat: Formatter = ({ rule, notification: n, samples, searchUrl, publicUrl }) => {
  const labels = { alertname: rule.name, ...n.labels };
  const status = n.kind === 'resolved' ? 'resolved' : 'firing';
  const alert = {
    status,
    labels,
    annotations: {
      summary: `${n.value} events in ${rule.window} (${rule.condition.op} ${rule.condition.threshold})`,
      description: samples.map((e) => `${e.time} ${e.level} ${e.service}: ${e.message}`).join('\n').slice(0, 4000),
      query: rule.query,
    },
    startsAt: new Date(n.startedAt).toISOString(),
    endsAt: n.kind === 'resolved' ? new Date(n.at).toISOString() : '0001-01-01T00:00:00Z',
    generatorURL: searchUrl,
    fingerprint: createHash('sha256').update(rule.id).update(JSON.stringify(n.labels)).digest('hex').slice(0, 16),
  };
  return {
    version: '4',
    groupKey: `{}:{alertname="${rule.name}"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'sluice',
    groupLabels: { alertname: rule.name },
    commonLabels: labels,
    commonAnnotations: alert.annotations,
    externalURL: publicUrl,
    alerts: [alert],
  };
};

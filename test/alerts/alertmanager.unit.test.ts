// The Alertmanager payload on its own: label names Alertmanager accepts,
// which label wins, and the alert's shape.
import { describe, expect, it } from 'vitest';
import { alertLabels, labelName, postableAlert } from '../../src/alerts/alertmanager.js';
import type { RuleSpec } from '../../src/alerts/rule.js';

const rule: RuleSpec = {
  id: '0190c0de-0000-7000-8000-000000000001', name: 'api errors', query: 'service:api', window: '5m', condition: { op: '>=', threshold: 3 },
  group_by: ['service', 'http.status', '@env'], interval: '15s', for: '0s', repeat: '1h', targets: [],
};

describe('Alertmanager alerts', () => {
  it.each([
    ['service', 'service'], ['http.status', 'http_status'], ['@env', '_env'], ['k8s-pod', 'k8s_pod'], ['9lives', '_9lives'],
  ])('field %s is label %s', (field, label) => {
    expect(labelName(field)).toBe(label);
    expect(label).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
  });

  it('labels: the rule’s, then the group’s, severity defaulting to warning; alertname and the rule id always the rule’s', () => {
    expect(alertLabels({ ...rule, labels: { team: 'payments', service: 'from-rule' } }, { service: 'api', 'http.status': '500', alertname: 'spoof' })).toEqual({
      severity: 'warning', team: 'payments', service: 'api', http_status: '500', alertname: 'api errors', sluice_rule_id: rule.id,
    });
    expect(alertLabels({ ...rule, severity: 'critical', labels: { severity: 'page' } }, {}).severity).toBe('page');
  });

  it('a postable alert has its times in RFC 3339 and the annotations Alertmanager shows', () => {
    const a = postableAlert(rule, { labels: { service: 'api' }, value: 7, startsAt: 1_800_000_000_000, endsAt: 1_800_000_240_000, description: 'line', generatorURL: 'http://s/x' });
    expect(a).toEqual({
      labels: { severity: 'warning', service: 'api', alertname: 'api errors', sluice_rule_id: rule.id },
      annotations: { summary: 'api errors: 7 events in 5m (>= 3)', description: 'line', query: 'service:api' },
      startsAt: new Date(1_800_000_000_000).toISOString(), endsAt: new Date(1_800_000_240_000).toISOString(), generatorURL: 'http://s/x',
    });
  });
});

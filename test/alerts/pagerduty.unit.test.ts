// PagerDuty Events API v2 payloads against the schema PagerDuty documents
// (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ and
// …/resolve-events/), written out here as JSON Schema.
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { groupKey, type Notification } from '../../src/alerts/evaluate.js';
import { dedupKey, pagerdutyFormat } from '../../src/alerts/notify/pagerduty.js';
import type { NoticeInput } from '../../src/alerts/notify/types.js';
import type { RuleSpec, Target } from '../../src/alerts/rule.js';

const trigger = {
  type: 'object',
  required: ['routing_key', 'event_action', 'payload'],
  additionalProperties: false,
  properties: {
    routing_key: { type: 'string', minLength: 32, maxLength: 32 },
    event_action: { const: 'trigger' },
    dedup_key: { type: 'string', minLength: 1, maxLength: 255 },
    payload: {
      type: 'object',
      required: ['summary', 'source', 'severity'],
      additionalProperties: false,
      properties: {
        summary: { type: 'string', minLength: 1, maxLength: 1024 },
        source: { type: 'string', minLength: 1 },
        severity: { enum: ['critical', 'error', 'warning', 'info'] },
        timestamp: { type: 'string', format: 'date-time' },
        component: { type: 'string' },
        group: { type: 'string' },
        class: { type: 'string' },
        custom_details: { type: 'object' },
      },
    },
    images: { type: 'array', items: { type: 'object', required: ['src'] } },
    links: { type: 'array', items: { type: 'object', required: ['href'], additionalProperties: false, properties: { href: { type: 'string' }, text: { type: 'string' } } } },
    client: { type: 'string' },
    client_url: { type: 'string' },
  },
} as const;
const resolve = {
  type: 'object',
  required: ['routing_key', 'event_action', 'dedup_key'],
  additionalProperties: false,
  properties: {
    routing_key: { type: 'string', minLength: 32, maxLength: 32 },
    event_action: { const: 'resolve' },
    dedup_key: { type: 'string', minLength: 1, maxLength: 255 },
  },
} as const;

const ajv = new Ajv({ allErrors: true });
// RFC 3339 date-time, which PagerDuty's ISO 8601 timestamps are here.
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
const validTrigger = ajv.compile(trigger);
const validResolve = ajv.compile(resolve);

const KEY = 'R0UTINGKEY0123456789abcdefABCDEF';
const target: Target = { url: 'https://events.pagerduty.com/v2/enqueue', format: 'pagerduty', secret: 's'.repeat(16), routing_key: KEY };
const rule: RuleSpec = {
  id: '0190c0de-0000-7000-8000-000000000001', name: 'api errors '.repeat(200), query: 'service:api level:>=error', window: '1m',
  condition: { op: '>', threshold: 20 }, group_by: ['service'], interval: '15s', for: '0s', repeat: '1h', targets: [target], severity: 'critical', labels: { team: 'payments' },
};
const at = 1_800_000_000_000;
const notice = (kind: Notification['kind'], labels: Record<string, string>, episode = 'e1'): Notification => ({
  kind, groupKey: groupKey(labels), labels, value: 31, id: `n-${kind}-${episode}`, episode, startedAt: at - 60_000, at,
});
const input = (n: NoticeInput['notification']): NoticeInput => ({
  rule, notification: n, samples: [{ time: '2027-01-15T08:00:00.000000000Z', level: 'error', service: 'api', message: 'payment failed' } as never],
  searchUrl: 'http://sluice.example/api/v1/search?q=x', publicUrl: 'http://sluice.example', target,
});

describe('PagerDuty Events API v2', () => {
  it('a firing notice is a trigger PagerDuty accepts', () => {
    const body = pagerdutyFormat(input(notice('firing', { service: 'api' }))) as Record<string, unknown>;
    expect(validTrigger(body), JSON.stringify(validTrigger.errors)).toBe(true);
    expect(body).toMatchObject({
      routing_key: KEY, event_action: 'trigger', dedup_key: dedupKey(rule.id, groupKey({ service: 'api' })),
      payload: { severity: 'critical', source: 'api', component: 'api', timestamp: new Date(at).toISOString(), custom_details: { count: 31, group: { service: 'api' }, labels: { team: 'payments' }, samples: [expect.stringContaining('payment failed')] } },
      links: [{ href: 'http://sluice.example/api/v1/search?q=x' }],
    });
    // The rule's long name is cut to PagerDuty's limit, not refused.
    expect(((body.payload as { summary: string }).summary).length).toBe(1024);
  });

  it('a resolved notice is a resolve with the same dedup_key, whatever the episode', () => {
    const fired = pagerdutyFormat(input(notice('firing', { service: 'api' }, 'e1'))) as { dedup_key: string };
    const body = pagerdutyFormat(input(notice('resolved', { service: 'api' }, 'e2')));
    expect(validResolve(body), JSON.stringify(validResolve.errors)).toBe(true);
    expect(body).toEqual({ routing_key: KEY, event_action: 'resolve', dedup_key: fired.dedup_key });
  });

  it('dedup keys differ per rule and per group, and fit in 255 characters', () => {
    const a = dedupKey(rule.id, groupKey({ service: 'api' }));
    expect(dedupKey(rule.id, groupKey({ service: 'web' }))).not.toBe(a);
    expect(dedupKey('0190c0de-0000-7000-8000-000000000002', groupKey({ service: 'api' }))).not.toBe(a);
    expect(a.length).toBeLessThanOrEqual(255);
  });

  it('an ungrouped rule and a test notice are valid triggers too', () => {
    const plain = pagerdutyFormat({ ...input(notice('firing', {})), rule: { ...rule, group_by: [], severity: undefined } });
    expect(validTrigger(plain), JSON.stringify(validTrigger.errors)).toBe(true);
    expect(plain).toMatchObject({ payload: { source: 'sluice.example', severity: 'warning' } });
    const test = pagerdutyFormat(input({ ...notice('firing', {}), kind: 'test' }));
    expect(validTrigger(test), JSON.stringify(validTrigger.errors)).toBe(true);
    expect((test as { payload: { summary: string } }).payload.summary).toMatch(/^\[TEST\] /);
  });
});

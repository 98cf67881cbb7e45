// The rule form's data, kept apart from its markup: a rule as the form holds
// it (strings as typed), the body sent for it, the simple rules checked
// before sending, and which field a refusal from the server is about.
import type { ApiError } from '../api';
import { queryError } from '../components/query-box';
import type { Format, Op, Rule, Severity } from './alert-model';

export const OPS: readonly Op[] = ['>', '>=', '<', '<='];
export const FORMATS: readonly Format[] = ['sluice', 'slack', 'alertmanager', 'pagerduty'];
export const SEVERITIES: readonly Severity[] = ['critical', 'error', 'warning', 'info'];

export interface Draft {
  name: string;
  query: string;
  window: string;
  op: Op;
  threshold: string;
  group_by: string;
  interval: string;
  for: string;
  repeat: string;
  targets: Array<{ url: string; format: Format; secret: string; routing_key?: string }>;
  /** Push to an Alertmanager; an empty URL means the server's SLUICE_ALERTMANAGER_URL. */
  alertmanager: boolean;
  alertmanager_url: string;
  severity: Severity;
  /** `name=value` pairs, comma-separated. */
  labels: string;
}

export const EMPTY: Draft = { name: '', query: '', window: '5m', op: '>', threshold: '0', group_by: '', interval: '15s', for: '0s', repeat: '1h', targets: [{ url: '', format: 'sluice', secret: '' }], alertmanager: false, alertmanager_url: '', severity: 'warning', labels: '' };

export function draftOf(r: Rule): Draft {
  return {
    ...r,
    op: r.condition.op,
    threshold: String(r.condition.threshold),
    group_by: r.group_by.join(', '),
    targets: r.targets.map((t) => ({ url: t.url, format: t.format, secret: '' })),
    alertmanager: !!r.alertmanager,
    alertmanager_url: r.alertmanager?.url ?? '',
    severity: r.severity ?? 'warning',
    labels: Object.entries(r.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', '),
  };
}

export function bodyOf(d: Draft) {
  const n = d.threshold.trim() === '' ? NaN : Number(d.threshold);
  return {
    name: d.name,
    query: d.query,
    window: d.window.trim(),
    // A threshold that is not a number goes as null, so the server names it.
    condition: { op: d.op, threshold: Number.isFinite(n) ? n : null },
    group_by: d.group_by.split(/[\s,]+/).filter(Boolean),
    interval: d.interval.trim(),
    for: d.for.trim(),
    repeat: d.repeat.trim(),
    targets: d.targets.map((t) => ({
      url: t.url.trim(),
      format: t.format,
      ...(t.secret ? { secret: t.secret } : {}),
      ...(t.format === 'pagerduty' && t.routing_key?.trim() ? { routing_key: t.routing_key.trim() } : {}),
    })),
    alertmanager: d.alertmanager ? (d.alertmanager_url.trim() ? { url: d.alertmanager_url.trim() } : {}) : null,
    severity: d.severity,
    labels: Object.fromEntries(labelPairs(d.labels)),
  };
}

/** `team=payments, tier=1` as pairs; a piece without `=` is a name with an empty value (draftProblems says so). */
export function labelPairs(text: string): Array<[string, string]> {
  return text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const i = p.indexOf('=');
      return i < 0 ? [p, ''] : [p.slice(0, i).trim(), p.slice(i + 1).trim()];
    });
}

export interface FormError {
  field: string | null;
  message: string;
  position?: number | undefined;
}

const DURATION = /^[0-9]{1,6}(s|m|h|d)$/;
const FIELD = /^[A-Za-z_@][A-Za-z0-9_.@-]{0,127}$/;
const LABEL = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const seconds = (d: string) => Number(d.slice(0, -1)) * UNIT_SECONDS[d.slice(-1)]!;
const A_DURATION = 'a duration such as 30s, 5m, 1h or 1d';

/**
 * The schema's and range checks' simple rules (src/alerts/rule.ts), checked
 * here so that every field's problem shows at once: the server stops at the
 * first (fastify's ajv runs without allErrors). The server still judges the
 * rest — a query that does not parse, a target it will not call.
 */
export function draftProblems(d: Draft): FormError[] {
  const out: FormError[] = [];
  const add = (field: string, message: string) => out.push({ field, message });
  const duration = (field: string, label: string, value: string, min: number, minText: string, max = Infinity, maxText = '') => {
    const v = value.trim();
    if (!DURATION.test(v)) add(field, `${label} must be ${A_DURATION}.`);
    else if (seconds(v) < min || seconds(v) > max) add(field, max === Infinity ? `${label} must be at least ${minText}.` : `${label} must be from ${minText} to ${maxText}.`);
  };
  if (d.name.trim() === '') add('name', 'Name is required.');
  else if (d.name.length > 200) add('name', 'Name must be at most 200 characters.');
  if (d.query.length > 4096) add('query', 'Query must be at most 4096 characters.');
  const n = d.threshold.trim() === '' ? NaN : Number(d.threshold);
  if (!Number.isFinite(n)) add('threshold', 'Threshold must be a number.');
  else if (n < 0) add('threshold', 'Threshold must be 0 or more.');
  duration('window', 'Window', d.window, 60, '1m', 86_400, '24h');
  const group = d.group_by.split(/[\s,]+/).filter(Boolean);
  const bad = group.find((f) => !FIELD.test(f));
  if (bad !== undefined) add('group_by', `Group by: ${JSON.stringify(bad)} is not a field name (letters, digits, . _ @ -).`);
  else if (group.length > 5) add('group_by', 'Group by takes at most 5 fields.');
  else if (new Set(group).size < group.length) add('group_by', 'Group by names a field twice.');
  duration('interval', 'Check every', d.interval, 1, '1s');
  duration('for', 'For', d.for, 0, '0s');
  duration('repeat', 'Repeat', d.repeat, 60, '1m');
  d.targets.forEach((t, i) => {
    const url = t.url.trim();
    if (url === '') add(`t${i}-url`, `URL ${i + 1} is required.`);
    else if (!/^https?:\/\//.test(url)) add(`t${i}-url`, `URL ${i + 1} must start with http:// or https://.`);
    else if (url.length > 2048) add(`t${i}-url`, `URL ${i + 1} must be at most 2048 characters.`);
    if (t.secret && (t.secret.length < 16 || t.secret.length > 256)) add(`t${i}-secret`, 'Secret must be 16 to 256 characters (or empty: the server makes one).');
  });
  if (d.targets.length === 0 && !d.alertmanager) add('alertmanager', 'Add a webhook target or push to Alertmanager.');
  const am = d.alertmanager_url.trim();
  if (d.alertmanager && am !== '' && !/^https?:\/\//.test(am)) add('alertmanager_url', 'Alertmanager URL must start with http:// or https:// (or be empty for the server’s own).');
  const pairs = labelPairs(d.labels);
  const badLabel = pairs.find(([k, v]) => !LABEL.test(k) || v === '');
  if (badLabel) add('labels', `Labels: ${JSON.stringify(badLabel.join('='))} is not name=value (names: letters, digits and _).`);
  else if (pairs.length > 20) add('labels', 'Labels takes at most 20 pairs.');
  return out;
}

const LABELS: Record<string, string> = {
  name: 'Name', query: 'Query', window: 'Window', op: 'Comparison', threshold: 'Threshold', group_by: 'Group by',
  interval: 'Check every', for: 'For', repeat: 'Repeat', targets: 'Targets', url: 'URL', format: 'Format', secret: 'Secret', routing_key: 'Routing key', alertmanager: 'Alertmanager', severity: 'Severity', labels: 'Labels',
};

/** An ajv complaint ("must NOT have fewer than 1 characters") in plain words; the original when it is not one of these. */
function plain(key: string, complaint: string): string {
  const label = LABELS[key] ?? key;
  if (/^must NOT have fewer than 1 characters/.test(complaint)) return `${label} is required.`;
  const size = /^must NOT have (fewer|more) than (\d+) (characters|items)/.exec(complaint);
  if (size) return `${label} must have at ${size[1] === 'fewer' ? 'least' : 'most'} ${size[2]} ${size[3]}.`;
  if (/^must match pattern/.test(complaint)) {
    if (key === 'url') return 'URL must start with http:// or https://.';
    if (['window', 'interval', 'for', 'repeat'].includes(key)) return `${label} must be ${A_DURATION}.`;
    if (key === 'group_by') return 'Group by takes field names (letters, digits, . _ @ -).';
  }
  if (/^must be (number|integer)/.test(complaint)) return `${label} must be a number.`;
  const min = /^must be >= (\S+)/.exec(complaint);
  if (min) return `${label} must be ${min[1]} or more.`;
  if (/^must be equal to one of the allowed values/.test(complaint)) return `${label} must be one of the choices offered.`;
  return `${label} ${complaint}`;
}

/** Which field a server message is about, and the message in plain words: schema errors name a path (body/condition/threshold), range checks start with the field. */
export function formError(err: ApiError): FormError {
  const m = err.message;
  const query = queryError(err);
  if (query) return { field: 'query', ...query };
  const path = /^body\/([a-z_]+)(?:\/([a-z0-9_]+))?(?:\/([a-z_]+))? (.*)$/.exec(m);
  if (path) {
    const [, top, second, third, complaint] = path;
    if (top === 'condition') {
      const key = second === 'op' ? 'op' : 'threshold';
      return { field: key, message: plain(key, complaint!) };
    }
    if (top === 'targets' && second !== undefined && third !== undefined) return { field: `t${second}-${third}`, message: plain(third, complaint!) };
    if (top === 'targets') return { field: 't0-url', message: plain(top, complaint!) };
    return { field: top!, message: plain(top!, complaint!) };
  }
  const range = /^(window|interval|repeat|for) (must.*)$/.exec(m);
  if (range) return { field: range[1]!, message: `${LABELS[range[1]!]} ${range[2]}.` };
  return { field: null, message: m };
}

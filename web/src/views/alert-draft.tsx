// The rule form's data, kept apart from its markup: a rule as the form holds
// it (strings as typed), the body sent for it, and which field a refusal
// from the server is about. The server is the one validator.
import type { ApiError } from '../api';
import { queryError } from '../components/query-box';
import type { Format, Op, Rule } from './alert-model';

export const OPS: readonly Op[] = ['>', '>=', '<', '<='];
export const FORMATS: readonly Format[] = ['sluice', 'slack', 'alertmanager'];

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
  targets: Array<{ url: string; format: Format; secret: string }>;
}

export const EMPTY: Draft = { name: '', query: '', window: '5m', op: '>', threshold: '0', group_by: '', interval: '15s', for: '0s', repeat: '1h', targets: [{ url: '', format: 'sluice', secret: '' }] };

export function draftOf(r: Rule): Draft {
  return {
    ...r,
    op: r.condition.op,
    threshold: String(r.condition.threshold),
    group_by: r.group_by.join(', '),
    targets: r.targets.map((t) => ({ url: t.url, format: t.format, secret: '' })),
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
    targets: d.targets.map((t) => ({ url: t.url.trim(), format: t.format, ...(t.secret ? { secret: t.secret } : {}) })),
  };
}

export interface FormError {
  field: string | null;
  message: string;
  position?: number | undefined;
}

/** Which field a server message is about: schema errors name a path (body/condition/threshold), range checks start with the field. */
export function formError(err: ApiError): FormError {
  const m = err.message;
  const query = queryError(err);
  if (query) return { field: 'query', ...query };
  const path = /^body\/([a-z_]+)(?:\/([a-z0-9_]+))?(?:\/([a-z_]+))?/.exec(m);
  if (path) {
    const [, top, second, third] = path;
    if (top === 'condition') return { field: second === 'op' ? 'op' : 'threshold', message: m };
    if (top === 'targets' && second !== undefined && third !== undefined) return { field: `t${second}-${third}`, message: m };
    return { field: top === 'targets' ? 't0-url' : top!, message: m };
  }
  const range = /^(window|interval|repeat|for) must/.exec(m);
  return { field: range ? range[1]! : null, message: m };
}

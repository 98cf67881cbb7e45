// Alerts (docs/alerts.md): the rules with their state per group, one rule's
// groups and delivery history, and the form to make or change a rule (admin
// only). The server is the one validator: its message is shown beside the
// field it names, a query error with a caret at its position.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { navigate } from '../router';
import type { ViewProps } from './index';
import { ConfirmButton, Snippet, when } from './sources';
import './admin.css';

type Op = '>' | '>=' | '<' | '<=';
type Format = 'sluice' | 'slack' | 'alertmanager';
type State = 'ok' | 'pending' | 'firing' | 'resolved';

interface Target {
  url: string;
  format: Format;
  secret?: string;
}
interface Rule {
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
}
interface Group {
  group: Record<string, string>;
  state: State;
  since: string;
  value: number;
  last_notified: string | null;
}
interface Listed extends Rule {
  state: State;
  firing_groups: number;
  groups: Group[];
}
interface Delivery {
  at: string;
  group_key: string;
  kind: string;
  target: string;
  attempt: number;
  status: number;
  delivered: number | boolean;
  error: string;
}
interface Secret {
  url: string;
  secret: string;
}

const OPS: readonly Op[] = ['>', '>=', '<', '<='];
const FORMATS: readonly Format[] = ['sluice', 'slack', 'alertmanager'];
const rulePath = (id: string) => `/api/v1/alerts/rules/${encodeURIComponent(id)}`;

/** Loads now and again `ms` after each answer: states change on the server's clock, not on clicks. */
function usePolled<T>(load: (signal: AbortSignal) => Promise<T>, key: string, ms = 5000) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    load(ac.signal)
      .then(
        (d) => {
          setData(d);
          setError(null);
        },
        (e: ApiError) => {
          if (e.name !== 'AbortError') setError(e);
        },
      )
      .finally(() => {
        if (!ac.signal.aborted) timer = setTimeout(() => setTick((n) => n + 1), ms);
      });
    return () => {
      ac.abort();
      clearTimeout(timer);
    };
  }, [key, tick]);
  return { data, error, reload: () => setTick((n) => n + 1) };
}

function groupText(labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(' ') || 'all events';
}

function groupKeyText(key: string): string {
  try {
    return groupText(Object.fromEntries(JSON.parse(key) as Array<[string, string]>));
  } catch {
    return key;
  }
}

function StateBadge(props: { state: State }) {
  return <span class={`state state-${props.state}`}>{props.state}</span>;
}

const condition = (r: Rule) => `count ${r.condition.op} ${r.condition.threshold} in ${r.window}${r.group_by.length ? ` per ${r.group_by.join(', ')}` : ''}`;

function RuleList(props: { admin: boolean }) {
  const { data, error, reload } = usePolled(async (signal) => {
    const { rules } = await api<{ rules: Array<Omit<Listed, 'groups'>> }>('/api/v1/alerts/rules', { signal });
    // States per group come only with each rule's own answer.
    const groups = await Promise.all(rules.map((r) => api<{ groups: Group[] }>(rulePath(r.id), { signal }).then((d) => d.groups, () => [])));
    return rules.map((r, i): Listed => ({ ...r, groups: groups[i]! }));
  }, 'list');
  return (
    <>
      <div class="adm-actions">
        <h2 id="alerts-h" class="adm-grow">
          Alert rules
        </h2>
        <button type="button" class="secondary" onClick={reload}>
          Refresh
        </button>
        {props.admin && (
          <button type="button" onClick={() => navigate('/alerts/new')}>
            New rule
          </button>
        )}
      </div>
      {error && (
        <p class="error" role="alert">
          {error.message}
        </p>
      )}
      {data && data.length === 0 && <p class="muted">No alert rules yet.</p>}
      {data && data.length > 0 && (
        <div class="adm-scroll">
          <table aria-label="Alert rules">
            <thead>
              <tr>
                <th scope="col">rule</th>
                <th scope="col">state</th>
                <th scope="col">condition</th>
                <th scope="col" class="adm-hide-narrow">
                  query
                </th>
                <th scope="col" class="adm-hide-narrow">
                  checked
                </th>
                {props.admin && (
                  <th scope="col">
                    <span class="visually-hidden">actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {data.map((r) => (
                <tr key={r.id} data-rule={r.name}>
                  <th scope="row">
                    <a href={`#/alerts/${r.id}`}>{r.name}</a>
                  </th>
                  <td class="rule-state">
                    <StateBadge state={r.state} />
                    {r.group_by.length > 0 && r.groups.length > 0 && (
                      <ul class="adm-groups" aria-label="groups">
                        {r.groups.slice(0, 5).map((g) => (
                          <li key={groupText(g.group)}>
                            <StateBadge state={g.state} /> {groupText(g.group)}
                          </li>
                        ))}
                        {r.groups.length > 5 && <li class="muted">and {r.groups.length - 5} more</li>}
                      </ul>
                    )}
                  </td>
                  <td>{condition(r)}</td>
                  <td class="adm-hide-narrow">
                    <code>{r.query || '(every event)'}</code>
                  </td>
                  <td class="adm-hide-narrow">
                    every {r.interval}
                    {r.groups.length > 0 && <div class="hint">changed {when(r.groups.map((g) => g.since).sort().at(-1)!)}</div>}
                  </td>
                  {props.admin && (
                    <td>
                      <div class="adm-actions">
                        <button type="button" class="secondary" aria-label={`Edit ${r.name}`} onClick={() => navigate(`/alerts/${r.id}/edit`)}>
                          Edit
                        </button>
                        <ConfirmButton
                          label="Delete"
                          name={r.name}
                          question={`Delete ${r.name}?`}
                          confirm="Yes, delete"
                          onConfirm={async () => {
                            await api(rulePath(r.id), { method: 'DELETE' }).catch(() => undefined);
                            reload();
                          }}
                        />
                      </div>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function RuleDetail(props: { id: string; admin: boolean; secrets: Secret[] | null; onSecretsSeen: () => void }) {
  const { data, error, reload } = usePolled(async (signal) => {
    const [rule, h] = await Promise.all([
      api<Rule & { groups: Group[] }>(rulePath(props.id), { signal }),
      api<{ history: Delivery[] }>('/api/v1/alerts/history', { query: { rule: props.id, limit: 100 }, signal }),
    ]);
    return { rule, history: h.history };
  }, props.id);
  const [tested, setTested] = useState<string | null>(null);
  if (error) {
    return (
      <>
        <h2 id="alerts-h">Alert rule</h2>
        <p class="error" role="alert">
          {error.status === 404 ? 'There is no such rule (it may have been deleted).' : error.message}
        </p>
        <a href="#/alerts">All rules</a>
      </>
    );
  }
  if (!data) return <p class="muted">Loading…</p>;
  const { rule, history } = data;
  const state: State = rule.groups.some((g) => g.state === 'firing') ? 'firing' : rule.groups.some((g) => g.state === 'pending') ? 'pending' : 'ok';
  return (
    <>
      <a href="#/alerts">← All rules</a>
      <div class="adm-actions">
        <h2 id="alerts-h" class="adm-grow">
          {rule.name} <StateBadge state={state} />
        </h2>
        {props.admin && (
          <>
            <button type="button" class="secondary" onClick={() => navigate(`/alerts/${rule.id}/edit`)}>
              Edit
            </button>
            <button
              type="button"
              class="secondary"
              onClick={async () => {
                setTested('sending a test notice…');
                try {
                  const r = await api<{ results: Array<{ delivered: boolean }> }>(`${rulePath(rule.id)}/test`, { method: 'POST' });
                  setTested(`test notice delivered to ${r.results.filter((x) => x.delivered).length} of ${r.results.length} targets`);
                } catch (err) {
                  setTested((err as Error).message);
                }
                reload();
              }}
            >
              Send test notice
            </button>
            <ConfirmButton
              label="Delete"
              name={rule.name}
              question={`Delete ${rule.name}?`}
              confirm="Yes, delete"
              onConfirm={async () => {
                await api(rulePath(rule.id), { method: 'DELETE' });
                navigate('/alerts');
              }}
            />
          </>
        )}
      </div>
      {tested && <p role="status">{tested}</p>}
      {props.secrets && props.secrets.length > 0 && (
        <section class="adm-panel adm-notice" aria-labelledby="secrets-h">
          <h3 id="secrets-h">Signing secrets</h3>
          <p>
            <strong>Copy them now: they are not shown again.</strong> Each notice carries <code>X-Sluice-Signature</code>, an HMAC-SHA256 made with its target's
            secret (docs/alerts.md shows how to check it).
          </p>
          {props.secrets.map((s) => (
            <Snippet key={s.url} title={`Secret for ${s.url}`} text={s.secret} />
          ))}
          <button type="button" onClick={props.onSecretsSeen}>
            Done
          </button>
        </section>
      )}
      <dl>
        <dt>query</dt>
        <dd>
          <code>{rule.query || '(every event)'}</code>
        </dd>
        <dt>fires when</dt>
        <dd>
          {condition(rule)}
          {rule.for !== '0s' ? `, for ${rule.for}` : ''}
        </dd>
        <dt>checked</dt>
        <dd>
          every {rule.interval}; repeats every {rule.repeat} while firing
        </dd>
        <dt>targets</dt>
        <dd>
          {rule.targets.map((t) => (
            <div key={t.url}>
              <code>{t.url}</code> ({t.format})
            </div>
          ))}
        </dd>
      </dl>
      <h3>Groups</h3>
      {rule.groups.length === 0 ? (
        <p class="muted">No state yet: nothing has matched since the rule was made.</p>
      ) : (
        <div class="adm-scroll">
          <table aria-label="Groups">
            <thead>
              <tr>
                <th scope="col">group</th>
                <th scope="col">state</th>
                <th scope="col">since</th>
                <th scope="col" class="num">
                  count then
                </th>
                <th scope="col">last notified</th>
              </tr>
            </thead>
            <tbody>
              {rule.groups.map((g) => (
                <tr key={groupText(g.group)}>
                  <th scope="row">{groupText(g.group)}</th>
                  <td>
                    <StateBadge state={g.state} />
                  </td>
                  <td>{when(g.since)}</td>
                  <td class="num">{g.value}</td>
                  <td>{g.last_notified ? when(g.last_notified) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>Notifications</h3>
      {history.length === 0 ? (
        <p class="muted">Nothing sent yet.</p>
      ) : (
        <div class="adm-scroll">
          <table aria-label="Notification history">
            <thead>
              <tr>
                <th scope="col">time</th>
                <th scope="col">kind</th>
                <th scope="col">group</th>
                <th scope="col">target</th>
                <th scope="col" class="num adm-hide-narrow">
                  attempt
                </th>
                <th scope="col" class="num">
                  status
                </th>
                <th scope="col">delivered</th>
              </tr>
            </thead>
            <tbody>
              {history.map((h, i) => (
                <tr key={i}>
                  <td>{when(h.at)}</td>
                  <td>{h.kind}</td>
                  <td>{groupKeyText(h.group_key)}</td>
                  <td>
                    <code>{h.target}</code>
                  </td>
                  <td class="num adm-hide-narrow">{h.attempt}</td>
                  <td class="num">{h.status || '—'}</td>
                  <td>{h.delivered ? 'yes' : <span class="error">no{h.error ? `: ${h.error}` : ''}</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

interface Draft {
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

const EMPTY: Draft = { name: '', query: '', window: '5m', op: '>', threshold: '0', group_by: '', interval: '15s', for: '0s', repeat: '1h', targets: [{ url: '', format: 'sluice', secret: '' }] };

function draftOf(r: Rule): Draft {
  return {
    ...r,
    op: r.condition.op,
    threshold: String(r.condition.threshold),
    group_by: r.group_by.join(', '),
    targets: r.targets.map((t) => ({ url: t.url, format: t.format, secret: '' })),
  };
}

function bodyOf(d: Draft) {
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

interface FormError {
  field: string | null;
  message: string;
  position?: number | undefined;
}

/** Which field a server message is about: schema errors name a path (body/condition/threshold), range checks start with the field. */
function formError(err: ApiError): FormError {
  const m = err.message;
  if (err.code === 'SLUICE_ERR_QUERY_SYNTAX' || err.code === 'SLUICE_ERR_INVALID_REGEX') return { field: 'query', message: m, position: err.position };
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

function RuleForm(props: { id?: string; onSaved: (id: string, secrets: Secret[]) => void }) {
  const [draft, setDraft] = useState<Draft | null>(props.id ? null : EMPTY);
  // The server keeps a target's secret when its URL is unchanged.
  const [kept, setKept] = useState<ReadonlySet<string>>(new Set());
  const [err, setErr] = useState<FormError | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (!props.id) return;
    api<Rule>(rulePath(props.id)).then(
      (r) => {
        setDraft(draftOf(r));
        setKept(new Set(r.targets.map((t) => t.url)));
      },
      (e: ApiError) => setErr({ field: null, message: e.message }),
    );
  }, [props.id]);
  // After a refusal, focus goes to the field the server named (in the same frame as the message).
  useLayoutEffect(() => {
    if (err?.field) form.current?.querySelector<HTMLElement>(`#rule-${err.field}`)?.focus();
  }, [err]);
  if (!draft) return err ? <p class="error" role="alert">{err.message}</p> : <p class="muted">Loading…</p>;

  const set = (patch: Partial<Draft>) => setDraft({ ...draft, ...patch });
  const setTarget = (i: number, patch: Partial<Draft['targets'][number]>) => set({ targets: draft.targets.map((t, j) => (j === i ? { ...t, ...patch } : t)) });
  // A message about a field this form does not show goes under the buttons instead.
  const fields = new Set(['name', 'query', 'window', 'group_by', 'interval', 'for', 'repeat', 'op', 'threshold']);
  draft.targets.forEach((_, i) => ['url', 'format', 'secret'].forEach((k) => fields.add(`t${i}-${k}`)));
  const errField = err?.field && fields.has(err.field) ? err.field : null;
  const bad = (f: string) => errField === f;
  const attrs = (f: string, hint?: boolean) => ({
    id: `rule-${f}`,
    class: bad(f) ? 'invalid' : '',
    'aria-invalid': bad(f) ? ('true' as const) : ('false' as const),
    'aria-describedby': bad(f) ? 'rule-error' : hint ? `rule-${f}-hint` : undefined,
  });
  const message = (f: string | null) =>
    err && errField === f ? (
      <div id="rule-error" class="adm-field-error" role="alert">
        {err.position !== undefined && (
          <pre aria-hidden="true">
            {draft.query}
            {'\n'}
            {' '.repeat(Math.max(0, err.position))}^
          </pre>
        )}
        {err.message}
      </div>
    ) : null;
  const text = (f: 'name' | 'query' | 'window' | 'group_by' | 'interval' | 'for' | 'repeat', label: string, hint?: string, wide = false) => (
    <div class={`adm-field${wide ? ' wide' : ''}`}>
      <label for={`rule-${f}`}>{label}</label>
      <input {...attrs(f, !!hint)} value={draft[f]} spellcheck={false} onInput={(e) => set({ [f]: (e.target as HTMLInputElement).value })} />
      {hint && (
        <p id={`rule-${f}-hint`} class="hint">
          {hint}
        </p>
      )}
      {message(f)}
    </div>
  );

  return (
    <>
      <h2 id="alerts-h">{props.id ? 'Edit alert rule' : 'New alert rule'}</h2>
      <form
        ref={form}
        class="adm-form"
        aria-labelledby="alerts-h"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setErr(null);
          try {
            const body = bodyOf(draft);
            let id: string;
            let fresh: Secret[];
            if (props.id) {
              const saved = await api<Rule & { new_secrets: Secret[] }>(rulePath(props.id), { method: 'PUT', body });
              [id, fresh] = [saved.id, saved.new_secrets];
            } else {
              const saved = await api<Rule>('/api/v1/alerts/rules', { method: 'POST', body });
              [id, fresh] = [saved.id, saved.targets.map((t) => ({ url: t.url, secret: t.secret ?? '' }))];
            }
            // Secrets the user typed are known to them; the ones the server made are shown once.
            const typed = new Set(draft.targets.filter((t) => t.secret).map((t) => t.url.trim()));
            props.onSaved(id, fresh.filter((x) => x.secret && !typed.has(x.url)));
          } catch (error) {
            setErr(formError(error as ApiError));
          } finally {
            setBusy(false);
          }
        }}
      >
        {text('name', 'Name', undefined, true)}
        {text('query', 'Query', 'the search language; empty = every event', true)}
        <div class="adm-field">
          <span class="label" id="cond-label">
            Fire when the count
          </span>
          <div class="adm-cond" role="group" aria-labelledby="cond-label">
            <select {...attrs('op')} aria-label="comparison" value={draft.op} onChange={(e) => set({ op: (e.target as HTMLSelectElement).value as Op })}>
              {OPS.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
            <input {...attrs('threshold')} aria-label="threshold" type="number" min="0" step="any" value={draft.threshold} onInput={(e) => set({ threshold: (e.target as HTMLInputElement).value })} />
          </div>
          {message('op')}
          {message('threshold')}
        </div>
        {text('window', 'Window', '1m to 24h, counted by received time')}
        {text('group_by', 'Group by', 'optional: service, host, level, source or attributes, comma-separated')}
        {text('interval', 'Check every', 'at least 5s')}
        {text('for', 'For', 'how long it must hold before firing')}
        {text('repeat', 'Repeat', 'resend while firing, at least 1m')}
        <fieldset class="wide">
          <legend>Webhook targets</legend>
          {draft.targets.map((t, i) => (
            <div class="adm-target" key={i}>
              <div class="adm-field">
                <label for={`rule-t${i}-url`}>URL {i + 1}</label>
                <input {...attrs(`t${i}-url`)} inputMode="url" placeholder="https://hooks.example.com/sluice" value={t.url} onInput={(e) => setTarget(i, { url: (e.target as HTMLInputElement).value })} />
                {message(`t${i}-url`)}
              </div>
              <div class="adm-field">
                <label for={`rule-t${i}-format`}>Format</label>
                <select {...attrs(`t${i}-format`)} value={t.format} onChange={(e) => setTarget(i, { format: (e.target as HTMLSelectElement).value as Format })}>
                  {FORMATS.map((f) => (
                    <option key={f} value={f}>
                      {f}
                    </option>
                  ))}
                </select>
                {message(`t${i}-format`)}
              </div>
              <div class="adm-field">
                <label for={`rule-t${i}-secret`}>Secret</label>
                <input
                  {...attrs(`t${i}-secret`)}
                  autocomplete="off"
                  placeholder={kept.has(t.url.trim()) ? 'unchanged' : 'made by the server'}
                  value={t.secret}
                  onInput={(e) => setTarget(i, { secret: (e.target as HTMLInputElement).value })}
                />
                {message(`t${i}-secret`)}
              </div>
              <button type="button" class="secondary" aria-label={`Remove target ${i + 1}`} disabled={draft.targets.length === 1} onClick={() => set({ targets: draft.targets.filter((_, j) => j !== i) })}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" class="secondary" disabled={draft.targets.length >= 10} onClick={() => set({ targets: [...draft.targets, { url: '', format: 'sluice', secret: '' }] })}>
            Add target
          </button>
        </fieldset>
        <div class="wide adm-actions">
          <button type="submit" disabled={busy}>
            {props.id ? 'Save rule' : 'Create rule'}
          </button>
          <button type="button" class="secondary" onClick={() => navigate(props.id ? `/alerts/${props.id}` : '/alerts')}>
            Cancel
          </button>
          {message(null)}
        </div>
      </form>
    </>
  );
}

export function AlertsView(props: ViewProps) {
  const admin = props.scope === 'admin';
  // Secrets the server just made, kept here so the rule's page can show them once.
  const [secrets, setSecrets] = useState<{ id: string; list: Secret[] } | null>(null);
  const [id, sub] = props.route.path.replace(/^\/alerts\/?/, '').split('/');
  const saved = (ruleId: string, list: Secret[]) => {
    setSecrets({ id: ruleId, list });
    navigate(`/alerts/${ruleId}`);
  };
  let body;
  if (!id) body = <RuleList admin={admin} />;
  else if ((id === 'new' || sub === 'edit') && !admin) body = <p class="error">Changing alert rules needs an admin token.</p>;
  else if (id === 'new') body = <RuleForm onSaved={saved} />;
  else if (sub === 'edit') body = <RuleForm key={id} id={id} onSaved={saved} />;
  else body = <RuleDetail key={id} id={id} admin={admin} secrets={secrets?.id === id ? secrets.list : null} onSecretsSeen={() => setSecrets(null)} />;
  return (
    <section class="view adm" aria-labelledby="alerts-h">
      {body}
    </section>
  );
}

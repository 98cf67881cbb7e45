// The form to make or change an alert rule (admin only). The simple rules
// are checked before sending, so every field's problem shows at once; a
// refusal from the server is shown beside the field it names, a query error
// with a caret at its position. Focus moves to the first field named.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { navigate } from '../router';
import { bodyOf, draftOf, draftProblems, EMPTY, formError, FORMATS, OPS, SEVERITIES, type Draft, type FormError } from './alert-draft';
import { rulePath, type Format, type Op, type Rule, type Secret, type Severity } from './alert-model';

export function RuleForm(props: { id?: string; onSaved: (id: string, secrets: Secret[]) => void }) {
  const [draft, setDraft] = useState<Draft | null>(props.id ? null : EMPTY);
  // The server keeps a target's secret when its URL is unchanged.
  const [kept, setKept] = useState<ReadonlySet<string>>(new Set());
  const [errs, setErrs] = useState<FormError[]>([]);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (!props.id) return;
    api<Rule>(rulePath(props.id)).then(
      (r) => {
        setDraft(draftOf(r));
        setKept(new Set(r.targets.map((t) => t.url)));
      },
      (e: ApiError) => setErrs([{ field: null, message: e.message }]),
    );
  }, [props.id]);
  // After a refusal, focus goes to the first field named (in the same frame as the message).
  useLayoutEffect(() => {
    const first = errs.find((e) => e.field)?.field;
    if (first) form.current?.querySelector<HTMLElement>(`#rule-${first}`)?.focus();
  }, [errs]);
  if (!draft) return errs[0] ? <p class="error" role="alert">{errs[0].message}</p> : <p class="muted">Loading…</p>;

  const set = (patch: Partial<Draft>) => setDraft({ ...draft, ...patch });
  const setTarget = (i: number, patch: Partial<Draft['targets'][number]>) => set({ targets: draft.targets.map((t, j) => (j === i ? { ...t, ...patch } : t)) });
  // A message about a field this form does not show goes under the buttons instead.
  const fields = new Set(['name', 'query', 'window', 'group_by', 'interval', 'for', 'repeat', 'op', 'threshold', 'alertmanager', 'alertmanager_url', 'severity', 'labels']);
  draft.targets.forEach((_, i) => ['url', 'format', 'secret', 'routing_key'].forEach((k) => fields.add(`t${i}-${k}`)));
  const fieldOf = (e: FormError) => (e.field && fields.has(e.field) ? e.field : null);
  const bad = (f: string) => errs.some((e) => fieldOf(e) === f);
  const attrs = (f: string, hint?: boolean) => ({
    id: `rule-${f}`,
    class: bad(f) ? 'invalid' : '',
    'aria-invalid': bad(f) ? ('true' as const) : ('false' as const),
    'aria-describedby': bad(f) ? `rule-${f}-error` : hint ? `rule-${f}-hint` : undefined,
  });
  const message = (f: string | null) => {
    const mine = errs.filter((e) => fieldOf(e) === f);
    if (mine.length === 0) return null;
    return (
      <div id={`rule-${f ?? 'form'}-error`} class="adm-field-error" role="alert">
        {mine.map((e) => (
          <div key={e.message}>
            {e.position !== undefined && (
              <pre aria-hidden="true">
                {draft.query}
                {'\n'}
                {' '.repeat(Math.max(0, e.position))}^
              </pre>
            )}
            {e.message}
          </div>
        ))}
      </div>
    );
  };
  const text = (f: 'name' | 'query' | 'window' | 'group_by' | 'interval' | 'for' | 'repeat' | 'labels' | 'alertmanager_url', label: string, hint?: string, wide = false) => (
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
        // Checked by draftProblems instead: the browser's own bubbles show one problem at a time.
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          const problems = draftProblems(draft);
          setErrs(problems);
          if (problems.length > 0) return;
          setBusy(true);
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
            setErrs([formError(error as ApiError)]);
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
        {text('interval', 'Check every', 'at least 1s')}
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
              {t.format === 'pagerduty' && (
                <div class="adm-field">
                  <label for={`rule-t${i}-routing_key`}>Routing key</label>
                  <input
                    {...attrs(`t${i}-routing_key`)}
                    autocomplete="off"
                    placeholder={kept.has(t.url.trim()) ? 'unchanged' : 'the integration key'}
                    value={t.routing_key ?? ''}
                    onInput={(e) => setTarget(i, { routing_key: (e.target as HTMLInputElement).value })}
                  />
                  {message(`t${i}-routing_key`)}
                </div>
              )}
              <button type="button" class="secondary" aria-label={`Remove target ${i + 1}`} disabled={draft.targets.length === 1 && !draft.alertmanager} onClick={() => set({ targets: draft.targets.filter((_, j) => j !== i) })}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" class="secondary" disabled={draft.targets.length >= 10} onClick={() => set({ targets: [...draft.targets, { url: '', format: 'sluice', secret: '' }] })}>
            Add target
          </button>
        </fieldset>
        <fieldset class="wide">
          <legend>Alertmanager and labels</legend>
          <div class="adm-field">
            <label>
              <input {...attrs('alertmanager')} type="checkbox" checked={draft.alertmanager} onChange={(e) => set({ alertmanager: (e.target as HTMLInputElement).checked })} /> Push to Alertmanager
            </label>
            {message('alertmanager')}
          </div>
          {draft.alertmanager && text('alertmanager_url', 'Alertmanager URL', 'empty = the server’s SLUICE_ALERTMANAGER_URL')}
          <div class="adm-field">
            <label for="rule-severity">Severity</label>
            <select {...attrs('severity')} value={draft.severity} onChange={(e) => set({ severity: (e.target as HTMLSelectElement).value as Severity })}>
              {SEVERITIES.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
            {message('severity')}
          </div>
          {text('labels', 'Labels', 'name=value, comma-separated: on every alert (Alertmanager, PagerDuty)', true)}
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

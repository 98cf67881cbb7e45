// One alert rule's page: what it checks, its state per group and its
// delivery history (polled), the secrets the server just made for it (shown
// once), and for admins Edit, Send test notice and Delete.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ConfirmButton } from '../components/confirm-button';
import { CopyBlock } from '../components/copy-block';
import { errorText } from '../components/event-detail';
import { navigate } from '../router';
import {
  condition,
  groupKeyText,
  groupText,
  lastOutcome,
  OutcomeText,
  rulePath,
  StateBadge,
  pollMs,
  usePolled,
  type Delivery,
  type Group,
  type Rule,
  type Secret,
  type State,
} from './alert-model';
import { plural, when } from '../format';

export function RuleDetail(props: { id: string; admin: boolean; secrets: Secret[] | null; onSecretsSeen: () => void }) {
  const { data, error, reload } = usePolled(async (signal) => {
    const [rule, h] = await Promise.all([
      api<Rule & { groups: Group[]; snoozed: boolean; last_evaluated_at: string | null; last_error: string | null }>(rulePath(props.id), { signal }),
      api<{ history: Delivery[] }>('/api/v1/alerts/history', { query: { rule: props.id, limit: 100 }, signal }),
    ]);
    return { rule, history: h.history };
  }, props.id, (d) => pollMs(d.rule.interval));
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
  const last = lastOutcome(history);
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
                  setTested(`test notice delivered to ${r.results.filter((x) => x.delivered).length} of ${plural(r.results.length, 'target')}`);
                } catch (err) {
                  setTested(errorText(err));
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
      {last && (
        <p class="last-notice">
          Last notice ({last.kind}, {when(last.at)}): <OutcomeText outcome={last} />
        </p>
      )}
      {props.secrets && props.secrets.length > 0 && <SecretsNotice secrets={props.secrets} onDone={props.onSecretsSeen} />}
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
          {rule.last_evaluated_at && <span class="last-evaluated">; last {when(rule.last_evaluated_at)}</span>}
          {rule.last_error && <div class="error eval-error">evaluation failed: {rule.last_error}</div>}
        </dd>
        {rule.snoozed && rule.snoozed_until && (
          <>
            <dt>snoozed</dt>
            <dd class="snoozed">no notices until {when(rule.snoozed_until)}</dd>
          </>
        )}
        <dt>targets</dt>
        <dd>
          {rule.targets.map((t) => (
            <div key={t.url}>
              <code>{t.url}</code> ({t.format})
            </div>
          ))}
          {rule.alertmanager && (
            <div>
              Alertmanager {rule.alertmanager.url ? <code>{rule.alertmanager.url}</code> : '(the server’s SLUICE_ALERTMANAGER_URL)'}
            </div>
          )}
        </dd>
        <dt>severity</dt>
        <dd>
          {rule.severity ?? 'warning'}
          {Object.keys(rule.labels ?? {}).length > 0 && ` · ${Object.entries(rule.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')}`}
        </dd>
      </dl>
      <h3>Groups</h3>
      {rule.groups.length === 0 ? <p class="muted">No state yet: nothing has matched since the rule was made.</p> : <GroupTable groups={rule.groups} history={history} />}
      <h3>Notifications</h3>
      {history.length === 0 ? <p class="muted">Nothing sent yet.</p> : <HistoryTable history={history} />}
    </>
  );
}

function SecretsNotice(props: { secrets: Secret[]; onDone: () => void }) {
  return (
    <section class="adm-panel adm-notice" aria-labelledby="secrets-h">
      <h3 id="secrets-h">Signing secrets</h3>
      <p>
        <strong>Copy them now: they are not shown again.</strong> Each notice carries <code>X-Sluice-Signature</code>, an HMAC-SHA256 made with its target's secret;
        how to check it is under “Notices” in <code>docs/alerts.md</code> of the Sluice source.
      </p>
      {props.secrets.map((s) => (
        <CopyBlock key={s.url} title={`Secret for ${s.url}`} text={s.secret} />
      ))}
      <button type="button" onClick={props.onDone}>
        Done
      </button>
    </section>
  );
}

function GroupTable(props: { groups: Group[]; history: Delivery[] }) {
  return (
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
            <th scope="col">last notice</th>
          </tr>
        </thead>
        <tbody>
          {props.groups.map((g) => {
            const name = groupText(g.group);
            // The state says when a notice was sent, not whether it arrived: the history does.
            const outcome = lastOutcome(props.history.filter((h) => h.kind !== 'test' && groupKeyText(h.group_key) === name));
            return (
              <tr key={name}>
                <th scope="row">{name}</th>
                <td>
                  <StateBadge state={g.state} />
                </td>
                <td>{when(g.since)}</td>
                <td class="num">{g.value}</td>
                <td>
                  {outcome ? (
                    <>
                      {when(outcome.at)} ({outcome.kind}) · <OutcomeText outcome={outcome} />
                    </>
                  ) : g.last_notified ? (
                    when(g.last_notified)
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function HistoryTable(props: { history: Delivery[] }) {
  return (
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
          {props.history.map((h, i) => (
            <tr key={i}>
              <td>{when(h.at)}</td>
              <td>{h.kind}</td>
              <td>{groupKeyText(h.group_key)}</td>
              <td class="adm-url">
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
  );
}

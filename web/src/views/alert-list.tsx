// All alert rules with their state, per group for grouped rules, when each
// was last evaluated, the evaluation's error if it failed, and a warning
// when a rule's last notice did not reach its webhook; admins get
// Edit and Delete on each row.
import { api } from '../api';
import { ConfirmButton } from '../components/confirm-button';
import { navigate } from '../router';
import { condition, failureText, groupText, lastOutcome, rulePath, StateBadge, usePolled, type Delivery, type Group, type Outcome, type Rule, type State } from './alert-model';
import { when } from '../format';

interface Listed extends Rule {
  state: State;
  firing_groups: number;
  /** When the engine last ran the rule, and its error then; null where the server runs no engine. */
  last_evaluated_at: string | null;
  /** Notices are held back until snoozed_until. */
  snoozed: boolean;
  last_error: string | null;
  groups: Group[];
  last: Outcome | null;
}

/** Enough attempts to see the newest notice whole (a few targets, a few retries each). */
const HISTORY = 20;

export function RuleList(props: { admin: boolean }) {
  const { data, error, reload } = usePolled(async (signal) => {
    const { rules } = await api<{ rules: Array<Omit<Listed, 'last'>> }>('/api/v1/alerts/rules', { signal });
    // Deliveries come only from the history.
    const lasts = await Promise.all(
      rules.map((r) =>
        api<{ history: Delivery[] }>('/api/v1/alerts/history', { query: { rule: r.id, limit: HISTORY }, signal }).then(
          (d) => lastOutcome(d.history),
          () => null,
        ),
      ),
    );
    return rules.map((r, i): Listed => ({ ...r, last: lasts[i]! }));
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
                    {r.snoozed && r.snoozed_until && (
                      <span class="muted snoozed" title={r.snoozed_until}>
                        {' '}
                        snoozed until {when(r.snoozed_until)}
                      </span>
                    )}
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
                    {r.last_error && (
                      <div class="error eval-error" title={r.last_evaluated_at ? `at ${when(r.last_evaluated_at)}` : undefined}>
                        evaluation failed: {r.last_error}
                      </div>
                    )}
                    {r.last && r.last.failed.length > 0 && (
                      <div class="error not-delivered" title={`sent ${when(r.last.at)}`}>
                        last {r.last.kind} notice not delivered: {failureText(r.last.failed[0]!)}
                      </div>
                    )}
                  </td>
                  <td>{condition(r)}</td>
                  <td class="adm-hide-narrow">
                    <code>{r.query || '(every event)'}</code>
                  </td>
                  <td class="adm-hide-narrow">
                    every {r.interval}
                    {r.last_evaluated_at && <div class="hint last-evaluated">last {when(r.last_evaluated_at)}</div>}
                    {r.groups.length > 0 && <div class="hint">changed {when(r.groups.map((g) => g.since).sort().at(-1)!)}</div>}
                  </td>
                  {props.admin && (
                    <td>
                      <div class="adm-actions">
                        <button
                          type="button"
                          class="secondary"
                          aria-label={r.snoozed ? `Unsnooze ${r.name}` : `Snooze ${r.name} for an hour`}
                          onClick={async () => {
                            const path = `${rulePath(r.id)}/snooze`;
                            await (r.snoozed ? api(path, { method: 'DELETE' }) : api(path, { method: 'POST', body: { for: '1h' } })).catch(() => undefined);
                            reload();
                          }}
                        >
                          {r.snoozed ? 'Unsnooze' : 'Snooze 1h'}
                        </button>
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

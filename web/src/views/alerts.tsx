// Alerts (docs/alerts.md): the rules with their state per group
// (alert-list), one rule's groups and delivery history (alert-rule), and the
// form to make or change a rule, admin only (alert-form). This module only
// routes between them and carries the secrets a save returned to the rule's
// page.
import { useState } from 'preact/hooks';
import { navigate } from '../router';
import { RuleForm } from './alert-form';
import { RuleList } from './alert-list';
import type { Secret } from './alert-model';
import { RuleDetail } from './alert-rule';
import type { ViewProps } from './index';
import './admin.css';

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

// Sources (admin): ingest tokens with what each has sent, made and revoked
// here. A new token is shown once, filled into ready-to-copy setups for each
// way of sending (docs/drains.md, docs/shipper.md) with this server's address.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { ConfirmButton } from '../components/confirm-button';
import { CopyBlock } from '../components/copy-block';
import { errorText } from '../components/event-detail';
import { when } from '../format';
import type { ViewProps } from './index';
import './admin.css';

type TokenScope = 'ingest' | 'read' | 'admin';

interface Source {
  name: string;
  scope: TokenScope;
  created_at: string;
  events: number;
  last_event_at: string | null;
}

/** Where sources send (GET /api/v1/setup): the bound syslog ports, so the config lines are exact. */
interface Setup {
  public_url: string;
  syslog: { tcp?: number; udp?: number; tls?: number };
}

// The port docs/drains.md uses, for the examples when syslog is off.
const DEFAULT_SYSLOG_PORT = 6601;

interface Created {
  name: string;
  scope: TokenScope;
  token: string;
}

/** The setups for a new token, each complete with this server's address. */
function snippets(c: Created, service: string, syslogPort: number): Array<[string, string]> {
  const origin = location.origin;
  const host = location.hostname;
  const svc = service || 'my-app';
  const t = c.token;
  if (c.scope === 'read')
    return [
      ['curl (search)', `curl -s -H 'Authorization: Bearer ${t}' '${origin}/api/v1/search?from=1h'`],
      ['sluice tail', `export SLUICE_URL=${origin}\nexport SLUICE_TOKEN=${t}\nnpx sluice tail 'level:>=warn' --since 10m`],
    ];
  const drain = new URL('/api/v1/drains/logplex', origin);
  drain.username = 'sluice';
  drain.password = t;
  drain.searchParams.set('service', svc);
  return [
    ['curl', `curl -s -X POST '${origin}/api/v1/ingest?service=${encodeURIComponent(svc)}' \\\n  -H 'Authorization: Bearer ${t}' -H 'Content-Type: application/x-ndjson' \\\n  --data-binary '{"level":"info","msg":"hello from curl"}'`],
    ['sluice ship', `export SLUICE_URL=${origin}\nexport SLUICE_TOKEN=${t}\nnode app.js 2>&1 | npx sluice ship --service ${svc}`],
    // Heroku insists on HTTPS: behind a TLS proxy the origin already is.
    ['Heroku drain', `heroku drains:add '${drain.toString()}' -a ${svc}`],
    [
      'rsyslog (TCP, token in structured data)',
      `# /etc/rsyslog.d/60-sluice.conf\ntemplate(name="SluiceFormat" type="string"\n  string="<%PRI%>1 %TIMESTAMP:::date-rfc3339% %HOSTNAME% %APP-NAME% %PROCID% %MSGID% [auth@32473 token=\\"${t}\\"] %msg%\\n")\naction(type="omfwd" target="${host}" port="${syslogPort}" protocol="tcp"\n       TCP_Framing="octet-counted" template="SluiceFormat"\n       action.resumeRetryCount="-1" queue.type="LinkedList" queue.filename="sluice_fwd" queue.saveOnShutdown="on")`,
    ],
    [
      'syslog-ng',
      `destination d_sluice { syslog("${host}" transport("tcp") port(${syslogPort}) disk-buffer(reliable(yes) disk-buf-size(1073741824))); };\nrewrite r_sluice_token { set("${t}" value(".SDATA.auth@32473.token")); };\nlog { source(s_src); rewrite(r_sluice_token); destination(d_sluice); };`,
    ],
    [
      'OpenTelemetry (OTLP/HTTP)',
      `export OTEL_LOGS_EXPORTER=otlp\nexport OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=http/protobuf\nexport OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=${origin}/v1/logs\nexport OTEL_EXPORTER_OTLP_LOGS_HEADERS="Authorization=Bearer ${t}"\nexport OTEL_SERVICE_NAME=${svc}`,
    ],
    ['Loki push (Promtail)', `clients:\n  - url: ${origin}/loki/api/v1/push\n    bearer_token: ${t}`],
  ];
}

function CreatedPanel(props: { created: Created; setup: Setup | null; onDone: () => void }) {
  const c = props.created;
  const [service, setService] = useState(c.name);
  const heading = useRef<HTMLHeadingElement>(null);
  // Focus moves to the one-time token so keyboard and screen-reader users land on it.
  useEffect(() => heading.current?.focus(), [c.token]);
  return (
    <section class="adm-panel adm-notice" aria-labelledby="created-h">
      <h3 id="created-h" tabIndex={-1} ref={heading}>
        Token “{c.name}” ({c.scope}) created
      </h3>
      <p>
        <strong>Copy it now: this is the only time it is shown.</strong> Sluice keeps only its hash.
      </p>
      <CopyBlock title="Token" text={c.token} />
      {c.scope !== 'read' && (
        <div class="adm-field">
          <label for="snippet-service">Service name in the examples</label>
          <input id="snippet-service" value={service} onInput={(e) => setService((e.target as HTMLInputElement).value.trim())} />
        </div>
      )}
      {snippets(c, service, props.setup?.syslog.tcp ?? DEFAULT_SYSLOG_PORT).map(([title, text]) => (
        <CopyBlock key={title} title={title} text={text} />
      ))}
      <p class="hint">
        {props.setup?.syslog.tcp !== undefined
          ? `Syslog over TCP listens on port ${props.setup.syslog.tcp}. `
          : `Syslog is off on this server: set SLUICE_SYSLOG_TCP_PORT (${DEFAULT_SYSLOG_PORT} above). `}
        Heroku needs Sluice behind HTTPS. Run the <code>npx sluice</code> lines in the Sluice directory (where <code>npm ci</code> ran): that is
        where <code>npx</code> finds the <code>sluice</code> command.
      </p>
      <button type="button" onClick={props.onDone}>
        Done
      </button>
    </section>
  );
}

export function SourcesView(_props: ViewProps) {
  const [sources, setSources] = useState<Source[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [scope, setScope] = useState<TokenScope>('ingest');
  const [formError, setFormError] = useState<string | null>(null);
  const [created, setCreated] = useState<Created | null>(null);
  const [busy, setBusy] = useState(false);

  const load = async () => {
    try {
      setSources((await api<{ sources: Source[] }>('/api/v1/sources')).sources);
      setListError(null);
    } catch (err) {
      setListError(errorText(err));
    }
  };
  const [setup, setSetup] = useState<Setup | null>(null);
  // The token this tab is signed in with: revoking it signs this tab out too.
  const [me, setMe] = useState<string | null>(null);
  useEffect(() => {
    void load();
    // Without it the examples fall back to the documented port.
    api<Setup>('/api/v1/setup').then(setSetup, () => setSetup(null));
    api<{ name: string }>('/api/v1/me').then((m) => setMe(m.name), () => setMe(null));
  }, []);

  return (
    <section class="view adm" aria-labelledby="sources-h">
      <h2 id="sources-h">Sources</h2>
      <form
        class="adm-inline"
        aria-label="New token"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setFormError(null);
          try {
            setCreated(await api<Created>('/api/v1/tokens', { method: 'POST', body: { name: name.trim(), scope } }));
            setName('');
            await load();
          } catch (err) {
            setFormError(errorText(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="token-name">Name</label>
        <input
          id="token-name"
          required
          maxLength={64}
          placeholder="heroku-myapp"
          aria-describedby={formError ? 'token-error' : 'token-hint'}
          aria-invalid={formError ? 'true' : 'false'}
          class={formError ? 'invalid' : ''}
          value={name}
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
        />
        <label for="token-scope">Scope</label>
        <select id="token-scope" value={scope} onChange={(e) => setScope((e.target as HTMLSelectElement).value as TokenScope)}>
          <option value="ingest">ingest (sends events)</option>
          <option value="read">read (searches)</option>
          <option value="admin">admin (everything)</option>
        </select>
        <button type="submit" disabled={busy || name.trim() === ''}>
          Create token
        </button>
        <span id="token-hint" class="hint">
          letters, digits, . _ -; one per app or sender
        </span>
      </form>
      {formError && (
        <p id="token-error" class="error" role="alert">
          {formError}
        </p>
      )}
      {created && <CreatedPanel created={created} setup={setup} onDone={() => setCreated(null)} />}
      <div class="adm-actions">
        <h3 class="adm-grow">Tokens</h3>
        <button type="button" class="secondary" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {listError && (
        <p class="error" role="alert">
          {listError}
        </p>
      )}
      {sources && (
        <div class="adm-scroll">
          <table aria-label="Tokens">
            <thead>
              <tr>
                <th scope="col">name</th>
                <th scope="col">scope</th>
                <th scope="col" class="adm-hide-narrow">
                  created
                </th>
                <th scope="col" class="num">
                  events
                </th>
                <th scope="col">last event</th>
                <th scope="col">
                  <span class="visually-hidden">actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sources.map((s) => (
                <tr key={s.name} data-token={s.name}>
                  <th scope="row">
                    {s.name}
                    {s.name === me && <span class="hint"> (you)</span>}
                  </th>
                  <td>{s.scope}</td>
                  <td class="adm-hide-narrow">{when(s.created_at)}</td>
                  <td class="num events">{s.events.toLocaleString()}</td>
                  <td>{s.last_event_at ? when(s.last_event_at) : <span class="muted">never</span>}</td>
                  <td>
                    <ConfirmButton
                      label="Revoke"
                      name={s.name}
                      question={
                        s.name === me
                          ? `Revoke ${s.name}? This is the token you are signed in with: this tab is signed out at once, and you need another ${s.scope} token to sign in again.`
                          : `Revoke ${s.name}? Senders using it get 401 at once.`
                      }
                      confirm="Yes, revoke"
                      onConfirm={async () => {
                        try {
                          await api(`/api/v1/tokens/${encodeURIComponent(s.name)}`, { method: 'DELETE' });
                          await load();
                        } catch (err) {
                          // E.g. the last admin token, which the server keeps.
                          setListError(errorText(err));
                        }
                      }}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {sources.length === 0 && <p class="muted">No tokens yet.</p>}
        </div>
      )}
    </section>
  );
}

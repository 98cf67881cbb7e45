// Sign-in: a read or admin token, checked against the server before it is
// kept (in this tab only).
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { saveToken, type Scope } from '../session';

export function SignIn(props: { onSignedIn: (name: string, scope: Scope) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main class="signin">
      <h1>Sluice</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            const me = await api<{ name: string; scope: string }>('/api/v1/me', { token: token.trim() });
            if (me.scope !== 'read' && me.scope !== 'admin') {
              setError(`"${me.name}" is an ${me.scope} token: it can send events but not read them. Sign in with a read or admin token.`);
              return;
            }
            saveToken(token.trim(), me.scope);
            props.onSignedIn(me.name, me.scope);
          } catch (err) {
            const e = err as ApiError;
            setError(e.status === 401 ? 'That token is not valid (or was revoked).' : e.status === 403 ? 'That is an ingest token: it can send events but not read them. Sign in with a read or admin token.' : e.message);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="token">Token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
        <p class="hint">
          The admin token <code>npm start</code> printed on its first start, or one made with <code>npx sluice token create …</code> in the Sluice
          directory. It stays in this tab only.
        </p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || token.trim() === ''}>
          Sign in
        </button>
      </form>
    </main>
  );
}

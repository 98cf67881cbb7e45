// The shell: sign-in gate, navigation, and the view for the current route.
// Views are registered in views/index.ts so each lands in its own module.
import { useEffect, useState } from 'preact/hooks';
import { setSignedOutHandler } from './api';
import { useRoute } from './router';
import { clearToken, getScope, getToken, type Scope } from './session';
import { SignIn } from './views/signin';
import { VIEWS } from './views/index';

export function App() {
  const [scope, setScope] = useState<Scope | null>(() => (getToken() ? getScope() : null));
  const route = useRoute();
  useEffect(() => setSignedOutHandler(() => setScope(null)), []);
  useEffect(() => {
    // `/` focuses the query box of the current view (unless typing already).
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      const box = document.querySelector<HTMLInputElement>('[data-query-box]');
      if (box) {
        e.preventDefault();
        box.focus();
        box.select();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  if (!scope) return <SignIn onSignedIn={(_name, s) => setScope(s)} />;

  const views = VIEWS.filter((v) => !v.admin || scope === 'admin');
  const active = views.find((v) => route.path === v.path || route.path.startsWith(`${v.path}/`)) ?? views[0]!;
  const View = active.component;
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href="#/tail">
          Sluice
        </a>
        <nav aria-label="Views">
          {views
            .filter((v) => !v.hidden)
            .map((v) => (
              <a key={v.path} href={`#${v.path}`} aria-current={v === active ? 'page' : undefined}>
                {v.title}
              </a>
            ))}
        </nav>
        <button
          class="link"
          type="button"
          onClick={() => {
            clearToken();
            setScope(null);
          }}
        >
          Sign out
        </button>
      </header>
      <View route={route} scope={scope} />
    </div>
  );
}

// Hash routes (#/search?q=…): the server serves one page and every view is
// addressable, bookmarkable and copyable without server-side routes.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  readonly path: string;
  readonly params: URLSearchParams;
}

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#/, '') || '/tail';
  const q = hash.indexOf('?');
  return { path: q === -1 ? hash : hash.slice(0, q), params: new URLSearchParams(q === -1 ? '' : hash.slice(q + 1)) };
}

export function href(path: string, params?: Record<string, string | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined && v !== '') p.set(k, v);
  const s = p.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

/** Navigates; `replace` keeps the back button for real moves, not every keystroke. */
export function navigate(path: string, params?: Record<string, string | undefined>, replace = false): void {
  const target = href(path, params);
  if (target === location.hash) return;
  if (replace) {
    history.replaceState(null, '', target);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = target;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const on = () => setRoute(currentRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

// The signed-in token lives in this tab only (sessionStorage): it survives a
// reload, not a closed tab, and never goes into a URL.
const KEY = 'sluice.token';
const SCOPE = 'sluice.scope';

export type Scope = 'read' | 'admin';

export function getToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function getScope(): Scope | null {
  const s = sessionStorage.getItem(SCOPE);
  return s === 'read' || s === 'admin' ? s : null;
}

export function saveToken(token: string, scope: Scope): void {
  sessionStorage.setItem(KEY, token);
  sessionStorage.setItem(SCOPE, scope);
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(SCOPE);
}

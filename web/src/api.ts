// The one way the page talks to the server: fetch with the signed-in token
// in the Authorization header (never in a URL), errors as ApiError with the
// server's SLUICE_ERR_* code and, for query errors, the position.
import { clearToken, getToken } from './session';

export interface LogEvent {
  id: string;
  time: string;
  received_at: string;
  service: string;
  host: string;
  level: Level;
  severity: number;
  message: string;
  attributes: Record<string, string>;
  trace_id: string;
  span_id: string;
  source: string;
}

export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
export const LEVELS: readonly Level[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly position?: number,
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}

let onSignedOut: () => void = () => {};
/** The shell goes back to the sign-in form when the token stops working. */
export function setSignedOutHandler(fn: () => void): void {
  onSignedOut = fn;
}

export async function api<T>(
  path: string,
  opts: { method?: string; query?: Query; body?: unknown; signal?: AbortSignal; token?: string } = {},
): Promise<T> {
  const token = opts.token ?? getToken();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(withQuery(path, opts.query), {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'SLUICE_ERR_NETWORK', 'the server cannot be reached');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const b = (body ?? {}) as { code?: string; message?: string; position?: number };
    const err = new ApiError(res.status, b.code ?? `HTTP_${res.status}`, b.message ?? (text || res.statusText), b.position);
    // A token revoked while signed in (not a wrong token typed at sign-in).
    if (res.status === 401 && opts.token === undefined) {
      clearToken();
      onSignedOut();
    }
    throw err;
  }
  return body as T;
}

/** The WebSocket URL of a path on this server. */
export function wsUrl(path: string): string {
  const u = new URL(path, location.href);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

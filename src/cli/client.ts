// How client commands (token, ship, tail) reach a server: SLUICE_URL and
// SLUICE_TOKEN from the environment, overridden by --url and --token.
import type { Config } from '../config.js';

export interface ServerTarget {
  readonly url: string;
  readonly token: string | undefined;
  /** True when neither --url nor SLUICE_URL named the server. */
  readonly defaulted: boolean;
}

export function serverTarget(config: Config, flags: { url?: string | undefined; token?: string | undefined }): ServerTarget {
  const explicit = flags.url ?? config.client.url;
  return {
    url: (explicit ?? `http://127.0.0.1:${config.port}`).replace(/\/+$/, ''),
    token: flags.token ?? config.client.token ?? config.adminToken,
    defaulted: explicit === undefined,
  };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** True when the error means nothing listens at the address. */
export function isConnectionRefused(e: unknown): boolean {
  const cause = (e as { cause?: { code?: string } }).cause;
  return cause?.code === 'ECONNREFUSED';
}

export async function callApi<T>(target: ServerTarget, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(target.url + path, { method, headers, body: body === undefined ? null : JSON.stringify(body) });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = { message: text.slice(0, 200) };
  }
  if (!res.ok) throw new ApiError(res.status, String(json.code ?? res.status), String(json.message ?? res.statusText));
  return json as T;
}

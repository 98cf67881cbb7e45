// Every route but health and metrics needs a token with the right scope:
// `Authorization: Bearer <token>`, or Basic auth with the token as password
// (how Heroku drain URLs carry it). Checked in onRequest, before any body is
// read.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SluiceError } from '../errors.js';
import { type Principal, type Scope, scopeAllows, type TokenRegistry } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The token a request presents, or undefined. */
export function presentedToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [kind, value = ''] = header.trim().split(/\s+/, 2);
  if (/^bearer$/i.test(kind ?? '')) return value || undefined;
  if (/^basic$/i.test(kind ?? '')) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    // user:token or token: (password preferred; a bare user works too)
    const password = colon === -1 ? '' : decoded.slice(colon + 1);
    const user = colon === -1 ? decoded : decoded.slice(0, colon);
    return password || user || undefined;
  }
  return undefined;
}

export function requireScope(tokens: TokenRegistry, scope: Scope) {
  return async function checkToken(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const token = presentedToken(req.headers.authorization);
    if (token === undefined) {
      void reply.header('WWW-Authenticate', 'Bearer realm="sluice"');
      throw new SluiceError('SLUICE_ERR_UNAUTHORIZED');
    }
    const principal = await tokens.authenticate(token);
    if (!principal) {
      void reply.header('WWW-Authenticate', 'Bearer realm="sluice", error="invalid_token"');
      throw new SluiceError('SLUICE_ERR_INVALID_TOKEN');
    }
    if (!scopeAllows(principal.scope, scope)) {
      throw new SluiceError('SLUICE_ERR_FORBIDDEN', `this route needs a token with scope ${scope}; ${principal.name} has ${principal.scope}`);
    }
    req.principal = principal;
  };
}

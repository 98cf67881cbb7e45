// Serves the browser app built by Vite into dist/public (web/): the page at
// `/` and its hashed assets under /assets/. The page is never cached (it
// names the current assets); assets are immutable. Every response carries a
// strict Content-Security-Policy: scripts, styles and connections to this
// origin only, no inline code, no framing.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { SluiceError, errorBody } from './errors.js';

// Same path from src/web.ts (tests) and dist/web.js (built): the repo's dist/.
export const WEB_ROOT = fileURLToPath(new URL('../dist/public/', import.meta.url));

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  // 'self' covers same-origin ws:/wss: (live tail) in CSP Level 3 browsers.
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

export interface WebPage {
  send(reply: FastifyReply): FastifyReply;
}

/** The app's page, read once; a server built without the web app says so. */
export function loadWebPage(root = WEB_ROOT): WebPage {
  let html: Buffer | undefined;
  try {
    html = readFileSync(`${root}index.html`);
  } catch {
    html = undefined;
  }
  return {
    send(reply) {
      if (!html) {
        const err = new SluiceError('SLUICE_ERR_NOT_FOUND', 'the web app is not built: run npm run build');
        return reply.code(404).send(errorBody(err));
      }
      return reply.code(200).headers(SECURITY_HEADERS).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
    },
  };
}

/** The asset routes, and `/` itself unless another route owns it (the Elasticsearch probe does, and hands browsers to the page). */
export async function webRoutes(app: FastifyInstance, opts: { page: WebPage; ownsRoot: boolean; root?: string }): Promise<void> {
  const root = opts.root ?? WEB_ROOT;
  app.addHook('onSend', async (_req, reply, payload) => {
    void reply.headers(SECURITY_HEADERS);
    return payload;
  });
  await app.register(fastifyStatic, {
    root: `${root}assets`,
    prefix: '/assets/',
    decorateReply: false,
    preCompressed: true,
    immutable: true,
    maxAge: '365d',
    index: false,
  });
  app.get('/favicon.svg', async (_req, reply) => {
    try {
      const svg = readFileSync(`${root}favicon.svg`);
      return reply.header('cache-control', 'public, max-age=86400').type('image/svg+xml').send(svg);
    } catch {
      throw new SluiceError('SLUICE_ERR_NOT_FOUND', 'no route GET /favicon.svg');
    }
  });
  if (opts.ownsRoot) app.get('/', async (_req, reply) => opts.page.send(reply));
}

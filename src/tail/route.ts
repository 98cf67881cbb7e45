// GET /api/v1/tail (scope read): the live tail over WebSocket.
// Browsers cannot set headers on a WebSocket and a token must not sit in a
// URL, so a client either sends `Authorization` with the upgrade, or sends
// {"type":"auth","token":"…"} as its first message.
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { presentedToken } from '../auth/plugin.js';
import { type Principal, scopeAllows } from '../auth/tokens.js';
import type { AppContext } from '../context.js';
import { SluiceError } from '../errors.js';
import { compileMatcher, onlyServices, requiredServices } from '../query/language/match.js';
import { parseQuery } from '../query/language/parse.js';
import { knowPatternsOf } from '../patterns/registry.js';
import { searchEvents } from '../query/search.js';
import { Viewer } from './hub.js';
import { MAX_BACKFILL } from './limits.js';

const AUTH_TIMEOUT_MS = 10_000;
const HEARTBEAT_MS = 15_000;
const MAX_SOCKET_BYTES = 4 * 1024 * 1024;

interface ClientMessage {
  type?: unknown;
  token?: unknown;
  q?: unknown;
  since?: unknown;
  limit?: unknown;
}

function sendError(socket: WebSocket, err: unknown): void {
  const e = err instanceof SluiceError ? err : new SluiceError('SLUICE_ERR_INTERNAL');
  socket.send(JSON.stringify({ type: 'error', code: e.code, message: e.message, ...e.details }));
}

export async function tailRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;

  // A header, when sent, is checked before the upgrade, so a bad token gets
  // a plain 401 instead of a socket.
  app.get(
    '/api/v1/tail',
    {
      websocket: true,
      onRequest: async (req) => {
        const token = presentedToken(req.headers.authorization);
        if (token === undefined) return;
        const p = await ctx.tokens.authenticate(token);
        if (!p) throw new SluiceError('SLUICE_ERR_INVALID_TOKEN');
        if (!scopeAllows(p.scope, 'read')) throw new SluiceError('SLUICE_ERR_FORBIDDEN', 'the live tail needs a token with scope read');
        req.principal = p;
      },
    },
    (socket, req) => {
      let viewer: Viewer | undefined;
      let generation = 0;
      const heartbeat = setInterval(() => socket.send(JSON.stringify({ type: 'heartbeat' })), HEARTBEAT_MS);
      let authTimer: NodeJS.Timeout | undefined;

      const admit = (p: Principal): boolean => {
        if (ctx.hub.countFor(p.name) >= ctx.config.tail.maxPerToken) {
          sendError(socket, new SluiceError('SLUICE_ERR_TAIL_LIMIT', `token ${p.name} already holds ${ctx.config.tail.maxPerToken} live tails (SLUICE_TAIL_MAX_PER_TOKEN)`));
          socket.close(1008, 'tail limit');
          return false;
        }
        // Buffers go out as text frames: they are the UTF-8 of JSON.
        const outlet = { get bufferedAmount() { return socket.bufferedAmount; }, send: (d: string | Buffer) => socket.send(d, { binary: false }), close: (reason: string) => socket.close(1011, reason.slice(0, 120)) };
        viewer = new Viewer(p.name, outlet, { bufferEvents: ctx.config.tail.bufferEvents, maxSocketBytes: MAX_SOCKET_BYTES, clock: ctx.clock });
        ctx.hub.add(viewer);
        return true;
      };

      if (req.principal) admit(req.principal);
      else {
        authTimer = setTimeout(() => {
          sendError(socket, new SluiceError('SLUICE_ERR_UNAUTHORIZED', 'send {"type":"auth","token":"…"} first'));
          socket.close(1008, 'unauthorized');
        }, AUTH_TIMEOUT_MS);
      }

      const subscribe = async (v: Viewer, m: ClientMessage): Promise<void> => {
        const q = typeof m.q === 'string' ? m.q : '';
        const since = typeof m.since === 'string' ? m.since : undefined;
        const limit = Math.min(MAX_BACKFILL, Math.max(0, Number.isInteger(m.limit) ? (m.limit as number) : 100));
        const mine = ++generation;
        // A pattern:<id> term may name a template this process has not listed.
        await knowPatternsOf(ctx, q);
        if (mine !== generation) return;
        // Live events queue from here on, so nothing stored during the
        // backfill is missed; ids sent by the backfill are skipped later.
        const node = parseQuery(q);
        v.reset(compileMatcher(node), requiredServices(node), onlyServices(node));
        // The boundary: every event after this message matches the new
        // filter (the ones before it were the old filter's).
        socket.send(JSON.stringify({ type: 'subscribed', q }));
        const sent = new Set<string>();
        try {
          if (since !== undefined && limit > 0) {
            const page = await searchEvents(ctx, { q, from: since, limit, order: 'desc' });
            if (mine !== generation) return;
            const events = page.events.reverse();
            for (const e of events) sent.add(e.id);
            v.sendBackfill(events);
          }
        } finally {
          // A backfill that failed (too broad, timed out) is reported by the
          // caller; live events flow all the same instead of waiting for it.
          if (mine === generation) v.finishCatchUp(sent, 2 * ctx.config.tail.overlapMs);
        }
      };

      // Messages are handled one at a time, in order: an auth finishes before
      // the subscribe after it, a backfill before the next message's answer.
      let chain = Promise.resolve();
      socket.on('message', (data) => {
        chain = chain.then(() => handle(data.toString()));
      });
      const handle = async (text: string): Promise<void> => {
        let m: ClientMessage;
        try {
          m = JSON.parse(text) as ClientMessage;
        } catch {
          sendError(socket, new SluiceError('SLUICE_ERR_MALFORMED_JSON', 'messages are JSON objects'));
          return;
        }
        await (async () => {
          try {
            if (!viewer) {
              if (m.type !== 'auth' || typeof m.token !== 'string') throw new SluiceError('SLUICE_ERR_UNAUTHORIZED', 'send {"type":"auth","token":"…"} first');
              const p = await ctx.tokens.authenticate(m.token);
              if (!p) throw new SluiceError('SLUICE_ERR_INVALID_TOKEN');
              if (!scopeAllows(p.scope, 'read')) throw new SluiceError('SLUICE_ERR_FORBIDDEN', 'the live tail needs a token with scope read');
              clearTimeout(authTimer);
              admit(p);
              return;
            }
            switch (m.type) {
              case 'subscribe':
                await subscribe(viewer, m);
                return;
              case 'pause':
                viewer.pause();
                return;
              case 'resume':
                viewer.resume();
                return;
              case 'auth':
                return;
              default:
                throw new SluiceError('SLUICE_ERR_VALIDATION', 'message type must be subscribe, pause, resume or auth');
            }
          } catch (err) {
            sendError(socket, err);
            // A socket that failed to authenticate is done: a client retries
            // with a new one (and a scanner gets no second guess on this one).
            if (err instanceof SluiceError && (err.statusCode === 401 || err.statusCode === 403) && !viewer) socket.close(1008, 'unauthorized');
          }
        })();
      };

      socket.on('close', () => {
        clearInterval(heartbeat);
        clearTimeout(authTimer);
        if (viewer) ctx.hub.remove(viewer);
      });
    },
  );
}

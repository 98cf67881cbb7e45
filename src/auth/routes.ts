// Token administration: POST/GET/DELETE /api/v1/tokens (scope admin).
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { syslogListenersOf } from '../ingest/syslog/listeners.js';
import { clickHouseToRfc3339 } from '../model/time.js';
import { readRows } from '../query/read.js';
import { requireScope } from './plugin.js';
import { SCOPES, type Scope } from './tokens.js';

export async function tokenRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { tokens } = opts.ctx;
  app.addHook('onRequest', requireScope(tokens, 'admin'));

  const tokenInfo = {
    type: 'object',
    required: ['name', 'scope', 'created_at'],
    properties: { name: { type: 'string' }, scope: { type: 'string', enum: SCOPES }, created_at: { type: 'string' } },
  } as const;

  app.post<{ Body: { name: string; scope: Scope } }>(
    '/api/v1/tokens',
    {
      schema: {
        body: {
          type: 'object',
          required: ['name', 'scope'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
            scope: { type: 'string', enum: SCOPES },
          },
        },
        response: {
          201: {
            type: 'object',
            required: ['name', 'scope', 'token'],
            properties: { name: { type: 'string' }, scope: { type: 'string' }, token: { type: 'string' } },
          },
        },
      },
    },
    async (req, reply) => {
      const created = await tokens.create(req.body.name, req.body.scope);
      req.log.info({ token_name: created.name, scope: created.scope, by: req.principal?.name }, 'token created');
      return reply.code(201).send(created);
    },
  );

  app.get('/api/v1/tokens', { schema: { response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: tokenInfo } } } } } }, async () => ({
    tokens: await tokens.list(),
  }));

  // Sources: each token with the events it sent and when it last sent one
  // (the web app's Sources list). One scan of two columns of the events
  // table, grouped by the low-cardinality source column.
  app.get(
    '/api/v1/sources',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            properties: {
              sources: {
                type: 'array',
                items: {
                  type: 'object',
                  required: [...tokenInfo.required, 'events', 'last_event_at'],
                  properties: { ...tokenInfo.properties, events: { type: 'integer' }, last_event_at: { type: ['string', 'null'] } },
                },
              },
            },
          },
        },
      },
    },
    async () => {
      const [list, counts] = await Promise.all([
        tokens.list(),
        readRows<{ source: string; events: string; last: string }>(
          opts.ctx,
          'SELECT source, count() AS events, max(received_at) AS last FROM logs GROUP BY source',
          {},
        ),
      ]);
      const bySource = new Map(counts.map((c) => [c.source, c]));
      return {
        sources: list.map((t) => {
          const c = bySource.get(t.name);
          return { ...t, events: Number(c?.events ?? 0), last_event_at: c ? clickHouseToRfc3339(c.last) : null };
        }),
      };
    },
  );

  // What a new source needs to be pointed here: the public URL and the
  // syslog ports this process listens on (bound ports, so 0 = ephemeral is
  // answered truly; absent when that listener is off or this process has no
  // ingest role). The web app fills its setup snippets from it.
  app.get(
    '/api/v1/setup',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['public_url', 'syslog'],
            properties: {
              public_url: { type: 'string' },
              syslog: { type: 'object', properties: { tcp: { type: 'integer' }, udp: { type: 'integer' }, tls: { type: 'integer' } } },
            },
          },
        },
      },
    },
    async () => ({ public_url: opts.ctx.config.publicUrl, syslog: { ...syslogListenersOf(opts.ctx)?.ports } }),
  );

  app.delete<{ Params: { name: string } }>('/api/v1/tokens/:name', async (req, reply) => {
    await tokens.revoke(req.params.name);
    req.log.info({ token_name: req.params.name, by: req.principal?.name }, 'token revoked');
    return reply.code(204).send();
  });
}

/** Who the presented token is: the web app's sign-in check. Any read or admin token. */
export async function meRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { tokens } = opts.ctx;
  app.get(
    '/api/v1/me',
    {
      onRequest: requireScope(tokens, 'read'),
      schema: { response: { 200: { type: 'object', required: ['name', 'scope'], properties: { name: { type: 'string' }, scope: { type: 'string' } } } } },
    },
    async (req) => ({ name: req.principal!.name, scope: req.principal!.scope }),
  );
}

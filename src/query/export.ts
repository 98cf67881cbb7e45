// GET /api/v1/export (scope read): every matching event as NDJSON, streamed.
// It pages through the store by (time, id) — the embedded engine's client
// materializes whole results, so one big query would hold them all in
// memory — and writes each page before reading the next: memory stays flat
// whatever the size, and a slow reader slows the export, not the server.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth/plugin.js';
import type { AppContext } from '../context.js';
import { filterQuerySchema, type FilterQuery } from './filter.js';
import { formatRfc3339, parseDurationNs } from '../model/time.js';
import { searchEvents } from './search.js';
import { parseTimeRange } from './time-range.js';

const PAGE = 5000;

interface ExportQuery extends FilterQuery {
  order?: 'asc' | 'desc';
}

export async function exportRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  app.get<{ Querystring: ExportQuery }>(
    '/api/v1/export',
    {
      onRequest: requireScope(ctx.tokens, 'read'),
      schema: { querystring: { type: 'object', additionalProperties: false, properties: { ...filterQuerySchema, order: { type: 'string', enum: ['asc', 'desc'], default: 'asc' } } } },
    },
    async (req, reply) => {
      // Pin the range once, so events arriving during a long export do not
      // keep extending it.
      const range = parseTimeRange(req.query, BigInt(ctx.config.retentionDays) * parseDurationNs('1d')!, ctx.clock.nowNs());
      const base = { ...req.query, from: formatRfc3339(range.fromNs), to: formatRfc3339(range.toNs), limit: PAGE };
      // The first page runs before the answer starts, so a bad query still
      // gets its 4xx instead of a broken stream.
      const first = await searchEvents(ctx, base);
      async function* pages(): AsyncGenerator<string> {
        let page = first;
        for (;;) {
          if (page.events.length > 0) yield page.events.map((e) => JSON.stringify(e)).join('\n') + '\n';
          if (!page.cursor) return;
          page = await searchEvents(ctx, { ...base, cursor: page.cursor });
        }
      }
      return reply
        .type('application/x-ndjson')
        .header('content-disposition', 'attachment; filename="sluice-export.ndjson"')
        .send(Readable.from(pages(), { objectMode: false, highWaterMark: 1 }));
    },
  );
}

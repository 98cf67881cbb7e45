// GET /api/v1/search (scope read): newest first (or oldest first), filtered
// by the search language and the shorthands; paged by a (time, id) cursor.
// Every user value is a query parameter; the SQL text is static fragments.
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth/plugin.js';
import type { AppContext } from '../context.js';
import { type EventJson, eventJsonSchema } from '../model/event.js';
import { type EventRow, toEventJson } from '../store/events-read.js';
import { EVENT_SELECT } from './columns.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { buildFilter, type FilterQuery, filterQuerySchema } from './filter.js';
import { readRows } from './read.js';

interface SearchQuery extends FilterQuery {
  limit?: number;
  cursor?: string;
  order?: 'asc' | 'desc';
}

const searchSchema = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...filterQuerySchema,
      limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
      cursor: { type: 'string', maxLength: 512 },
      order: { type: 'string', enum: ['asc', 'desc'], default: 'desc' },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['events', 'cursor'],
      properties: { events: { type: 'array', items: eventJsonSchema }, cursor: { type: ['string', 'null'] } },
    },
  },
} as const;

export interface SearchResult {
  events: EventJson[];
  cursor: string | null;
}

/** One page of events matching a filter, in (time, id) order, after `cursor`. */
export async function searchEvents(ctx: AppContext, q: SearchQuery): Promise<SearchResult> {
  const limit = q.limit ?? 100;
  const desc = (q.order ?? 'desc') === 'desc';
  const f = buildFilter(q, ctx.config.retentionDays, { now: ctx.clock.nowNs() });
  const where = [...f.where];
  const params: Record<string, unknown> = { ...f.params, limit: limit + 1 };
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    // The plain time bound lets the engine prune partitions and granules.
    where.push(desc ? 'time <= {cursorTime:DateTime64(9)}' : 'time >= {cursorTime:DateTime64(9)}');
    where.push(desc ? '(time, id) < ({cursorTime:DateTime64(9)}, {cursorId:UUID})' : '(time, id) > ({cursorTime:DateTime64(9)}, {cursorId:UUID})');
    params.cursorTime = c.time;
    params.cursorId = c.id;
  }
  const sql = [
    'SELECT', EVENT_SELECT,
    'FROM logs',
    'WHERE', where.join(' AND '),
    desc ? 'ORDER BY time DESC, id DESC' : 'ORDER BY time ASC, id ASC',
    'LIMIT {limit:UInt32}',
  ].join('\n');
  const rows = await readRows<EventRow>(ctx, sql, params);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    events: page.map(toEventJson),
    cursor: rows.length > limit && last ? encodeCursor({ time: last.event_time, id: last.event_id }) : null,
  };
}

export async function searchRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  app.get<{ Querystring: SearchQuery }>('/api/v1/search', { onRequest: requireScope(ctx.tokens, 'read'), schema: searchSchema }, async (req) =>
    searchEvents(ctx, req.query),
  );
}

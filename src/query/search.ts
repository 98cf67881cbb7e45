// GET /api/v1/search (scope read): newest first, filtered by time range,
// service, minimum level and a substring; paged by a (time, id) cursor.
// Every user value is a query parameter; the SQL text is static fragments.
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth/plugin.js';
import type { AppContext } from '../context.js';
import { SluiceError } from '../errors.js';
import { eventJsonSchema } from '../model/event.js';
import { isLevel, LEVEL_SEVERITY } from '../model/levels.js';
import { formatClickHouse, parseDurationNs } from '../model/time.js';
import { EVENT_COLUMNS, type EventRow, readSettings, toEventJson } from '../store/events-read.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { parseTimeRange } from './time-range.js';

interface SearchQuery {
  from?: string;
  to?: string;
  service?: string;
  level?: string;
  contains?: string;
  limit?: number;
  cursor?: string;
}

const searchSchema = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      from: { type: 'string', maxLength: 64 },
      to: { type: 'string', maxLength: 64 },
      service: { type: 'string', maxLength: 256 },
      level: { type: 'string', maxLength: 16 },
      contains: { type: 'string', maxLength: 1024 },
      limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
      cursor: { type: 'string', maxLength: 512 },
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
  events: ReturnType<typeof toEventJson>[];
  cursor: string | null;
}

export async function searchEvents(ctx: AppContext, q: SearchQuery): Promise<SearchResult> {
  const limit = q.limit ?? 100;
  const range = parseTimeRange(q, BigInt(ctx.config.retentionDays) * parseDurationNs('1d')!);
  const where = ['time >= {from:DateTime64(9)}', 'time <= {to:DateTime64(9)}'];
  const params: Record<string, unknown> = { from: formatClickHouse(range.fromNs), to: formatClickHouse(range.toNs), limit: limit + 1 };
  if (q.service) {
    where.push('service = {service:String}');
    params.service = q.service;
  }
  if (q.level) {
    const level = q.level.toLowerCase();
    if (!isLevel(level)) throw new SluiceError('SLUICE_ERR_INVALID_LEVEL', `unknown level ${JSON.stringify(q.level)}: use trace, debug, info, warn, error or fatal`);
    where.push('severity >= {minSeverity:UInt8}');
    params.minSeverity = LEVEL_SEVERITY[level];
  }
  if (q.contains) {
    where.push('positionCaseInsensitiveUTF8(message, {contains:String}) > 0');
    params.contains = q.contains;
  }
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    // The plain `time <=` lets the engine prune partitions and granules.
    where.push('time <= {cursorTime:DateTime64(9)}', '(time, id) < ({cursorTime:DateTime64(9)}, {cursorId:UUID})');
    params.cursorTime = c.time;
    params.cursorId = c.id;
  }
  const sql = [
    'SELECT', EVENT_COLUMNS,
    'FROM logs',
    'WHERE', where.join(' AND '),
    'ORDER BY time DESC, id DESC',
    'LIMIT {limit:UInt32}',
    readSettings(ctx.config.queryTimeoutSeconds),
  ].join('\n');
  const rs = await ctx.store.query.query({ query: sql, query_params: params, format: 'JSONEachRow' });
  const rows = await rs.json<EventRow>();
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

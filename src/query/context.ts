// GET /api/v1/events/{id}/context (scope read): the events just before and
// after one event from the same service and host — `grep -C` for logs.
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth/plugin.js';
import type { AppContext } from '../context.js';
import { SluiceError } from '../errors.js';
import { eventJsonSchema } from '../model/event.js';
import { uuidv7Ms } from '../model/id.js';
import { formatClickHouse } from '../model/time.js';
import { type EventRow, toEventJson } from '../store/events-read.js';
import { EVENT_SELECT } from './columns.js';
import { readRows } from './read.js';

interface ContextQuery {
  before: number;
  after: number;
}

const schema = {
  params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } },
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      before: { type: 'integer', minimum: 0, maximum: 500, default: 10 },
      after: { type: 'integer', minimum: 0, maximum: 500, default: 10 },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['event', 'before', 'after'],
      properties: {
        event: eventJsonSchema,
        before: { type: 'array', items: eventJsonSchema },
        after: { type: 'array', items: eventJsonSchema },
      },
    },
  },
} as const;

export async function contextRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  app.get<{ Params: { id: string }; Querystring: ContextQuery }>(
    '/api/v1/events/:id/context',
    { onRequest: requireScope(ctx.tokens, 'read'), schema },
    async (req) => {
      const id = req.params.id.toLowerCase();
      // An id is a UUIDv7 of the event time: its millisecond narrows the read
      // to one partition and a few granules.
      const ms = uuidv7Ms(id);
      if (ms === undefined) throw new SluiceError('SLUICE_ERR_EVENT_NOT_FOUND', `no event has id ${JSON.stringify(req.params.id)}`);
      const ns = BigInt(ms) * 1_000_000n;
      const [row] = await readRows<EventRow>(
        ctx,
        ['SELECT', EVENT_SELECT, 'FROM logs', 'WHERE time >= {t0:DateTime64(9)} AND time < {t1:DateTime64(9)} AND id = {id:UUID}', 'LIMIT 1'].join('\n'),
        { t0: formatClickHouse(ns), t1: formatClickHouse(ns + 1_000_000n), id },
      );
      if (!row) throw new SluiceError('SLUICE_ERR_EVENT_NOT_FOUND', `no event has id ${id}`);
      const around = (dir: 'before' | 'after', n: number) =>
        n === 0
          ? Promise.resolve([])
          : readRows<EventRow>(
              ctx,
              [
                'SELECT', EVENT_SELECT, 'FROM logs',
                'WHERE service = {service:String} AND host = {host:String}',
                dir === 'before'
                  ? 'AND time <= {t:DateTime64(9)} AND (time, id) < ({t:DateTime64(9)}, {id:UUID}) ORDER BY time DESC, id DESC'
                  : 'AND time >= {t:DateTime64(9)} AND (time, id) > ({t:DateTime64(9)}, {id:UUID}) ORDER BY time ASC, id ASC',
                'LIMIT {n:UInt32}',
              ].join('\n'),
              { service: row.service, host: row.host, t: row.event_time, id: row.event_id, n },
            );
      const [before, after] = await Promise.all([around('before', req.query.before), around('after', req.query.after)]);
      return { event: toEventJson(row), before: before.reverse().map(toEventJson), after: after.map(toEventJson) };
    },
  );
}

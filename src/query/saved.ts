// Saved searches: GET/POST/PUT/DELETE /api/v1/searches (scope read). A saved
// search is a name, a query in the search language and a time range; the
// query must parse when it is saved.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth/plugin.js';
import type { AppContext } from '../context.js';
import { SluiceError } from '../errors.js';
import { nextVersion } from '../store/version.js';
import { compileQuery } from './language/compile.js';
import { parseTimeParam } from './time-range.js';

interface SavedBody {
  name: string;
  q: string;
  from?: string;
  to?: string;
}

interface SavedRow {
  search_id: string;
  name: string;
  q: string;
  range_from: string;
  range_to: string;
  owner: string;
  created_at: string;
  updated_at: string;
}

const bodySchema = {
  type: 'object',
  required: ['name', 'q'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    q: { type: 'string', maxLength: 4096 },
    from: { type: 'string', maxLength: 64 },
    to: { type: 'string', maxLength: 64 },
  },
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function toJson(r: SavedRow) {
  return { id: r.search_id, name: r.name, q: r.q, from: r.range_from || null, to: r.range_to || null, owner: r.owner, created_at: r.created_at, updated_at: r.updated_at };
}

function check(body: SavedBody): void {
  compileQuery(body.q);
  const now = 0n;
  parseTimeParam(body.from, now);
  parseTimeParam(body.to, now);
}

export async function savedSearchRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const db = ctx.store.control;
  app.addHook('onRequest', requireScope(ctx.tokens, 'read'));

  const list = async (id?: string): Promise<SavedRow[]> => {
    const rs = await db.query({
      query: `SELECT toString(id) AS search_id, name, q, range_from, range_to, owner,
                formatDateTime(created_at, '%Y-%m-%dT%H:%i:%S.%fZ') AS created_at,
                formatDateTime(updated_at, '%Y-%m-%dT%H:%i:%S.%fZ') AS updated_at
              FROM saved_searches FINAL
              WHERE deleted = 0 AND ({id:String} = '' OR id = toUUIDOrZero({id:String}))
              ORDER BY name, id`,
      query_params: { id: id ?? '' },
      format: 'JSONEachRow',
    });
    return rs.json<SavedRow>();
  };
  const one = async (id: string): Promise<SavedRow> => {
    const row = UUID.test(id) ? (await list(id))[0] : undefined;
    if (!row) throw new SluiceError('SLUICE_ERR_SEARCH_NOT_FOUND', `no saved search has id ${JSON.stringify(id)}`);
    return row;
  };
  const write = async (row: Omit<SavedRow, 'search_id' | 'created_at' | 'updated_at'> & { id: string; created_at: number }, deleted = 0) => {
    await db.insert({
      table: 'saved_searches',
      values: [{ ...row, updated_at: ctx.clock.nowMs(), deleted, version: nextVersion() }],
      format: 'JSONEachRow',
    });
  };

  app.get('/api/v1/searches', async () => ({ searches: (await list()).map(toJson) }));

  app.get<{ Params: { id: string } }>('/api/v1/searches/:id', async (req) => toJson(await one(req.params.id)));

  app.post<{ Body: SavedBody }>('/api/v1/searches', { schema: { body: bodySchema } }, async (req, reply) => {
    check(req.body);
    const id = randomUUID();
    await write({ id, name: req.body.name, q: req.body.q, range_from: req.body.from ?? '', range_to: req.body.to ?? '', owner: req.principal!.name, created_at: ctx.clock.nowMs() });
    return reply.code(201).send(toJson(await one(id)));
  });

  app.put<{ Params: { id: string }; Body: SavedBody }>('/api/v1/searches/:id', { schema: { body: bodySchema } }, async (req) => {
    const old = await one(req.params.id);
    check(req.body);
    await write({ id: old.search_id, name: req.body.name, q: req.body.q, range_from: req.body.from ?? '', range_to: req.body.to ?? '', owner: old.owner, created_at: Date.parse(old.created_at) });
    return toJson(await one(old.search_id));
  });

  app.delete<{ Params: { id: string } }>('/api/v1/searches/:id', async (req, reply) => {
    const old = await one(req.params.id);
    await write({ id: old.search_id, name: old.name, q: old.q, range_from: old.range_from, range_to: old.range_to, owner: old.owner, created_at: Date.parse(old.created_at) }, 1);
    return reply.code(204).send();
  });
}

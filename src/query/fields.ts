// GET /api/v1/fields and /api/v1/fields/{name}/values (scope read): the
// fields seen in the newest matching events, and a field's top values.
// Both read a sample — the newest SAMPLE matching events — so they stay fast
// on any range; the answer says how many events it looked at.
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth/plugin.js';
import type { AppContext } from '../context.js';
import { field, GROUP_FIELDS, groupSql, paramsInto } from './columns.js';
import { buildFilter, type FilterQuery, filterQuerySchema } from './filter.js';
import { readRows } from './read.js';

const SAMPLE = 100_000;
// The columns /fields lists (./columns.ts): every event has those whose
// empty value is a value; the others it counts where they are not empty.
const OPTIONAL = GROUP_FIELDS.filter((f) => f.emptyIsAbsent);

interface ValuesQuery extends FilterQuery {
  limit?: number;
}

function sampleSql(expr: string, where: string[]): string {
  return ['SELECT', expr, 'FROM logs WHERE', where.join(' AND '), 'ORDER BY time DESC LIMIT {sample:UInt32}'].join(' ');
}

export async function fieldsRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const read = requireScope(ctx.tokens, 'read');

  app.get<{ Querystring: FilterQuery }>(
    '/api/v1/fields',
    { onRequest: read, schema: { querystring: { type: 'object', additionalProperties: false, properties: filterQuerySchema } } },
    async (req) => {
      const f = buildFilter(req.query, ctx.config.retentionDays, { now: ctx.clock.nowNs() });
      const params = { ...f.params, sample: SAMPLE };
      const [sampled] = await readRows<Record<string, number>>(
        ctx,
        'SELECT ' + ['count() AS n', ...OPTIONAL.map((o, i) => 'countIf(' + o.name + " != '') AS c" + i)].join(', ') +
          ' FROM (' + sampleSql(OPTIONAL.length > 0 ? OPTIONAL.map((o) => o.name).join(', ') : '1', f.where) + ')',
        params,
      );
      const attrs = await readRows<{ name: string; n: number }>(
        ctx,
        'SELECT k AS name, count() AS n FROM (' + sampleSql('attributes', f.where) + ') ARRAY JOIN mapKeys(attributes) AS k GROUP BY k ORDER BY n DESC, k LIMIT 500',
        params,
      );
      const total = Number(sampled?.n ?? 0);
      return {
        sampled: total,
        fields: [
          ...GROUP_FIELDS.map((c) => ({ name: c.name, count: c.emptyIsAbsent ? Number(sampled?.['c' + OPTIONAL.indexOf(c)] ?? 0) : total })),
          ...attrs.map((a) => ({ name: a.name, count: Number(a.n) })),
        ],
      };
    },
  );

  app.get<{ Params: { name: string }; Querystring: ValuesQuery }>(
    '/api/v1/fields/:name/values',
    {
      onRequest: read,
      schema: {
        params: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 128 } } },
        querystring: { type: 'object', additionalProperties: false, properties: { ...filterQuerySchema, limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 } } },
      },
    },
    async (req) => {
      const f = buildFilter(req.query, ctx.config.retentionDays, { now: ctx.clock.nowNs() });
      const params: Record<string, unknown> = { ...f.params, sample: SAMPLE, limit: req.query.limit ?? 20 };
      const name = req.params.name;
      const expr = groupSql(name, paramsInto(params, 'field'));
      // An empty column value is a value (`host:""` finds it); an attribute
      // reads as '' when absent, and an empty trace id means none, so those
      // empty values are left out.
      const column = field(name);
      const keep = column && !column.emptyIsAbsent ? '' : "WHERE v != '' ";
      const rows = await readRows<{ value: string; n: number; sampled: number }>(
        ctx,
        'SELECT v AS value, count() AS n, any(total) AS sampled FROM (SELECT v, count() OVER () AS total FROM (' +
          sampleSql(expr + ' AS v', f.where) +
          ')) ' + keep + 'GROUP BY v ORDER BY n DESC, v LIMIT {limit:UInt32}',
        params,
      );
      return { field: req.params.name, sampled: Number(rows[0]?.sampled ?? 0), values: rows.map((r) => ({ value: r.value, count: Number(r.n) })) };
    },
  );
}

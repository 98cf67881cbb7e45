// GET /loki/api/v1/labels, /loki/api/v1/label/<name>/values and
// /loki/api/v1/detected_labels (scope read): Grafana's label and value
// pickers, and Logs Drilldown's labels. Answered from what is stored, over a
// sample of the newest events in the range (default: the last 6 hours) that
// `query` (a stream selector, optional) matches, like /api/v1/fields. Label
// names map back onto the columns the push mapped them to (./labels.ts).
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth/plugin.js';
import type { AppContext } from '../context.js';
import { readRows } from '../query/read.js';
import { LABEL_COLUMNS, lokiRange } from './labels.js';
import { logWhere } from './logql/evaluate.js';
import { type LogQuery, parseLogQuery } from './logql/parse.js';

const SAMPLE = 100_000;
const MAX_VALUES = 1000;
const DEFAULT_RANGE_NS = 6n * 3600n * 1_000_000_000n;
// Loki label names; dotted attribute names are left out.
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface RangeQuery {
  start?: string;
  end?: string;
  since?: string;
  query?: string;
}

/** The sample's FROM … LIMIT and its parameters: the newest events of the range that the query's selector matches. */
function sample(q: RangeQuery, nowNs: bigint): { sql: string; params: Record<string, unknown> } {
  const { startNs, endNs } = lokiRange(q, nowNs, DEFAULT_RANGE_NS);
  const log: LogQuery = q.query ? parseLogQuery(q.query, 'query must be a stream selector') : { kind: 'log', matchers: [], filters: [], stages: [] };
  const f = logWhere(log, startNs, endNs);
  return { sql: `FROM logs WHERE ${f.where.join(' AND ')} ORDER BY time DESC LIMIT {sample:UInt32}`, params: { ...f.params, sample: SAMPLE, max: MAX_VALUES } };
}
const rangeSchema = { type: 'object', properties: { start: { type: 'string' }, end: { type: 'string' }, since: { type: 'string' }, query: { type: 'string' } } };

export async function lokiLabelRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const read = requireScope(ctx.tokens, 'read');

  app.get<{ Querystring: RangeQuery }>('/loki/api/v1/labels', { onRequest: read, schema: { querystring: rangeSchema } }, async (req) => {
    const { sql, params } = sample(req.query, ctx.clock.nowNs());
    // Only fixed fragments are joined; every value is a parameter. A column's
    // label only when some sampled event has a value for it, as Loki lists
    // only labels it has seen: Grafana's picker offers every name listed.
    const rows = await readRows<{ name: string }>(
      ctx,
      'SELECT DISTINCT k AS name FROM (SELECT service, host, level, attributes ' + sql + ')' +
        " ARRAY JOIN arrayConcat(if(service != '', ['service_name'], []), if(host != '', ['host'], []), if(level != '', ['level'], []), mapKeys(attributes)) AS k" +
        ' ORDER BY name LIMIT {max:UInt32}',
      params,
    );
    return { status: 'success', data: rows.map((r) => r.name).filter((n) => LABEL_NAME.test(n)) };
  });

  // Logs Drilldown: each label with its number of values in the sample, no envelope.
  app.get<{ Querystring: RangeQuery }>('/loki/api/v1/detected_labels', { onRequest: read, schema: { querystring: rangeSchema } }, async (req) => {
    const { sql, params } = sample(req.query, ctx.clock.nowNs());
    const rows = await readRows<{ label: string; cardinality: string | number }>(
      ctx,
      'SELECT label, uniqExact(v) AS cardinality FROM (SELECT service, host, level, attributes ' + sql + ')' +
        " ARRAY JOIN arrayConcat(['service_name', 'host', 'level'], mapKeys(attributes)) AS label, arrayConcat([service, host, level], mapValues(attributes)) AS v" +
        " WHERE v != '' GROUP BY label ORDER BY label LIMIT {max:UInt32}",
      params,
    );
    return { detectedLabels: rows.filter((r) => LABEL_NAME.test(r.label)).map((r) => ({ label: r.label, cardinality: Number(r.cardinality) })) };
  });

  app.get<{ Params: { name: string }; Querystring: RangeQuery }>(
    '/loki/api/v1/label/:name/values',
    { onRequest: read, schema: { params: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 128 } } }, querystring: rangeSchema } },
    async (req) => {
      const { sql, params } = sample(req.query, ctx.clock.nowNs());
      // `expr` is a column from the allow-list or the fixed attribute lookup
      // with the name as a parameter.
      let expr = LABEL_COLUMNS.get(req.params.name);
      if (expr === undefined) {
        expr = 'attributes[{field:String}]';
        params.field = req.params.name;
      }
      const rows = await readRows<{ value: string }>(
        ctx,
        'SELECT DISTINCT v AS value FROM (SELECT ' + expr + ' AS v ' + sql + ") WHERE v != '' ORDER BY value LIMIT {max:UInt32}",
        params,
      );
      return { status: 'success', data: rows.map((r) => r.value) };
    },
  );
}

// GET /loki/api/v1/labels and /loki/api/v1/label/<name>/values (scope read):
// enough of Loki's read API for clients and Grafana's data-source check to
// see a live endpoint. Answered from what is stored, over a sample of the
// newest events in the range (default: the last 6 hours), like
// /api/v1/fields. Label names map back onto the columns the push mapped
// them to.
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../../auth/plugin.js';
import type { AppContext } from '../../context.js';
import { SluiceError } from '../../errors.js';
import { formatClickHouse, parseDurationNs, parseIsoNs } from '../../model/time.js';
import { readRows } from '../../query/read.js';

const SAMPLE = 100_000;
const MAX_VALUES = 1000;
const DEFAULT_RANGE_NS = 6n * 3600n * 1_000_000_000n;
// Loki label names; dotted attribute names are left out.
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const LABEL_COLUMNS: ReadonlyMap<string, string> = new Map([
  ['service_name', 'service'], ['service', 'service'], ['app', 'service'], ['job', 'service'],
  ['level', 'level'], ['detected_level', 'level'], ['severity', 'level'],
  ['host', 'host'], ['hostname', 'host'], ['instance', 'host'],
]);

interface RangeQuery {
  start?: string;
  end?: string;
  since?: string;
}

// Loki takes ns epoch, float seconds or RFC 3339.
export function timeParam(v: string | undefined, name: string): bigint | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^\d{19}$/.test(v)) return BigInt(v);
  const seconds = /^\d+(\.\d+)?$/.test(v) ? Number(v) : undefined;
  const t = seconds !== undefined ? (seconds < 1e10 ? BigInt(Math.round(seconds * 1e9)) : undefined) : parseIsoNs(v);
  if (t === undefined) throw new SluiceError('SLUICE_ERR_INVALID_TIME_RANGE', `${name} must be Unix nanoseconds, seconds or RFC 3339`);
  return t;
}

function range(q: RangeQuery, nowNs: bigint): { from: string; to: string } {
  const end = timeParam(q.end, 'end') ?? nowNs;
  const since = q.since ? parseDurationNs(q.since) : undefined;
  const start = timeParam(q.start, 'start') ?? end - (since ?? DEFAULT_RANGE_NS);
  return { from: formatClickHouse(start), to: formatClickHouse(end) };
}

const SAMPLE_WHERE = 'FROM logs WHERE time >= {from:DateTime64(9)} AND time < {to:DateTime64(9)} ORDER BY time DESC LIMIT {sample:UInt32}';
const rangeSchema = { type: 'object', properties: { start: { type: 'string' }, end: { type: 'string' }, since: { type: 'string' }, query: { type: 'string' } } };

export async function lokiLabelRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const read = requireScope(ctx.tokens, 'read');

  app.get<{ Querystring: RangeQuery }>('/loki/api/v1/labels', { onRequest: read, schema: { querystring: rangeSchema } }, async (req) => {
    const params = { ...range(req.query, ctx.clock.nowNs()), sample: SAMPLE, max: MAX_VALUES };
    // Only fixed fragments are joined; every value is a parameter.
    const rows = await readRows<{ name: string }>(
      ctx,
      'SELECT DISTINCT k AS name FROM (SELECT attributes ' + SAMPLE_WHERE + ') ARRAY JOIN mapKeys(attributes) AS k ORDER BY name LIMIT {max:UInt32}',
      params,
    );
    const names = new Set(['host', 'level', 'service_name']);
    for (const r of rows) if (LABEL_NAME.test(r.name)) names.add(r.name);
    return { status: 'success', data: [...names].sort() };
  });

  app.get<{ Params: { name: string }; Querystring: RangeQuery }>(
    '/loki/api/v1/label/:name/values',
    { onRequest: read, schema: { params: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 128 } } }, querystring: rangeSchema } },
    async (req) => {
      const params: Record<string, unknown> = { ...range(req.query, ctx.clock.nowNs()), sample: SAMPLE, max: MAX_VALUES };
      // `expr` is a column from the allow-list or the fixed attribute lookup
      // with the name as a parameter.
      let expr = LABEL_COLUMNS.get(req.params.name);
      if (expr === undefined) {
        expr = 'attributes[{field:String}]';
        params.field = req.params.name;
      }
      const rows = await readRows<{ value: string }>(
        ctx,
        'SELECT DISTINCT v AS value FROM (SELECT ' + expr + ' AS v ' + SAMPLE_WHERE + ") WHERE v != '' ORDER BY value LIMIT {max:UInt32}",
        params,
      );
      return { status: 'success', data: rows.map((r) => r.value) };
    },
  );
}

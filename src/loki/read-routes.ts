// Loki's query API for Grafana's Loki data source (scope read; Bearer, or
// Basic with the token as password, as Grafana's data source settings send
// it; X-Scope-OrgID is accepted and ignored: one Sluice is one tenant):
//   GET /loki/api/v1/query_range   log queries (streams), metric queries (matrix)
//   GET /loki/api/v1/query         instant metric queries (vector, scalar)
//   GET /loki/api/v1/series          stream label sets (match[] selectors)
//   GET /loki/api/v1/index/stats     streams, entries, bytes (Grafana's query-size hint)
//   GET /loki/api/v1/index/volume    bytes per series or per label (Logs Drilldown)
//   GET /loki/api/v1/index/volume_range  the same per step, a matrix (./drilldown-routes.ts)
//   GET /loki/api/v1/detected_fields     fields of a sample of lines, and detected_field/{name}/values (./drilldown-routes.ts)
//   GET /loki/api/v1/patterns        message patterns (src/patterns/), `<_>` for variables
//   GET /loki/api/v1/tail            live tail over WebSocket (./tail.ts)
//   GET /loki/api/v1/format_query    the query printed back in one spelling
//   GET /loki/api/v1/status/buildinfo
// Times are Unix nanoseconds, seconds or RFC 3339, as Loki takes them.
// Errors are Loki's shape (status: error, errorType, error) with Sluice's
// code beside it. LogQL: ./logql/parse.ts; the subset: docs/grafana.md.
import type { FastifyError, FastifyInstance } from 'fastify';
import { requireScope } from '../auth/plugin.js';
import type { AppContext } from '../context.js';
import { SluiceError } from '../errors.js';
import { lokiRange, timeParam } from './labels.js';
import { parseDurationNs } from '../model/time.js';
import { clampRange, minePatterns } from '../patterns/routes.js';
import { lokiTailRoutes } from './tail.js';
import { lokiDrilldownRoutes } from './drilldown-routes.js';
import { evaluateMetric, logLines, logWhere, MAX_STEPS, type MetricValue, seriesOf, statsOf, type Steps, volumeOf } from './logql/evaluate.js';
import { formatLogQL } from './logql/format.js';
import { logqlError, parseLogQL, parseLogQuery } from './logql/parse.js';

const NS = 1_000_000_000n;
const DEFAULT_SPAN_NS = 3600n * NS;
const MAX_LIMIT = 5000;

interface RangeQuery {
  query?: string;
  start?: string;
  end?: string;
  since?: string;
  limit?: number;
  direction?: 'forward' | 'backward';
  step?: string;
}

interface InstantQuery {
  query?: string;
  time?: string;
  limit?: number;
  direction?: 'forward' | 'backward';
}

const common = {
  query: { type: 'string', maxLength: 8192 },
  limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 100 },
  direction: { type: 'string', enum: ['forward', 'backward'], default: 'backward' },
} as const;
// Grafana sends more than these (interval, and what a version adds): extra
// parameters are ignored, as Loki does.
const rangeSchema = { querystring: { type: 'object', properties: { ...common, start: { type: 'string' }, end: { type: 'string' }, since: { type: 'string' }, step: { type: 'string' } } } } as const;
const instantSchema = { querystring: { type: 'object', properties: { ...common, time: { type: 'string' } } } } as const;

const MAX_SERIES = 5000;
const str = { type: 'string', maxLength: 8192 } as const;
const timeProps = { start: str, end: str, since: str } as const;
// Each parameter once: a repeated one is a 400, not an array that crashes.
const seriesSchema = { querystring: { type: 'object', properties: { ...timeProps, 'match[]': { anyOf: [str, { type: 'array', items: str, maxItems: 50 }] }, match: { anyOf: [str, { type: 'array', items: str, maxItems: 50 }] } } } } as const;
const statsSchema = { querystring: { type: 'object', properties: { ...timeProps, query: str } } } as const;
const volumeSchema = { querystring: { type: 'object', properties: { ...timeProps, query: str, limit: str, targetLabels: str, aggregateBy: str } } } as const;
const patternsSchema = { querystring: { type: 'object', properties: { ...timeProps, query: str, step: str } } } as const;
const formatSchema = { querystring: { type: 'object', properties: { query: str } } } as const;

/** [start, end): Loki's times, by default the hour (or `since`) before now. */
function window(q: { start?: string; end?: string; since?: string }, nowNs: bigint): { startNs: bigint; endNs: bigint } {
  const r = lokiRange(q, nowNs, DEFAULT_SPAN_NS);
  if (r.startNs > r.endNs) throw new SluiceError('SLUICE_ERR_INVALID_TIME_RANGE', 'start is after end');
  return r;
}

/** Loki's step: a duration (`15s`, `2000ms`) or float seconds; by default the range over 250, at least 1 s. */
function stepNs(step: string | undefined, spanNs: bigint): bigint {
  if (step === undefined || step === '') {
    const s = spanNs / 250n / NS;
    return (s < 1n ? 1n : s) * NS;
  }
  const seconds = /^\d{1,12}(\.\d+)?$/.test(step) ? Number(step) : undefined;
  const ms = /^(\d{1,15})ms$/.exec(step);
  const ns = seconds !== undefined ? BigInt(Math.round(seconds * 1e9)) : ms ? BigInt(ms[1]!) * 1_000_000n : parseDurationNs(step);
  if (ns === undefined || ns < 1_000_000n) throw logqlError(`step must be a duration or seconds of at least 1ms: ${JSON.stringify(step)}`);
  return ns;
}

function query(q: { query?: string }): string {
  if (!q.query) throw logqlError('query is required');
  return q.query;
}

/** Loki's number formatting: shortest decimal, no exponent for ordinary values. */
const num = (v: number): string => (Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN');
const seconds = (ns: bigint): number => Number(ns) / 1e9;

function matrix(v: MetricValue, steps: Steps): unknown {
  const at = (i: number): number => seconds(steps.startNs + BigInt(i) * steps.stepNs);
  const series = v.type === 'scalar' ? [{ labels: {}, values: v.values as Array<number | undefined> }] : v.series;
  return {
    resultType: 'matrix',
    result: series
      .map((s) => ({ metric: s.labels, values: s.values.flatMap((x, i) => (x === undefined ? [] : [[at(i), num(x)]])) }))
      .filter((s) => s.values.length > 0),
  };
}

function instant(v: MetricValue, t: bigint): unknown {
  if (v.type === 'scalar') return { resultType: 'scalar', result: [seconds(t), num(v.values[0]!)] };
  return { resultType: 'vector', result: v.series.filter((s) => s.values[0] !== undefined).map((s) => ({ metric: s.labels, value: [seconds(t), num(s.values[0]!)] })) };
}

const ERROR_TYPES: Readonly<Record<number, string>> = { 400: 'bad_data', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 503: 'unavailable', 504: 'timeout' };

export async function lokiReadRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const read = requireScope(ctx.tokens, 'read');

  // Loki's error body, here only (this plugin's scope), with Sluice's code.
  app.setErrorHandler((error: FastifyError, req, reply) => {
    const e = error instanceof SluiceError ? error : error.validation ? new SluiceError('SLUICE_ERR_LOGQL', error.message) : undefined;
    const status = e?.statusCode ?? 500;
    if (!e) req.log.error({ err: error }, 'loki query failed');
    return reply.code(status).send({ status: 'error', errorType: ERROR_TYPES[status] ?? 'internal', error: e?.message ?? 'internal error', code: e?.code ?? 'SLUICE_ERR_INTERNAL' });
  });

  app.get<{ Querystring: RangeQuery }>('/loki/api/v1/query_range', { onRequest: read, schema: rangeSchema }, async (req) => {
    const q = req.query;
    const parsed = parseLogQL(query(q));
    const { startNs, endNs } = window(q, ctx.clock.nowNs());
    if (parsed.kind === 'log') {
      // Grafana asks for categorized labels: stream labels apart from each line's metadata and parsed labels.
      const categorize = String(req.headers['x-loki-response-encoding-flags'] ?? '').split(',').some((f) => f.trim() === 'categorize-labels');
      const result = await logLines(ctx, parsed, { startNs, endNs, limit: q.limit ?? 100, direction: q.direction ?? 'backward', categorize });
      return { status: 'success', data: { resultType: 'streams', result, stats: {}, ...(categorize ? { encodingFlags: ['categorize-labels'] } : {}) } };
    }
    const step = stepNs(q.step, endNs - startNs);
    // Grafana sends its time picker's instants (now − 24 h to the
    // millisecond); on a multiple of the step, as Loki's
    // align_queries_with_step makes them, the windows start on whole
    // minutes and the per-minute rollup can answer (./logql/rollup.ts).
    const align = (ns: bigint): bigint => (ctx.config.lokiAlignStep ? (ns / step) * step : ns);
    const n = Number((align(endNs) - align(startNs)) / step) + 1;
    if (n > MAX_STEPS) throw logqlError(`exceeded maximum resolution of ${MAX_STEPS} points per timeseries; try a larger step`);
    const steps = { startNs: align(startNs), stepNs: step, n };
    return { status: 'success', data: { ...(matrix(await evaluateMetric(ctx, parsed, steps), steps) as object), stats: {} } };
  });

  app.get<{ Querystring: InstantQuery }>('/loki/api/v1/query', { onRequest: read, schema: instantSchema }, async (req) => {
    const parsed = parseLogQL(query(req.query));
    if (parsed.kind === 'log') throw logqlError('log queries are not supported as an instant query; use query_range');
    const t = timeParam(req.query.time, 'time') ?? ctx.clock.nowNs();
    const v = await evaluateMetric(ctx, parsed, { startNs: t, stepNs: NS, n: 1 });
    return { status: 'success', data: { ...(instant(v, t) as object), stats: {} } };
  });

  app.get<{ Querystring: { 'match[]'?: string | string[]; match?: string | string[]; start?: string; end?: string; since?: string } }>(
    '/loki/api/v1/series',
    { onRequest: read, schema: seriesSchema },
    async (req) => {
      const m = req.query['match[]'] ?? req.query.match;
      const selectors = (Array.isArray(m) ? m : m === undefined ? [] : [m]).map((m) => parseLogQuery(m));
      if (selectors.length === 0) throw logqlError('match[] is required: a stream selector, as {service_name="api"}');
      return { status: 'success', data: await seriesOf(ctx, selectors, { ...window(req.query, ctx.clock.nowNs()), max: MAX_SERIES }) };
    },
  );

  // Loki answers index/stats without the status/data envelope.
  app.get<{ Querystring: { query?: string; start?: string; end?: string; since?: string } }>('/loki/api/v1/index/stats', { onRequest: read, schema: statsSchema }, async (req) =>
    statsOf(ctx, parseLogQuery(query(req.query)), window(req.query, ctx.clock.nowNs())),
  );

  app.get<{ Querystring: { query?: string; start?: string; end?: string; since?: string; limit?: string; targetLabels?: string; aggregateBy?: string } }>(
    '/loki/api/v1/index/volume',
    { onRequest: read, schema: volumeSchema },
    async (req) => {
      const q = req.query;
      const log = parseLogQuery(query(q));
      const { startNs, endNs } = window(q, ctx.clock.nowNs());
      const limit = q.limit === undefined ? 100 : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SERIES) throw logqlError(`limit must be 1 to ${MAX_SERIES}`);
      if (q.aggregateBy !== undefined && q.aggregateBy !== 'series' && q.aggregateBy !== 'labels') throw logqlError('aggregateBy must be series or labels');
      const labels = (q.targetLabels ?? '').split(',').map((l) => l.trim()).filter(Boolean);
      const volumes = await volumeOf(ctx, log, { startNs, endNs, labels, byLabel: q.aggregateBy === 'labels', limit });
      return { status: 'success', data: { resultType: 'vector', result: volumes.map((v) => ({ metric: v.metric, value: [Number(endNs / NS), String(v.bytes)] })) } };
    },
  );

  // Logs Drilldown's patterns tab: Sluice's own patterns (the miner of
  // GET /api/v1/patterns), in Loki's shape: `<_>` for a variable, one level
  // (the pattern's commonest), [seconds, count] per step that has events.
  app.get<{ Querystring: { query?: string; start?: string; end?: string; since?: string; step?: string } }>('/loki/api/v1/patterns', { onRequest: read, schema: patternsSchema }, async (req) => {
    const log = parseLogQuery(query(req.query));
    const { fromNs: startNs, toNs: endNs } = clampRange(ctx, (({ startNs: fromNs, endNs: toNs }) => ({ fromNs, toNs }))(window(req.query, ctx.clock.nowNs())));
    // The store counts per whole second.
    const step = ((stepNs(req.query.step, endNs - startNs) + NS - 1n) / NS) * NS;
    if ((endNs - startNs) / step > BigInt(MAX_STEPS)) throw logqlError(`step too small: more than ${MAX_STEPS} points`);
    const mined = await minePatterns(ctx, logWhere(log, startNs, endNs), { fromNs: startNs, toNs: endNs, stepNs: step, limit: 1000 }, req.log);
    const first = Date.parse(mined.from) / 1000; // whole seconds: the steps are
    return {
      status: 'success',
      data: mined.patterns.map((p) => ({
        pattern: p.template.replaceAll('<*>', '<_>'),
        level: Object.entries(p.levels).sort((a, b) => b[1] - a[1])[0]?.[0] ?? '',
        samples: p.counts.flatMap((c, i) => (c > 0 ? [[first + i * mined.step_seconds, c]] : [])),
      })),
    };
  });

  // In this plugin, so a refused tail gets Loki's error shape too.
  await lokiTailRoutes(app, { ctx });
  await lokiDrilldownRoutes(app, { ctx });

  app.get<{ Querystring: { query?: string } }>('/loki/api/v1/format_query', { onRequest: read, schema: formatSchema }, async (req) => ({
    status: 'success',
    data: formatLogQL(parseLogQL(query(req.query))),
  }));

  app.get('/loki/api/v1/status/buildinfo', { onRequest: read }, async () => ({
    // Grafana reads features from the version; Sluice answers the Loki 3 API.
    version: '3.0.0', revision: 'sluice', branch: 'sluice', buildUser: 'sluice', buildDate: '', goVersion: '',
  }));
}

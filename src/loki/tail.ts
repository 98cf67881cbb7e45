// GET /loki/api/v1/tail (scope read): Loki's live tail over WebSocket, as
// Grafana's Loki data source opens it (`query`, and Loki's defaults for the
// rest: `limit` 100, `start` an hour ago; `delay_for` is accepted and not
// needed: Sluice announces events once stored). The same hub as Sluice's own
// tail (src/tail); messages in Loki's shape:
//   {"streams":[{"stream":{…},"values":[["<ns>","<line>"],…]}],"dropped_entries":[]}
// A viewer too slow for the stream loses events as Sluice's tail does; the
// count goes in `dropped` (Loki's dropped_entries would name each line,
// which Sluice does not keep).
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth/plugin.js';
import type { AppContext } from '../context.js';
import { SluiceError } from '../errors.js';
import type { EventJson } from '../model/event.js';
import { parseDurationNs, parseIsoNs } from '../model/time.js';
import { readCompactRows } from '../query/read.js';
import { Viewer } from '../tail/hub.js';
import { timeParam } from './labels.js';
import { logWhere, streamLabels } from './logql/evaluate.js';
import { logMatcher, servicesOf } from './logql/match.js';
import { type LogQuery, logqlError, parseLogQL } from './logql/parse.js';

const MAX_SOCKET_BYTES = 4 * 1024 * 1024;
const MAX_LIMIT = 5000;

interface TailQuery {
  query?: string;
  start?: string;
  limit?: string;
  delay_for?: string;
}

function streamsOf(log: LogQuery, lines: ReadonlyArray<{ ns: string; service: string; host: string; level: string; message: string }>): unknown[] {
  const streams = new Map<string, { stream: Record<string, string>; values: Array<[string, string]> }>();
  for (const l of lines) {
    const [labels, key] = streamLabels(log, l.service, l.host, l.level);
    let s = streams.get(key);
    if (!s) streams.set(key, (s = { stream: labels, values: [] }));
    s.values.push([l.ns, l.message]);
  }
  return [...streams.values()];
}

const toLine = (e: EventJson): { ns: string; service: string; host: string; level: string; message: string } => ({
  ns: String(parseIsoNs(e.time) ?? 0n), service: e.service, host: e.host, level: e.level, message: e.message,
});

interface Prepared {
  log: LogQuery;
  matcher: (e: EventJson) => boolean;
  limit: number;
  nowNs: bigint;
  startNs: bigint;
}

// What the checks before the upgrade worked out, for the socket's handler.
const prepared = new WeakMap<object, Prepared>();

export async function lokiTailRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const read = requireScope(ctx.tokens, 'read');

  app.get<{ Querystring: TailQuery }>(
    '/loki/api/v1/tail',
    {
      websocket: true,
      // The query is checked before the upgrade: a bad one is a 400, not a socket.
      schema: { querystring: { type: 'object', properties: { query: { type: 'string', maxLength: 8192 }, start: { type: 'string' }, limit: { type: 'string' }, delay_for: { type: 'string' } } } },
      // Everything is checked before the upgrade: a bad query, regex or time
      // is a 400, not a socket that dies.
      onRequest: [read, async (req) => {
        const q = req.query.query;
        if (typeof q !== 'string' || q === '') throw logqlError('query is required');
        const log = parseLogQL(q);
        if (log.kind !== 'log') throw logqlError('the live tail takes a log query, as {service_name="api"} |= "error"');
        const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
        if (!Number.isInteger(limit) || limit < 0 || limit > MAX_LIMIT) throw logqlError(`limit must be 0 to ${MAX_LIMIT}`);
        if (req.query.delay_for !== undefined && !/^\d+$/.test(req.query.delay_for)) throw logqlError('delay_for must be whole seconds');
        const nowNs = ctx.clock.nowNs();
        const startNs = timeParam(typeof req.query.start === 'string' ? req.query.start : undefined, 'start') ?? nowNs - parseDurationNs('1h')!;
        const p = req.principal!;
        if (ctx.hub.countFor(p.name) >= ctx.config.tail.maxPerToken) {
          throw new SluiceError('SLUICE_ERR_TAIL_LIMIT', `token ${p.name} already holds ${ctx.config.tail.maxPerToken} live tails (SLUICE_TAIL_MAX_PER_TOKEN)`);
        }
        prepared.set(req, { log, matcher: logMatcher(log), limit, nowNs, startNs });
      }],
    },
    (socket, req) => {
      const { log, matcher, limit, nowNs, startNs } = prepared.get(req)!;
      prepared.delete(req);
      const outlet = {
        get bufferedAmount() {
          return socket.bufferedAmount;
        },
        // The hub speaks Sluice's tail messages; each becomes Loki's.
        send(data: string | Buffer) {
          const m = JSON.parse(data.toString()) as { type: string; events?: EventJson[]; count?: number };
          if (m.type === 'events') socket.send(JSON.stringify({ streams: streamsOf(log, m.events!.map(toLine)), dropped_entries: [] }));
          else if (m.type === 'dropped') socket.send(JSON.stringify({ streams: [], dropped_entries: [], dropped: m.count }));
        },
      };
      const viewer = new Viewer(req.principal!.name, outlet, { bufferEvents: ctx.config.tail.bufferEvents, maxSocketBytes: MAX_SOCKET_BYTES, clock: ctx.clock });
      ctx.hub.add(viewer);
      socket.on('close', () => ctx.hub.remove(viewer));
      // Live events queue from here; the backfill's ids are skipped when
      // they come again (the store poller's overlap).
      viewer.reset(matcher, servicesOf(log));
      void (async () => {
        const sent = new Set<string>();
        try {
          if (limit > 0) {
            const f = logWhere(log, startNs, nowNs + 1n);
            const rows = await readCompactRows<[id: string, ns: string, service: string, host: string, level: string, message: string]>(
              ctx,
              `SELECT toString(id), toString(toUnixTimestamp64Nano(time)), service, host, level, message FROM logs WHERE ${f.where.join(' AND ')} ORDER BY time DESC, id DESC LIMIT {tailLimit:UInt32}`,
              { ...f.params, tailLimit: limit },
            );
            rows.reverse();
            for (const r of rows) sent.add(r[0]);
            if (rows.length > 0) {
              socket.send(JSON.stringify({ streams: streamsOf(log, rows.map(([, ns, service, host, level, message]) => ({ ns, service, host, level, message }))), dropped_entries: [] }));
            }
          }
        } catch (err) {
          req.log.warn({ err }, 'loki tail: backfill failed; live lines flow all the same');
        } finally {
          viewer.finishCatchUp(sent, 2 * ctx.config.tail.overlapMs);
        }
      })();
    },
  );
}

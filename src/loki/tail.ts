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
import { type TailFormat, Viewer } from '../tail/hub.js';
import { timeParam } from './labels.js';
import { groupStreams, type Line, processor, readLines, type Result } from './logql/evaluate.js';
import { needsPipeline } from './logql/pipeline.js';
import { logMatcher, servicesOf } from './logql/match.js';
import { type LogQuery, logqlError, parseLogQuery } from './logql/parse.js';

const MAX_SOCKET_BYTES = 4 * 1024 * 1024;
const MAX_LIMIT = 5000;

interface TailQuery {
  query?: string;
  start?: string;
  limit?: string;
  delay_for?: string;
}

const toLine = (e: EventJson): Line => ({ id: e.id, ns: String(parseIsoNs(e.time) ?? 0n), service: e.service, host: e.host, level: e.level, message: e.message, attributes: e.attributes });

/** Loki's tail messages, for the hub's viewer. */
function lokiFormat(log: LogQuery): TailFormat {
  const process = processor(log);
  return {
    events: (events) => JSON.stringify({ streams: groupStreams(events.map((e) => process(toLine(e))).filter((r): r is Result => r !== undefined)), dropped_entries: [] }),
    dropped: (count) => JSON.stringify({ streams: [], dropped_entries: [], dropped: count }),
  };
}

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
        const log = parseLogQuery(q, 'the live tail takes a log query');
        const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
        if (!Number.isInteger(limit) || limit < 0 || limit > MAX_LIMIT) throw logqlError(`limit must be 0 to ${MAX_LIMIT}`);
        if (req.query.delay_for !== undefined && !/^\d+$/.test(req.query.delay_for)) throw logqlError('delay_for must be whole seconds');
        const nowNs = ctx.clock.nowNs();
        const startNs = timeParam(typeof req.query.start === 'string' ? req.query.start : undefined, 'start') ?? nowNs - parseDurationNs('1h')!;
        const p = req.principal!;
        if (ctx.hub.countFor(p.name) >= ctx.config.tail.maxPerToken) {
          throw new SluiceError('SLUICE_ERR_TAIL_LIMIT', `token ${p.name} already holds ${ctx.config.tail.maxPerToken} live tails (SLUICE_TAIL_MAX_PER_TOKEN)`);
        }
        // A pipeline's label filters drop lines too: the hub offers the viewer
        // only lines that come through it.
        const selected = logMatcher(log);
        const process = processor(log);
        const matcher = needsPipeline(log) ? (e: EventJson) => selected(e) && process(toLine(e)) !== undefined : selected;
        prepared.set(req, { log, matcher, limit, nowNs, startNs });
      }],
    },
    (socket, req) => {
      const { log, matcher, limit, nowNs, startNs } = prepared.get(req)!;
      prepared.delete(req);
      const outlet = { get bufferedAmount() { return socket.bufferedAmount; }, send: (d: string | Buffer) => socket.send(d), close: (reason: string) => socket.close(1011, reason.slice(0, 120)) };
      const viewer = new Viewer(req.principal!.name, outlet, { bufferEvents: ctx.config.tail.bufferEvents, maxSocketBytes: MAX_SOCKET_BYTES, clock: ctx.clock, format: lokiFormat(log) });
      ctx.hub.add(viewer);
      socket.on('close', () => ctx.hub.remove(viewer));
      // Live events queue from here; the backfill's ids are skipped when
      // they come again (the store poller's overlap).
      viewer.reset(matcher, servicesOf(log));
      void (async () => {
        const sent = new Set<string>();
        try {
          if (limit > 0) {
            const lines = (await readLines(ctx, log, { startNs, endNs: nowNs + 1n, limit, direction: 'backward' })).reverse();
            for (const l of lines) sent.add(l.id!);
            if (lines.length > 0) socket.send(JSON.stringify({ streams: groupStreams(lines), dropped_entries: [] }));
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

// Builds the fastify app from plugins. It never listens: src/server.ts does,
// and tests build the app and drive it from outside.
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { hasRole, isEmbedded, type Config } from './config.js';
import { logDestination } from './log.js';
import type { AppContext } from './context.js';
import { systemClock, type Clock } from './model/clock.js';
import { AlertEngine } from './alerts/engine.js';
import { alertRoutes } from './alerts/routes.js';
import { meRoutes, tokenRoutes } from './auth/routes.js';
import { TokenRegistry } from './auth/tokens.js';
import { SluiceError, errorBody } from './errors.js';
import { prepareError } from './http-errors.js';
import { Turns } from './ingest/turns.js';
import { Batcher } from './ingest/batcher.js';
import type { DrainDeps } from './ingest/drain.js';
import { IngestPipeline } from './ingest/pipeline.js';
import { RateLimiter } from './ingest/rate-limit.js';
import { ingestRoutes } from './ingest/routes.js';
import { elasticsearchRoutes } from './ingest/elasticsearch/routes.js';
import { lokiLabelRoutes } from './loki/label-routes.js';
import { lokiPushRoutes } from './ingest/loki/routes.js';
import { otlpRoutes } from './ingest/otlp/routes.js';
import { logplexRoutes } from './ingest/logplex.js';
import { SyslogListeners } from './ingest/syslog/listeners.js';
import { DiskMonitor } from './ops/disk.js';
import { createMetrics } from './ops/metrics.js';
import { opsRoutes } from './ops/routes.js';
import { contextRoutes } from './query/context.js';
import { exportRoutes } from './query/export.js';
import { fieldsRoutes } from './query/fields.js';
import { savedSearchRoutes } from './query/saved.js';
import { searchRoutes } from './query/search.js';
import { trendsRoutes } from './query/trends.js';
import { knowPatternsOf } from './patterns/registry.js';
import { lokiReadRoutes } from './loki/read-routes.js';
import { patternRoutes } from './patterns/routes.js';
import { Hub, jsonBatch, localBatch } from './tail/hub.js';
import { rowsToJson } from './store/rows.js';
import { StorePoller } from './tail/poller.js';
import { Rollup } from './store/rollup.js';
import { tailRoutes } from './tail/route.js';
import websocket from '@fastify/websocket';
import { loadWebPage, webRoutes } from './web.js';
import { schemaProblem, schemaStatus } from './store/migrate.js';
import type { Store } from './store/store.js';

export interface AppOptions {
  readonly config: Config;
  readonly store: Store;
  readonly logger?: FastifyServerOptions['logger'];
  readonly writerId?: string;
  /** The clock everything in the app reads; the system clock unless a test moves its own. */
  readonly clock?: Clock;
}

export interface SluiceApp {
  readonly app: FastifyInstance;
  readonly ctx: AppContext;
}

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  // JSON lines on stdout; pretty only when a person is watching a terminal.
  if (process.stdout.isTTY) return { level: config.logLevel, transport: { target: 'pino-pretty', options: { destination: 1 } } };
  return { level: config.logLevel, stream: logDestination() };
}

export async function buildApp(opts: AppOptions): Promise<SluiceApp> {
  const { config, store } = opts;
  const clock = opts.clock ?? systemClock;
  const app = Fastify({
    logger: opts.logger ?? loggerOptions(config),
    return503OnClosing: false,
    // A log drain takes hundreds of requests a second; a log line for each
    // would be most of its own output. Errors are logged by the handler.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: 'idle',
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, useDefaults: true } },
  });

  const metrics = createMetrics();
  const status = await schemaStatus(store);
  const problem = schemaProblem(status, config.retentionDays);
  // Requests take turns to decode (src/ingest/turns.ts); the batcher waits
  // for those received before an insert could start.
  const turns = new Turns();
  const batcher = new Batcher(
    { insert: (body, token) => store.insertEvents(body, token) },
    config.batch,
    {
      onInsert: (rows, _bytes, seconds, ok) => {
        metrics.insertSeconds.observe({ ok: String(ok) }, seconds);
        if (ok) metrics.insertRows.observe(rows);
      },
      onBytes: (bytes) => metrics.batcherBytes.set(bytes),
    },
    clock,
    turns,
  );
  const disk = new DiskMonitor(isEmbedded(config) ? config.dataDir : undefined, config.minFreeDiskBytes);
  await disk.start();

  const rateLimiter = new RateLimiter(config.tokenRateLimit);
  const rollup = new Rollup(store, app.log, undefined, clock);
  const writerId = opts.writerId ?? randomUUID();
  const pipeline = new IngestPipeline({ config, clock, batcher, rateLimiter, disk, watermark: rollup, writerId });
  const hub = new Hub();
  // What was stored is announced; the pipeline knows none of its listeners.
  pipeline.onStored(
    ({ count, events, rows, source }) => {
      metrics.accepted.inc({ source }, count);
      if (hub.size === 0) return;
      // A viewer that arrived while these events were on their way to the
      // store reads them back from their rows.
      hub.publish(events ? localBatch(events, source) : jsonBatch(rowsToJson(rows)));
    },
    () => hub.size > 0,
  );
  pipeline.onRejected((code, n) => metrics.rejected.inc({ code }, n));

  const ctx: AppContext = {
    config,
    clock,
    store,
    tokens: new TokenRegistry(store, config.adminToken, undefined, clock),
    batcher,
    pipeline,
    metrics,
    rateLimiter,
    disk,
    rollup,
    hub,
    writerId,
    alerts: undefined,
    closing: false,
    schemaProblem: () => problem,
  };

  app.decorateRequest('principal', null);

  app.addHook('onRequest', async (_req, reply) => {
    if (ctx.closing) {
      void reply.header('Connection', 'close');
      throw new SluiceError('SLUICE_ERR_SHUTTING_DOWN', undefined, { retryAfter: 1 });
    }
  });
  // A request taken before the stop is answered after it: its keep-alive
  // connection would hold the stop open until the client's idle timeout
  // (5 s for Node's agent, longer for proxies), so its answer ends it.
  app.addHook('onSend', async (_req, reply) => {
    if (ctx.closing) void reply.header('Connection', 'close');
  });

  app.setErrorHandler((error: FastifyError, req, reply) => {
    const err = prepareError(ctx, error, req, reply);
    return reply.code(err.statusCode).send(errorBody(err));
  });

  app.setNotFoundHandler((req, reply) => {
    const err = new SluiceError('SLUICE_ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
    return reply.code(404).send(errorBody(err));
  });

  await app.register(opsRoutes, { ctx });
  // The web app's page shares `/` with the Elasticsearch probe: browsers
  // (Accept: text/html) get the page, shippers the cluster info.
  const page = hasRole(config, 'api') ? loadWebPage() : undefined;
  if (hasRole(config, 'ingest')) {
    const deps: DrainDeps = { pipeline, turns, tokens: ctx.tokens, prepareError: (error, req, reply) => prepareError(ctx, error, req, reply) };
    for (const routes of [ingestRoutes, otlpRoutes, lokiPushRoutes]) await app.register(routes, { deps });
    await app.register(elasticsearchRoutes, { ctx, deps, page });
    await app.register(logplexRoutes, { deps, registry: metrics.registry });
  }
  const syslog = hasRole(config, 'ingest') ? new SyslogListeners(ctx, app.log) : undefined;
  if (hasRole(config, 'api')) {
    await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
    await app.register(webRoutes, { page: page!, ownsRoot: !hasRole(config, 'ingest') });
    await app.register(meRoutes, { ctx });
    await app.register(lokiLabelRoutes, { ctx });
    await app.register(lokiReadRoutes, { ctx });
    // `pattern:<id>` names a template this process may not have listed yet.
    app.addHook('preHandler', async (req) => {
      // Only for a request a token let in: no store reads for anonymous ones.
      if (!req.principal) return;
      const body = req.body as { q?: unknown; query?: unknown } | undefined;
      const q = (req.query as { q?: unknown } | undefined)?.q ?? body?.q ?? body?.query;
      if (typeof q === 'string') await knowPatternsOf(ctx, q);
    });
    for (const routes of [tailRoutes, searchRoutes, contextRoutes, trendsRoutes, patternRoutes, fieldsRoutes, exportRoutes, savedSearchRoutes, alertRoutes, tokenRoutes]) {
      await app.register(routes, { ctx });
    }
  }

  const poller = hasRole(config, 'api') && config.tail.poller ? new StorePoller(ctx, app.log) : undefined;
  if (hasRole(config, 'alerts')) ctx.alerts = new AlertEngine(ctx, app.log);
  ctx.rollup.onAdvance = (w) => metrics.rollupWatermark.set(Number(w / 1_000_000n) / 1000);
  app.addHook('onReady', async () => {
    // A database at another schema (refused by every route) may have no watermark.
    if (!problem) await ctx.rollup.start();
    poller?.start();
    await syslog?.start();
    await ctx.alerts?.start();
  });
  app.addHook('preClose', async () => {
    ctx.closing = true;
    await poller?.stop();
    // Stop accepting and reading syslog, store what was read (the batcher
    // drains in onClose).
    await syslog?.stop();
    await ctx.alerts?.stop();
  });
  app.addHook('onClose', async () => {
    // In-flight requests are waiting on the batcher: insert everything it
    // holds before the store may close.
    await batcher.drain();
    await ctx.rollup.stop();
    disk.stop();
  });

  return { app, ctx };
}

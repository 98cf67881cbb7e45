// Health, readiness and metrics: the only routes that need no token.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';

export async function opsRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, string> = {};
    const ping = await ctx.store.control.ping();
    checks.store = ping.success ? 'ok' : 'unreachable';
    checks.schema = ctx.schemaProblem() ?? 'ok';
    checks.disk = ctx.disk.low ? `free ${ctx.disk.freeBytes} bytes < SLUICE_MIN_FREE_DISK ${ctx.config.minFreeDiskBytes}` : 'ok';
    checks.shutdown = ctx.closing ? 'closing' : 'ok';
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });

  app.get('/metrics', async (_req, reply) => {
    ctx.metrics.batcherBytes.set(ctx.batcher.bytes);
    ctx.metrics.tailViewers.set(ctx.hub.size);
    ctx.metrics.diskFreeBytes.set(ctx.disk.freeBytes);
    ctx.metrics.diskMinFreeBytes.set(ctx.config.minFreeDiskBytes);
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
}

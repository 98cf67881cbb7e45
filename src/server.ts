// Listens and handles signals. SIGTERM: stop taking requests, insert what
// the batcher holds, answer the requests waiting on it, close the store,
// exit 0 — no acknowledged event is lost.
import { type Config, StartError } from './config.js';
import { buildApp } from './app.js';
import { schemaProblem, schemaStatus } from './store/migrate.js';
import { openStore } from './store/store.js';

export { StartError };

export async function serve(config: Config): Promise<void> {
  const store = await openStore(config);
  const problem = schemaProblem(await schemaStatus(store), config.retentionDays);
  if (problem) {
    await store.close();
    throw new StartError(`sluice serve: ${problem}`);
  }
  const { app, ctx } = await buildApp({ config, store });

  if (!(await ctx.tokens.hasAny())) {
    // First start: make an admin token so the quick start works.
    const created = await ctx.tokens.create('admin', 'admin');
    app.log.warn({ token_name: created.name, token: created.token }, `no token existed: created admin token "admin" = ${created.token} (shown only this once; sign in with it at ${config.publicUrl})`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      app.log.info({ signal }, 'already stopping: the signal is ignored until the batcher is drained');
      return;
    }
    stopping = true;
    app.log.info({ signal }, 'stopping: draining the batcher');
    try {
      await app.close();
      await store.close();
      app.log.info('stopped');
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'unclean stop');
      process.exit(1);
    }
  };
  // `on`, not `once`: Ctrl-C on `npm start` signals both npm and the server,
  // and npm then forwards its own copy. A second signal must not fall back
  // to Node's default (exit at once) and cut the drain short.
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const address = await app.listen({ port: config.port, host: config.host });
  app.log.info({ address, roles: config.roles, store: store.embedded ? `embedded ${config.dataDir}` : 'server', writer: ctx.writerId }, 'sluice serving');
}

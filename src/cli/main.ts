#!/usr/bin/env node
// The sluice command. Each command's modules load only when it runs: the
// shipper and the tail client start without loading the server, the store
// engine or fastify.
import { ConfigError, StartError, loadConfig } from '../config.js';
import { DataDirLockedError } from '../store/lock.js';
import { ApiError } from './client.js';

const USAGE = `usage: sluice <command>
  serve     run the server (HTTP ingest, search API) on $PORT
  migrate   create or upgrade the database schema, apply SLUICE_RETENTION_DAYS
  token     create, list or revoke API tokens (sluice token --help)
  tail      live tail in the terminal: sluice tail 'level:>=error' [--since 10m] [--json]
  alerts    list, create or delete alert rules (sluice alerts --help)
  patterns  the loudest message patterns: sluice patterns [--since 1h] [QUERY]
  ship      the stdout-shipping sidecar: app | sluice ship --service api (sluice ship --help)
Configuration comes from the environment; see README.md.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  const config = loadConfig();
  switch (command) {
    case 'serve':
      await (await import('../server.js')).serve(config);
      return -1; // keeps running until a signal
    case 'migrate': {
      const [{ openStore }, { migrate }, { pino }, { logDestination }] = await Promise.all([
        import('../store/store.js'), import('../store/migrate.js'), import('pino'), import('../log.js'),
      ]);
      // The same pino JSON lines as `serve`, so one log pipeline reads both.
      const log = pino({ level: config.logLevel }, logDestination());
      const store = await openStore(config, { createDatabase: true });
      try {
        const r = await migrate(store, config.retentionDays);
        const what = r.applied.length > 0 ? `applied ${r.applied.join(', ')}` : 'schema already current';
        log.info({ from: r.from, to: r.to, retention_days: config.retentionDays, retention_changed: r.retentionChanged }, `sluice migrate: ${what}`);
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'token':
      return (await import('./token.js')).tokenCommand(config, rest);
    case 'tail':
      return (await import('./tail.js')).tailCommand(config, rest);
    case 'alerts':
      return (await import('./alerts.js')).alertsCommand(config, rest);
    case 'patterns':
      return (await import('./patterns.js')).patternsCommand(config, rest);
    case 'ship':
      return (await import('./ship.js')).shipCommand(config, rest);
    default:
      process.stderr.write(`sluice: unknown command ${command}\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof StartError || err instanceof DataDirLockedError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    // parseArgs: an unknown option or a missing value is a usage error.
    if (err instanceof Error && String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS_')) {
      const command = process.argv[2] ?? '';
      process.stderr.write(`sluice: ${err.message.split('\n')[0]} (see sluice ${command} --help)\n`);
      process.exit(2);
    }
    if (err instanceof ApiError) {
      process.stderr.write(`sluice: ${err.code}: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`sluice: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

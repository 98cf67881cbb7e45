// `sluice token create|list|revoke`. The embedded store is locked by the
// process serving it, so this goes through a running server's API and opens
// the store itself only when no server answers.
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { SCOPES, type Scope, TokenRegistry } from '../auth/tokens.js';
import { schemaProblem, schemaStatus } from '../store/migrate.js';
import { openStore } from '../store/store.js';
import { callApi, isConnectionRefused, serverTarget, type ServerTarget } from './client.js';

interface TokenOps {
  create(name: string, scope: Scope): Promise<{ name: string; scope: Scope; token: string }>;
  list(): Promise<Array<{ name: string; scope: Scope; created_at: string }>>;
  revoke(name: string): Promise<void>;
}

function viaApi(target: ServerTarget): TokenOps {
  return {
    create: (name, scope) => callApi(target, 'POST', '/api/v1/tokens', { name, scope }),
    list: async () => (await callApi<{ tokens: Array<{ name: string; scope: Scope; created_at: string }> }>(target, 'GET', '/api/v1/tokens')).tokens,
    revoke: async (name) => {
      await callApi(target, 'DELETE', `/api/v1/tokens/${encodeURIComponent(name)}`);
    },
  };
}

async function withDirectStore<T>(config: Config, fn: (ops: TokenOps) => Promise<T>): Promise<T> {
  const store = await openStore(config);
  try {
    const problem = schemaProblem(await schemaStatus(store), config.retentionDays);
    if (problem) throw new Error(problem);
    return await fn(new TokenRegistry(store, undefined));
  } finally {
    await store.close();
  }
}

const USAGE = `usage:
  sluice token create --name NAME --scope ingest|read|admin
  sluice token list
  sluice token revoke NAME
options: --url URL (or SLUICE_URL), --token ADMIN_TOKEN (or SLUICE_TOKEN)`;

export async function tokenCommand(config: Config, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      scope: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [action, arg] = positionals;
  const target = serverTarget(config, values);

  const run = async (ops: TokenOps): Promise<number> => {
    switch (action) {
      case 'create': {
        const scope = values.scope as Scope | undefined;
        if (!values.name || !scope || !SCOPES.includes(scope)) {
          process.stderr.write(`${USAGE}\n`);
          return 2;
        }
        const t = await ops.create(values.name, scope);
        process.stdout.write(values.json ? `${JSON.stringify(t)}\n` : `${t.token}\n`);
        process.stderr.write(`created token ${t.name} (scope ${t.scope}); it is shown only this once\n`);
        return 0;
      }
      case 'list': {
        const tokens = await ops.list();
        if (values.json) process.stdout.write(`${JSON.stringify(tokens)}\n`);
        else for (const t of tokens) process.stdout.write(`${t.name}\t${t.scope}\t${t.created_at}\n`);
        return 0;
      }
      case 'revoke': {
        const name = arg ?? values.name;
        if (!name) {
          process.stderr.write(`${USAGE}\n`);
          return 2;
        }
        await ops.revoke(name);
        process.stderr.write(`revoked token ${name}\n`);
        return 0;
      }
      default:
        process.stderr.write(`${USAGE}\n`);
        return 2;
    }
  };

  if (!['create', 'list', 'revoke'].includes(action ?? '')) return run(viaApi(target));
  try {
    return await run(viaApi(target));
  } catch (e) {
    // No server at the default address: this machine's store is not in use,
    // so open it directly. A server named by --url/SLUICE_URL must answer.
    if (isConnectionRefused(e) && target.defaulted) return withDirectStore(config, run);
    throw e;
  }
}

#!/usr/bin/env node
// Runs test directories against a ClickHouse server's HTTP interface: the
// test stand-in (test/helpers/clickhouse-standin.mjs, chDB behind HTTP in a
// child process), so the server store (CLICKHOUSE_URL) is exercised where no
// ClickHouse server can be installed. Each test file gets a database of its
// own (test/helpers/server.ts testEnv).
//
//   node scripts/test-standin.mjs [vitest args…]   default: test/store test/ingest test/query
//
// The stand-in quotes 64-bit integers in JSON output, as servers before
// 25.8 (and profiles that keep the old default) do, while chDB and newer
// servers do not: the embedded run covers one answer, this run the other,
// so a statement whose JSON output code reads must set it (DESIGN.md).
// Options for the stand-in itself come from the environment:
//   STANDIN_SETTINGS="name=value,…"  server-profile defaults instead of the above
//   STANDIN_LOG=1                    one line per request on stderr
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startStandin } from '../test/helpers/clickhouse-standin.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const settings = Object.fromEntries(
  (process.env.STANDIN_SETTINGS ?? 'output_format_json_quote_64bit_integers=1')
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

const started = Date.now();
const standin = await startStandin({ user: 'sluice', password: randomBytes(8).toString('hex'), settings });
console.log(`clickhouse stand-in at ${standin.url} (pid ${standin.pid})`);
const vitest = spawn(process.execPath, [`${ROOT}node_modules/vitest/vitest.mjs`, 'run', ...(args.length > 0 ? args : ['test/store', 'test/ingest', 'test/query'])], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, CLICKHOUSE_URL: standin.url, CLICKHOUSE_USER: standin.user, CLICKHOUSE_PASSWORD: standin.password },
});
const code = await new Promise((resolve) => vitest.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
await standin.close();
console.log(`against the stand-in: exit ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(code);

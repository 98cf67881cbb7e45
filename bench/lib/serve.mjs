// `sluice serve` as a user runs it: `migrate`, then `serve` as a child
// process on a free port of 127.0.0.1 with its own data directory, stopped
// with SIGTERM.
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { CLI } from './paths.mjs';

/** The variables the benchmarks set for `serve`; the rest of this process's environment reaches it unchanged. */
export function serveEnv(dataDir, extraEnv = {}) {
  return { SLUICE_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...extraEnv };
}

/** `sluice migrate` on a data directory (a failure's error carries its stderr). */
export function migrate(dataDir, extraEnv = {}) {
  execFileSync(process.execPath, [CLI, 'migrate'], { env: { ...process.env, ...serveEnv(dataDir, extraEnv) }, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * `sluice migrate`, then `sluice serve` on the data directory. Resolves once
 * it logs that it is serving, with { child, pid, url, exited, stderr() };
 * `exited` resolves with { code, signal }.
 */
export async function startServe(dataDir, extraEnv = {}) {
  migrate(dataDir, extraEnv);
  // Node flags NODE_OPTIONS refuses (e.g. --cpu-prof --cpu-prof-dir=DIR to
  // see where serve's JavaScript spends its time under a benchmark's load).
  const nodeFlags = (process.env.BENCH_SERVE_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeFlags, CLI, 'serve'], { env: { ...process.env, ...serveEnv(dataDir, extraEnv) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    process.stderr.write(d);
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const lastLines = [];
  const url = await new Promise((resolve, reject) => {
    let serving = false;
    // Every log line is read: a pipe nobody reads would block the server.
    createInterface({ input: child.stdout }).on('line', (line) => {
      lastLines.push(line);
      if (lastLines.length > 50) lastLines.shift();
      // Not a log line: what a node flag prints (--trace-gc…), passed on.
      if (!line.startsWith('{')) process.stderr.write(line + '\n');
      if (!serving && line.includes('"msg":"sluice serving"')) {
        serving = true;
        resolve(JSON.parse(line).address);
      }
    });
    void exited.then(({ code, signal }) => {
      if (!serving) reject(new Error(`serve exited ${code ?? signal} before serving: ${stderr.trim() || lastLines.join('\n')}`));
    });
  });
  return { child, pid: child.pid, url, exited, stderr: () => stderr };
}

/** SIGTERM (serve drains and exits 0), then its exit: { code, signal, seconds }. */
export async function stopServe(serve) {
  const t0 = performance.now();
  serve.child.kill('SIGTERM');
  const exit = await serve.exited;
  return { ...exit, seconds: (performance.now() - t0) / 1000 };
}

/** A TCP port of 127.0.0.1 that was free a moment ago (for listeners that cannot take port 0). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

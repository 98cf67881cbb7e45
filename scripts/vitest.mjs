// Runs vitest with the arguments given (npm test and the test:* scripts).
//
// Under `faketime -f '+40d' npm test`, the date-independence check, the
// clock moves, and that is all the check is about. Two things made
// libfaketime cost far more than that:
// - its defaults share the fake time between processes through a
//   semaphore taken on every clock read (FAKETIME_DISABLE_SHM turns it off);
// - the embedded engine reads the clock itself (libfaketime does not move
//   it: the "the engine's clock stays"), but its timed waits go
//   through glibc, which libfaketime shifts by the offset: every wait
//   returned at once and an idle `serve` burnt ~2.5 CPU-seconds a second.
//   scripts/faketime-condwait.c, compiled here when a C compiler is there
//   and preloaded before libfaketime, hands the engine's waits to glibc
//   unchanged (and everyone else's, rsyslog's say, to libfaketime).
// Everything vitest starts (servers, shippers, rsyslog, syslog-ng, logger)
// inherits LD_PRELOAD and FAKETIME*. The monotonic clock moves with the
// wall clock, as plain libfaketime has it: syslog-ng and Chromium stall
// when the two are 40 days apart. The settings must be there when a process
// starts, so this wrapper sets them and execs; Chromium is launched without
// the shim (test/e2e/browser.ts).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const env = { ...process.env };
if (env.FAKETIME !== undefined && (env.LD_PRELOAD ?? '').includes('faketime')) {
  env.FAKETIME_DISABLE_SHM = '1';
  const shim = condwaitShim();
  if (shim) env.LD_PRELOAD = `${shim}:${env.LD_PRELOAD}`;
}

/** scripts/faketime-condwait.c built into node_modules/.cache (again when the source is newer), or undefined without a C compiler. */
function condwaitShim() {
  const src = fileURLToPath(new URL('./faketime-condwait.c', import.meta.url));
  const dir = fileURLToPath(new URL('../node_modules/.cache/sluice/', import.meta.url));
  const out = dir + 'faketime-condwait.so';
  try {
    if (statSync(out).mtimeMs >= statSync(src).mtimeMs) return out;
  } catch {
    // not built yet
  }
  try {
    mkdirSync(dir, { recursive: true });
    execFileSync('cc', ['-O2', '-shared', '-fPIC', '-o', out, src, '-ldl'], { stdio: ['ignore', 'ignore', 'pipe'] });
    return out;
  } catch (e) {
    process.stderr.write(`scripts/vitest.mjs: no faketime-condwait shim (${e.message.split('\n')[0]}); embedded engines will spin under faketime and the suite will be slow\n`);
    return undefined;
  }
}
const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const child = spawn(process.execPath, [vitest, ...process.argv.slice(2)], { stdio: 'inherit', env });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});

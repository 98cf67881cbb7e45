// Runs vitest with the arguments given (npm test and the test:* scripts).
//
// Under `faketime -f '+40d' npm test`, the date-independence check, the wall
// clock moves, and that is all the check is about. libfaketime's defaults
// also fake the monotonic clocks and share the fake time between processes
// through a semaphore taken on every clock read; the embedded engine's
// threads read those clocks constantly, so a server ran 5-30 times slower
// and tests timed out on speed, not on dates. vitest and everything it
// starts (servers inherit LD_PRELOAD and FAKETIME*) keep the moved wall
// clock without those two costs. The settings must be there when a process
// starts: libfaketime re-reads them, and a monotonic clock that jumps back
// in a running process aborts Node. So this wrapper sets them and execs.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const env = { ...process.env };
if (env.FAKETIME !== undefined && (env.LD_PRELOAD ?? '').includes('faketime')) {
  env.FAKETIME_DISABLE_SHM = '1';
  env.FAKETIME_DONT_FAKE_MONOTONIC = '1';
}
const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const child = spawn(process.execPath, [vitest, ...process.argv.slice(2)], { stdio: 'inherit', env });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});

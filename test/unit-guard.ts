// The unit tier runs no engine, opens no socket and starts no process: a
// test that does belongs in the integration tier (vitest.config.ts). This
// makes the rule fail loudly instead of being a convention.
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

function refuse(what: string): never {
  throw new Error(`a unit test may not ${what}: move the file to the integration tier (vitest.config.ts)`);
}

for (const name of ['spawn', 'exec', 'execFile', 'fork', 'spawnSync', 'execSync', 'execFileSync'] as const) {
  Object.defineProperty(childProcess, name, { value: () => refuse(`start a process (${name})`) });
}
Object.defineProperty(net.Server.prototype, 'listen', { value: () => refuse('listen on a socket') });
Object.defineProperty(net.Socket.prototype, 'connect', { value: () => refuse('connect a socket') });
// `import { spawn } from 'node:child_process'` reads the named export: bring it in line.
syncBuiltinESMExports();

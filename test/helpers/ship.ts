// Runs `sluice ship` as a child process, as a user runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { baseEnv, CLI } from './server.js';

export interface ShipRun {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function ship(args: string[], env: Record<string, string>, stdin: 'pipe' | 'ignore' = 'pipe'): ShipRun {
  const child = spawn(process.execPath, [CLI, 'ship', ...args], { env: { ...baseEnv(), ...env }, stdio: [stdin, 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Writes to a child's stdin and waits for it to drain. */
export async function write(run: ShipRun, text: string | Buffer): Promise<void> {
  const stdin = run.child.stdin!;
  if (!stdin.write(text)) await new Promise((r) => stdin.once('drain', r));
}

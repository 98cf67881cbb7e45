// A benchmark's other processes: commands it runs to their end, and the
// benchmark file itself in a child mode (`--child=<mode> <params as JSON>`),
// so that every embedded data directory has a process of its own.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Runs a command to its end; resolves with its stdout, rejects with its stderr (or stdout). */
export function run(cmd, args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code ?? signal}: ${err.trim() || out.trim()}`));
    });
  });
}

/** Runs a benchmark file (its import.meta.url) in one of its child modes; resolves with the JSON it printed last. */
export async function runChild(script, mode, params) {
  const out = await run(process.execPath, [fileURLToPath(script), `--child=${mode}`, JSON.stringify(params)]);
  return JSON.parse(out.trim().split('\n').at(-1));
}

/**
 * A benchmark's entry point: `main()`, or with `--child=<mode>` the child
 * function of that mode, whose result goes to stdout as one line of JSON.
 * Either way a failure is printed and exits 1.
 */
export function runBenchmark(name, main, children = {}) {
  const childArg = process.argv.find((a) => a.startsWith('--child='));
  if (childArg === undefined) {
    main().catch((e) => {
      process.stderr.write(`[bench:${name}] failed: ${e?.stack ?? e}\n`);
      process.exit(1);
    });
    return;
  }
  const mode = childArg.slice('--child='.length);
  if (!Object.hasOwn(children, mode)) throw new Error(`unknown child mode ${mode}`);
  const params = JSON.parse(process.argv[process.argv.indexOf(childArg) + 1]);
  children[mode](params).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (e) => {
      process.stderr.write(`${e?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}

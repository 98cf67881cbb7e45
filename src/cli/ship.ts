// `sluice ship`: the stdout-shipping sidecar.
//   node app.js 2>&1 | sluice ship --service api          (pipe)
//   sluice ship --service api -- node app.js               (wrap)
//   sluice ship --file '/var/log/app/*.log'                (files)
// Its own diagnostics go to stderr, prefixed `sluice ship:`, never into the
// passed-through stream.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { FileTailer } from '../shipper/files.js';
import { Shipper, Stream } from '../shipper/ship.js';
import { serverTarget } from './client.js';

const USAGE = `usage:
  <app> | sluice ship [options]            ship stdin, passing it through to stdout
  sluice ship [options] -- <command> ...    run the command, ship its stdout and stderr
  sluice ship [options] --file 'GLOB' ...   follow files (rotation and truncation survive)
options:
  --service NAME  --host NAME (default: this host's name)  --attr k=v (repeatable)
  --multiline REGEX      a line matching it starts a new record (default: stack-trace rules)
  --max-line-bytes N     longer lines are cut and marked (default 262144)
  --batch-lines N        (default 10000)   --batch-bytes N (default 4194304)   --batch-age MS (default 500)
  --spool-dir DIR        (default: a folder under the temp dir, per server URL and service)
  --spool-max-bytes N    (default 268435456; when full the oldest batches are dropped and reported)
  --state-file FILE      files mode offsets (default: state.json in the spool dir)
  --flush-timeout MS     on EOF/SIGTERM, time to deliver before the rest stays in the spool (default 10000)
  --stats                print lines read/sent/spooled/dropped to stderr on exit
  --url URL (or SLUICE_URL)   --token TOKEN (or SLUICE_TOKEN, scope ingest)`;

const num = (v: string | undefined, d: number, name: string): number => {
  if (v === undefined) return d;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} takes a positive whole number`);
  return n;
};

export async function shipCommand(config: Config, argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const command = dash === -1 ? [] : argv.slice(dash + 1);
  const { values } = parseArgs({
    args: dash === -1 ? argv : argv.slice(0, dash),
    options: {
      service: { type: 'string' },
      host: { type: 'string' },
      attr: { type: 'string', multiple: true },
      file: { type: 'string', multiple: true },
      multiline: { type: 'string' },
      'max-line-bytes': { type: 'string' },
      'batch-lines': { type: 'string' },
      'batch-bytes': { type: 'string' },
      'batch-age': { type: 'string' },
      'spool-dir': { type: 'string' },
      'spool-max-bytes': { type: 'string' },
      'state-file': { type: 'string' },
      'flush-timeout': { type: 'string' },
      stats: { type: 'boolean', default: false },
      url: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const target = serverTarget(config, values);
  const log = (msg: string) => process.stderr.write(`sluice ship: ${msg}\n`);
  if (!target.token) {
    log('set SLUICE_TOKEN (or --token) to a token with scope ingest');
    return 2;
  }
  const attrs: Record<string, string> = {};
  for (const a of values.attr ?? []) {
    const eq = a.indexOf('=');
    if (eq < 1) {
      log(`--attr takes k=v, not ${JSON.stringify(a)}`);
      return 2;
    }
    attrs[a.slice(0, eq)] = a.slice(eq + 1);
  }
  const spoolDir =
    values['spool-dir'] ??
    join(tmpdir(), 'sluice-ship-' + createHash('sha256').update(`${target.url}\n${values.service ?? ''}\n${(values.file ?? []).join(',')}`).digest('hex').slice(0, 12));
  const shipper = new Shipper({
    url: target.url,
    token: target.token,
    record: { service: values.service, host: values.host ?? hostname(), attrs },
    multiline: values.multiline ? new RegExp(values.multiline) : undefined,
    maxLineBytes: num(values['max-line-bytes'], 256 * 1024, 'max-line-bytes'),
    // Each batch is one insert on the server (it carries an idempotency key,
    // so it is never merged with others): larger batches insert far faster.
    batchLines: num(values['batch-lines'], 10_000, 'batch-lines'),
    batchBytes: num(values['batch-bytes'], 4 * 1024 * 1024, 'batch-bytes'),
    batchAgeMs: num(values['batch-age'], 500, 'batch-age'),
    spoolDir,
    spoolMaxBytes: num(values['spool-max-bytes'], 256 * 1024 * 1024, 'spool-max-bytes'),
    memoryBytes: 16 * 1024 * 1024,
    flushTimeoutMs: num(values['flush-timeout'], 10_000, 'flush-timeout'),
    log,
  });
  shipper.start();

  const done = async (code: number): Promise<number> => {
    await shipper.finish();
    if (values.stats) log(shipper.summary().replace(/^sluice ship: /, ''));
    return code;
  };

  if (values.file?.length) {
    const tailer = new FileTailer(shipper, values.file, values['state-file'] ?? join(spoolDir, 'state.json'));
    tailer.start();
    // `on`: a second signal (Ctrl-C under npm arrives twice) must not kill
    // the flush, which --flush-timeout bounds.
    await new Promise<void>((resolve) => {
      process.on('SIGTERM', () => resolve());
      process.on('SIGINT', () => resolve());
    });
    tailer.stop();
    return done(0);
  }

  if (command.length > 0) {
    // Wrap: the child's output is ours to pass through and ship; signals go
    // to it, and we exit as it did.
    const child = spawn(command[0]!, command.slice(1), { stdio: ['inherit', 'pipe', 'pipe'] });
    const out = new Stream(shipper, 'stdout');
    const err = new Stream(shipper, 'stderr');
    child.stdout.on('data', (d: Buffer) => {
      process.stdout.write(d);
      out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d);
      err.push(d);
    });
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal }));
    }).catch((e: unknown) => {
      log(`cannot run ${command[0]}: ${(e as Error).message}`);
      return { code: 127, signal: null };
    });
    out.end();
    err.end();
    const code = await done(exit.code ?? 0);
    if (exit.signal) {
      // Die the way the child did, so a supervisor sees the same thing.
      process.removeAllListeners(exit.signal);
      process.kill(process.pid, exit.signal);
      return -1;
    }
    return code;
  }

  // Pipe: pass every chunk through first, so a dead drain never blocks the app.
  const input = new Stream(shipper, undefined);
  process.stdin.on('data', (d: Buffer) => {
    process.stdout.write(d);
    input.push(d);
  });
  await new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.on('SIGTERM', () => resolve());
    process.on('SIGINT', () => resolve());
  });
  process.stdin.pause();
  input.end();
  return done(0);
}

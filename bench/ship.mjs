// bench/ship: the shipper's own cost, against `cat` of the same input in the
// same run, then its pass-through latency, then the end-to-end rate into a
// running `serve` (which shares the machine's cores).
//
//   npm run build && node bench/ship.mjs            # writes docs/BENCHMARKS.md
//   BENCH_LINES=200000 BENCH_RUNS=1 BENCH_WRITE=0 node bench/ship.mjs
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLI, flag, intro, machine, option, percentile, processCpu, request, stamp, startServe, stopServe, table, writeSection } from './lib.mjs';

const LINES = option('LINES', 1_000_000);
const RUNS = option('RUNS', 3);
const WRITE = flag('WRITE', true);

// The upper middle of an even count, as this benchmark has always quoted.
const median = (xs) => percentile(xs, 0.5);

async function makeInput(dir) {
  const file = join(dir, 'input.log');
  const out = createWriteStream(file);
  const levels = ['INFO', 'WARN', 'ERROR', 'DEBUG'];
  for (let i = 0; i < LINES; i++) {
    // 160-byte lines: a plain-text shape half the time, JSON the other half.
    let line = i % 2
      ? `2026-11-22T05:00:00.${String(i % 1000).padStart(3, '0')}Z ${levels[i % 4]} worker-${i % 16} handled job ${i} queue=mail attempt=${i % 3} duration_ms=${i % 997}`
      : JSON.stringify({ level: 30, time: 1795320000000 + i, msg: `GET /api/v1/items/${i} 200`, req: { id: `r${i}` }, ms: i % 97 });
    // Padded to 159 bytes inside the object for JSON (so it stays valid
    // JSON, as a real pino line is), after the text for plain lines.
    line = line[0] === '{' ? line.slice(0, -1) + ',"pad":"' + '.'.repeat(Math.max(0, 159 - line.length - 9)) + '"}' : (line + ' ').padEnd(159, '.');
    if (!out.write(line + '\n')) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
  return file;
}

/** A receiver that only acknowledges. */
async function receiver() {
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"accepted":0,"rejected":0,"errors":[]}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, requests: () => requests, close: () => new Promise((r) => server.close(r)) };
}

/** Runs `cmd args < file > /dev/null`, returns wall seconds and the process's CPU seconds. */
async function timed(cmd, args, file, env = {}) {
  const t0 = process.hrtime.bigint();
  const child = spawn('bash', ['-c', `exec "$0" "$@" < ${JSON.stringify(file)} > /dev/null`, cmd, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let cpu = 0;
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const sampler = setInterval(() => (cpu = Number.isNaN(processCpu(child.pid)) ? cpu : processCpu(child.pid)), 20);
  const code = await new Promise((r) => child.on('close', r));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`${cmd} exited ${code}: ${err}`);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu, stderr: err };
}

/** Pass-through latency: a line written to the shipper's stdin until it appears on its stdout. */
async function latency(url, dir) {
  const child = spawn(process.execPath, [CLI, 'ship', '--service', 'bench-latency', '--spool-dir', join(dir, 'lat-spool')], {
    env: { ...process.env, SLUICE_URL: url, SLUICE_TOKEN: 'bench-token-123456' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const out = createInterface({ input: child.stdout });
  const samples = [];
  const pending = new Map();
  out.on('line', (l) => {
    const t = pending.get(l);
    if (t !== undefined) {
      samples.push(Number(process.hrtime.bigint() - t) / 1e6);
      pending.delete(l);
    }
  });
  // Warm up: the shipper has started once a line comes back through it.
  for (let w = 0; w < 20; w++) {
    const line = `warm-up ${w}`;
    const back = new Promise((resolve) => {
      const f = (l) => {
        if (l === line) {
          out.off('line', f);
          resolve();
        }
      };
      out.on('line', f);
    });
    child.stdin.write(line + '\n');
    await back;
  }
  for (let i = 0; i < 2000; i++) {
    const line = `latency probe ${i} ${'x'.repeat(130)}`;
    pending.set(line, process.hrtime.bigint());
    child.stdin.write(line + '\n');
    await new Promise((r) => setTimeout(r, 1));
  }
  while (pending.size > 0) await new Promise((r) => setTimeout(r, 10));
  child.stdin.end();
  await new Promise((r) => child.on('close', r));
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), n: samples.length };
}

/** End to end into a real serve on the embedded store: from the first line read to the shipper's exit (all delivered). */
async function endToEnd(file, dir) {
  const serve = await startServe(join(dir, 'e2e-data'), { SLUICE_ADMIN_TOKEN: 'bench-token-123456' });
  const { url } = serve;
  const r = await timed(process.execPath, [CLI, 'ship', '--service', 'bench-e2e', '--spool-dir', join(dir, 'e2e-spool'), '--stats', '--flush-timeout', '600000'], file, {
    SLUICE_URL: url,
    SLUICE_TOKEN: 'bench-token-123456',
  });
  const res = await request(undefined, url, '/api/v1/trends?from=30d&step=1d&by=none&q=service:bench-e2e', { headers: { authorization: 'Bearer bench-token-123456' } });
  const stored = JSON.parse(res.body.toString('utf8')).series.reduce((a, s) => a + s.total, 0);
  await stopServe(serve);
  return { ...r, stored };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-ship-'));
  try {
    const file = await makeInput(dir);
    const bytes = LINES * 160;
    const rec = await receiver();
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const cat = await timed('cat', [], file);
      const ship = await timed(process.execPath, [CLI, 'ship', '--service', 'bench', '--spool-dir', join(dir, `spool-${i}`), '--stats'], file, {
        SLUICE_URL: rec.url,
        SLUICE_TOKEN: 'bench-token-123456',
      });
      if (!/sent \d+/.test(ship.stderr)) throw new Error(`shipper said: ${ship.stderr}`);
      runs.push({ catWall: cat.wall, catCpu: cat.cpu, shipWall: ship.wall, shipCpu: ship.cpu, sent: Number(/sent (\d+)/.exec(ship.stderr)[1]) });
      console.error(`[bench:ship] run ${i + 1}: cat ${(LINES / cat.wall / 1000).toFixed(0)}k lines/s; ship ${(LINES / ship.wall / 1000).toFixed(0)}k lines/s, ${(ship.cpu / (LINES / 1e6)).toFixed(2)} CPU-s per 1M lines, sent ${runs.at(-1).sent}`);
    }
    const lat = await latency(rec.url, dir);
    console.error(`[bench:ship] pass-through latency p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms (${lat.n} probes)`);
    await rec.close();
    const e2e = await endToEnd(file, dir);
    console.error(`[bench:ship] end to end into serve: ${(LINES / e2e.wall / 1000).toFixed(0)}k lines/s, stored ${e2e.stored}/${LINES}`);

    const shipRate = median(runs.map((r) => LINES / r.shipWall));
    const catRate = median(runs.map((r) => LINES / r.catWall));
    const cpuPerM = median(runs.map((r) => r.shipCpu / (LINES / 1e6)));
    // "lines/s on one core": lines per CPU-second of the shipper process.
    const perCore = LINES / median(runs.map((r) => r.shipCpu));
    const k = (n) => `${(n / 1000).toFixed(0)}k`;
    const L = intro(
      '## Shipper: `sluice ship` against `cat`, pass-through latency, end to end',
      `Measured ${stamp()} UTC, ${RUNS} runs of ${LINES.toLocaleString('en')} lines of 160 bytes (half plain text with a level marker, half pino-style JSON), generated by the script. Reproduce with:`,
      [`npm run build && BENCH_LINES=${LINES} BENCH_RUNS=${RUNS} node bench/ship.mjs`],
      `**Machine:** ${machine()}. Shared and noisy; medians quoted.`,
    );
    L.push(
      ...table(['measure', 'median', 'target', ''], 'lrrl', [
        ['`cat` of the same input (baseline)', `${k(catRate)} lines/s (${(bytes / median(runs.map((r) => r.catWall)) / 2 ** 20).toFixed(0)} MiB/s)`, '', ''],
        ['`sluice ship`, pipe mode, into a receiver that only acknowledges', `${k(shipRate)} lines/s (${(shipRate / catRate).toFixed(2)} × cat)`, '', ''],
        ['shipper CPU per 1M lines', `${cpuPerM.toFixed(2)} CPU-s`, '', ''],
        ['lines per CPU-second of the shipper (one core)', k(perCore), '≥ 200k', perCore >= 200_000 ? 'pass' : '**FAIL**'],
        ['pass-through latency, line written → on the shipper\'s stdout', `p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms`, 'p99 < 5 ms', lat.p99 < 5 ? 'pass' : '**FAIL**'],
        ['end to end into `serve` (embedded store, same 2 cores), until the shipper exits with all delivered', `${k(LINES / e2e.wall)} lines/s, stored ${e2e.stored.toLocaleString('en')} / ${LINES.toLocaleString('en')}`, '', e2e.stored === LINES ? 'all stored' : '**lines missing**'],
      ]),
    );
    L.push('');
    L.push(
      ...table(
        ['run', 'cat lines/s', 'ship lines/s', 'ship CPU-s', 'lines sent'],
        'rrrrr',
        runs.map((r, i) => [i + 1, k(LINES / r.catWall), k(LINES / r.shipWall), r.shipCpu.toFixed(2), r.sent.toLocaleString('en')]),
      ),
    );
    L.push('');
    L.push('CPU is read from `/proc/<pid>/stat` of the shipper (all its threads, gzip included). The latency probe writes one line a millisecond into the shipper\'s stdin and times it to the shipper\'s stdout, in the same process, while batches are sent to the acknowledging receiver. The shipper sends lines as it read them (text/plain with `X-Sluice-Line-Meta`), so parsing JSON and logfmt and guessing levels is the server\'s work: the acknowledging receiver does none of it, the end-to-end row includes it.');
    const section = L.join('\n');
    console.log(section);
    if (WRITE) writeSection('ship', 'bench/ship.mjs', section);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

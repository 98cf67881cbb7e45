#!/usr/bin/env node
// bench/syslog: RFC 5424 over TCP from syslog-ng's `loggen` into `sluice
// serve` (embedded store), against syslog-ng itself receiving the same
// `loggen` stream and writing it to a file, in the same run, and against a
// raw insert of the same events into the same table. Then events/s of OTLP
// protobuf (`POST /v1/logs`) and Loki protobuf+snappy (`POST
// /loki/api/v1/push`) batches into `serve`.
//
//   npm run build && node bench/syslog.mjs          # writes docs/BENCHMARKS.md
//   BENCH_MESSAGES=200000 BENCH_RUNS=1 BENCH_WRITE=0 node bench/syslog.mjs   # quick look
//
// Settings (environment):
//   BENCH_MESSAGES   messages loggen sends to each receiver            1000000
//   BENCH_SIZE       loggen --size (bytes of a message)                256
//   BENCH_HTTP_TOTAL events of each of the OTLP and Loki phases        500000
//   BENCH_HTTP_BATCH events per OTLP / Loki request                    1000
//   BENCH_CLIENTS    concurrent keep-alive HTTP clients                16
//   BENCH_RAW_BATCH  rows per raw insert of the baseline               20000
//   BENCH_RUNS       repetitions; medians are quoted                   3
//   BENCH_WRITE      1 = regenerate the section in docs/BENCHMARKS.md  1
//
// Needs `loggen` and `syslog-ng` (Debian: syslog-ng-core) on PATH.
// Processes: this one polls and sends HTTP. `serve`, syslog-ng and loggen
// are children; the raw baseline and the row counts are children of this
// file (`--child=raw`, `--child=count`): one embedded data dir per process.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CLI, MAIN_THREAD, ROLLUP_COUNT, SERVER_INSERT_SETTINGS, countStored, cpuMeter, dist, flag, freePort, insertEventRows, loghubLines, machine, median, migrate, openChdb, option,
  queryOne, requestContext, runBenchmark, runChild, scrapeMetrics, sendAll, startServe, statusBytes, stopServe, sumMetric, table, writeSection,
} from './lib.mjs';

const O = {
  messages: option('MESSAGES', 1_000_000),
  size: option('SIZE', 256),
  httpTotal: option('HTTP_TOTAL', 500_000),
  httpBatch: option('HTTP_BATCH', 1000),
  clients: option('CLIENTS', 16),
  rawBatch: option('RAW_BATCH', 20_000),
  runs: option('RUNS', 3),
  write: flag('WRITE', true),
};
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const TRUSTED_SOURCE = 'syslog-trusted';
const HTTP_SOURCE = 'admin (SLUICE_ADMIN_TOKEN)';
// #17: syslog at syslog-ng's pace (the earlier target was 0.5).
const TARGET_RATIO = 1.0;
const POLL_MS = 50;
const log = (m) => process.stderr.write(`[bench:syslog] ${m}\n`);

// ---------------------------------------------------------------- small helpers

const k = (x) => (Number.isFinite(x) ? `${(x / 1000).toFixed(1)}k` : '–');
const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');

function loggenArgs(port) {
  return ['--stream', '--syslog-proto', `--rate=${100_000_000}`, `--number=${O.messages}`, `--size=${O.size}`, '--active-connections=1', '--interval=3600', '127.0.0.1', String(port)];
}

/** Starts loggen; resolves {exitedAt, out} when it exits. */
function loggen(port) {
  const c = spawn('loggen', loggenArgs(port), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  c.stdout.on('data', (d) => (out += d));
  c.stderr.on('data', (d) => (out += d));
  const done = new Promise((resolve, reject) => {
    c.on('error', reject);
    c.on('exit', (code) => (code === 0 ? resolve({ exitedAt: performance.now(), out }) : reject(new Error(`loggen exited ${code}: ${out.trim()}`))));
  });
  return { pid: c.pid, done };
}

// ---------------------------------------------------------------- syslog-ng

async function syslogNgRun() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-syslogng-'));
  try {
    const port = await freePort();
    const out = join(dir, 'out.log');
    // flow-control: syslog-ng stops reading when the file destination's
    // queue is full instead of dropping, as Sluice does on TCP.
    writeFileSync(
      join(dir, 'syslog-ng.conf'),
      `@version: 3.38
options { stats_freq(0); };
source s_bench { syslog(ip(127.0.0.1) port(${port}) transport("tcp") max-connections(10)); };
destination d_file { file("${out}"); };
log { source(s_bench); destination(d_file); flags(flow-control); };
`,
    );
    const ng = spawn('syslog-ng', ['-F', '-f', join(dir, 'syslog-ng.conf'), '--no-caps', '-R', join(dir, 'persist'), '-p', join(dir, 'pid'), '-c', join(dir, 'ctl')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let ngErr = '';
    ng.stderr.on('data', (d) => (ngErr += d));
    const exited = new Promise((resolve) => ng.on('exit', (code, signal) => resolve({ code, signal })));
    // Ready once the port accepts connections.
    for (let i = 0; ; i++) {
      if (ng.exitCode !== null) throw new Error(`syslog-ng exited: ${ngErr}`);
      const ok = await new Promise((resolve) => {
        const s = new Socket();
        s.once('error', () => resolve(false));
        s.connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
      });
      if (ok) break;
      if (i > 200) throw new Error(`syslog-ng did not listen on ${port}: ${ngErr}`);
      await sleep(50);
    }
    const r = await measure({
      pid: ng.pid,
      port,
      progress: () => (existsSync(out) ? statSync(out).size : 0),
      // The file lines are all of one length (fixed-size loggen messages,
      // zero-padded sequence numbers): done at N lines' worth of bytes.
      target: () => {
        if (!existsSync(out)) return Infinity;
        const fd = openSync(out, 'r');
        const b = Buffer.alloc(4096);
        const n = readSync(fd, b, 0, b.length, 0);
        closeSync(fd);
        const nl = b.subarray(0, n).indexOf(10);
        return nl < 0 ? Infinity : (nl + 1) * O.messages;
      },
    });
    ng.kill('SIGTERM');
    await exited;
    r.stored = countFileLines(out);
    return r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function countFileLines(file) {
  const fd = openSync(file, 'r');
  const b = Buffer.alloc(1 << 22);
  let n = 0;
  for (let pos = 0; ; ) {
    const got = readSync(fd, b, 0, b.length, pos);
    if (got === 0) break;
    for (let i = b.indexOf(10); i !== -1 && i < got; i = b.indexOf(10, i + 1)) n++;
    pos += got;
  }
  closeSync(fd);
  return n;
}

/**
 * Runs loggen against `port` and polls `progress()` every POLL_MS until it
 * reaches `target()` (or stops moving for 10 s after loggen exited). Wall
 * time runs from loggen's start to the poll that saw the target.
 */
async function measure({ pid, port, progress, target }) {
  const used = cpuMeter(pid);
  const t0 = performance.now();
  const lg = loggen(port);
  let lgDone;
  lg.done.then((d) => (lgDone = d), () => undefined);
  let last = -1;
  let lastMoved = performance.now();
  let reached = false;
  let tgt = Infinity;
  for (;;) {
    await sleep(POLL_MS);
    const p = await progress();
    const now = performance.now();
    if (tgt === Infinity) tgt = await target();
    if (p >= tgt) {
      reached = true;
      break;
    }
    if (p !== last) {
      last = p;
      lastMoved = now;
    } else if (lgDone && now - lastMoved > 10_000) break;
  }
  const t1 = performance.now();
  const { cpu, threads, machineCpu } = used();
  const done = await lg.done;
  const wall = (t1 - t0) / 1000;
  const m = /average rate = ([\d.]+) msg\/sec, count=(\d+)/.exec(done.out);
  return {
    wall,
    reached,
    sendSeconds: (done.exitedAt - t0) / 1000,
    loggenRate: m ? Number(m[1]) : NaN,
    sent: m ? Number(m[2]) : NaN,
    cpu,
    threads,
    machineCores: machineCpu / wall,
  };
}

// ---------------------------------------------------------------- Sluice

const accepted = (m, source) => m.get(`sluice_events_accepted_total{source="${source}"}`) ?? 0;

/** `serve` on a fresh data dir with the syslog TCP listener; fn(server) runs the phase; then SIGTERM and count. */
async function withServe(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-syslog-'));
  try {
    const port = await freePort();
    const serve = await startServe(dir, {
      SLUICE_ADMIN_TOKEN: ADMIN_TOKEN,
      SLUICE_SYSLOG_TCP_PORT: String(port),
      SLUICE_SYSLOG_HOST: '127.0.0.1',
      SLUICE_SYSLOG_TRUSTED: '127.0.0.1/32',
    });
    const { pid, url } = serve;
    const r = await fn({ pid, url, port });
    const m = await scrapeMetrics(url);
    r.refused = sumMetric(m, 'sluice_syslog_refused_total');
    r.malformed = sumMetric(m, 'sluice_syslog_malformed_total');
    r.dropped = sumMetric(m, 'sluice_syslog_dropped_total');
    r.received = sumMetric(m, 'sluice_syslog_messages_total');
    // The batcher's inserts over the server's life (= the phase).
    r.insertCount = m.get('sluice_insert_rows_count') ?? NaN;
    r.insertRows = m.get('sluice_insert_rows_sum') ?? NaN;
    r.insertSeconds = sumMetric(m, 'sluice_insert_duration_seconds_sum');
    r.peakRssBytes = statusBytes(pid, 'VmHWM');
    const ex = await stopServe(serve);
    if (ex.code !== 0) throw new Error(`serve exited ${ex.code ?? ex.signal} on SIGTERM`);
    const c = await runChild(import.meta.url, 'count', { dir });
    r.stored = c.logs;
    r.rollup = c.rollup;
    return r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sluiceSyslogRun() {
  return withServe(async ({ pid, url, port }) =>
    measure({ pid, port, progress: async () => accepted(await scrapeMetrics(url), TRUSTED_SOURCE), target: () => O.messages }),
  );
}

// ---------------------------------------------------------------- OTLP and Loki

/** The loghub lines, or made-up ones where the dataset is missing. */
function messageLines() {
  const lines = loghubLines();
  if (lines.length === 0) for (let i = 0; i < 2000; i++) lines.push(`worker-${i % 16} handled job ${i} queue=mail attempt=${i % 3} duration_ms=${i % 997}`);
  return lines;
}

const SERVICES = ['api', 'web', 'worker', 'auth', 'billing', 'search'];
const LEVELS = ['info', 'info', 'info', 'info', 'info', 'info', 'debug', 'warn', 'error'];
const SEV = { debug: 5, info: 9, warn: 13, error: 17 };

/** Request bodies of both kinds: one service and host per request, records spread over the last 15 min. */
async function buildBodies() {
  const { ExportLogsServiceRequest } = await import(dist('ingest/otlp/schema.js'));
  const { PushRequest } = await import(dist('ingest/loki/schema.js'));
  const snappy = (await import('snappyjs')).default;
  const lines = messageLines();
  const requests = Math.ceil(O.httpTotal / O.httpBatch);
  const baseMs = Date.now() - 15 * 60_000;
  let li = 0;
  const otlp = [];
  const loki = [];
  let otlpBytes = 0;
  let lokiBytes = 0;
  for (let r = 0; r < requests; r++) {
    const service = SERVICES[r % SERVICES.length];
    const host = `${service}-${1 + (r % 4)}`;
    const records = [];
    const streams = new Map();
    for (let i = 0; i < O.httpBatch; i++) {
      const n = r * O.httpBatch + i;
      const ms = baseMs + Math.floor((n * 15 * 60_000) / (requests * O.httpBatch));
      const level = LEVELS[n % LEVELS.length];
      const line = lines[li++ % lines.length];
      const status = [200, 200, 200, 404, 500][n % 5];
      records.push({
        timeUnixNano: ms * 1e6,
        severityNumber: SEV[level],
        severityText: level.toUpperCase(),
        body: { stringValue: line },
        attributes: [
          { key: 'http.status', value: { intValue: status } },
          { key: 'path', value: { stringValue: `/api/v1/items/${n % 1000}` } },
        ],
      });
      let s = streams.get(level);
      if (!s) streams.set(level, (s = { labels: `{service="${service}", host="${host}", level="${level}"}`, entries: [] }));
      s.entries.push({ timestamp: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 }, line, structuredMetadata: [{ name: 'path', value: `/api/v1/items/${n % 1000}` }] });
    }
    const o = Buffer.from(
      ExportLogsServiceRequest.encode({
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }, { key: 'host.name', value: { stringValue: host } }] },
            scopeLogs: [{ scope: { name: 'bench' }, logRecords: records }],
          },
        ],
      }).finish(),
    );
    const l = Buffer.from(snappy.compress(PushRequest.encode({ streams: [...streams.values()] }).finish()));
    otlpBytes += o.length;
    lokiBytes += l.length;
    otlp.push(o);
    loki.push(l);
  }
  return { otlp, loki, otlpBytes, lokiBytes, events: requests * O.httpBatch };
}

/** Sends every body from O.clients keep-alive clients; a 503/429 is retried after Retry-After. */
function httpRun(kind, bodies) {
  const path = kind === 'otlp' ? '/v1/logs' : '/loki/api/v1/push';
  const headers = { 'Content-Type': 'application/x-protobuf', Authorization: `Bearer ${ADMIN_TOKEN}` };
  return withServe(async ({ pid, url }) => {
    const used = cpuMeter(pid);
    const { wall, retries } = await sendAll({ url, path, bodies, clients: O.clients, headers: () => headers, ok: kind === 'otlp' ? 200 : 204 });
    const { cpu, threads, selfCpu, machineCpu } = used();
    const sent = bodies.length * O.httpBatch;
    const m = await scrapeMetrics(url);
    return {
      wall,
      sent,
      accepted: accepted(m, HTTP_SOURCE),
      eps: sent / wall,
      retries,
      cpu,
      threads,
      machineCores: machineCpu / wall,
      loadgenCores: selfCpu / wall,
    };
  });
}

// ---------------------------------------------------------------- raw baseline

/** Captures one loggen stream (the same arguments as the timed runs) into a file, for the raw baseline. */
async function captureLoggen(file) {
  const { createWriteStream } = await import('node:fs');
  const out = createWriteStream(file);
  let resolveEnd;
  const ended = new Promise((r) => (resolveEnd = r));
  const server = createServer((s) => {
    s.pipe(out);
    s.on('end', () => resolveEnd());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const lg = loggen(server.address().port);
  await Promise.all([lg.done, ended]);
  await new Promise((r) => out.end(r));
  server.close();
}

async function rawRun(captured) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-syslog-raw-'));
  try {
    migrate(dir);
    return await runChild(import.meta.url, 'raw', { dir, captured, rawBatch: O.rawBatch });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const queryN = async (client, sql) => Number((await queryOne(client, sql)).n);

/**
 * The baseline: the captured loggen stream, framed, parsed and turned into
 * the server's exact row bytes (TabSeparated) by the server's own code from
 * dist/ (as the trusted-address path does) before the clock starts; then
 * rawInsert in rawBatch-row inserts with the settings the server's insert
 * uses. The JS time of framing + parsing + rows is measured on the side.
 */
async function rawChild({ dir, captured, rawBatch }) {
  const { SyslogFramer } = await import(dist('ingest/syslog/framing.js'));
  const { parseSyslog } = await import(dist('ingest/syslog/parse.js'));
  const { syslogEvent } = await import(dist('ingest/syslog/event.js'));
  const { eventRows } = await import(dist('store/rows.js'));
  const nctxNow = await requestContext('127.0.0.1');
  const writer = randomUUID();
  const bytes = readFileSync(captured);
  const t0 = performance.now();
  const framer = new SyslogFramer(1024 * 1024);
  const inserts = [];
  let messages = 0;
  const CHUNK = 64 * 1024;
  let pending = [];
  for (let off = 0; off < bytes.length; off += CHUNK) {
    const frames = framer.push(bytes.subarray(off, off + CHUNK));
    if (frames.length === 0) continue;
    const nctx = nctxNow();
    for (const fr of frames) pending.push(syslogEvent(parseSyslog(fr.data.toString('utf8')), nctx, { attributes: {} }));
    while (pending.length >= rawBatch) {
      inserts.push(eventRows(pending.slice(0, rawBatch), TRUSTED_SOURCE, writer));
      messages += rawBatch;
      pending = pending.slice(rawBatch);
    }
  }
  const tail = nctxNow();
  for (const fr of framer.end()) pending.push(syslogEvent(parseSyslog(fr.data.toString('utf8')), tail, { attributes: {} }));
  if (pending.length > 0) {
    inserts.push(eventRows(pending, TRUSTED_SOURCE, writer));
    messages += pending.length;
  }
  const jsSeconds = (performance.now() - t0) / 1000;
  const rowBytes = inserts.reduce((a, b) => a + b.length, 0);

  const { conn, client } = await openChdb(dir);
  const settings = SERVER_INSERT_SETTINGS;
  const used = cpuMeter(process.pid);
  const t1 = performance.now();
  for (const values of inserts) await insertEventRows(conn, 'logs', values, settings);
  const wall = (performance.now() - t1) / 1000;
  const { selfCpu: cpu, threads, machineCpu } = used();
  const machineCores = machineCpu / wall;
  const stored = await queryN(client, 'SELECT count() AS n FROM logs');
  const rollup = await queryN(client, ROLLUP_COUNT);
  await client.close();
  return {
    wall, messages, eps: messages / wall, cpu, threads, machineCores, stored, rollup,
    inserts: inserts.length, rowBytesPerEvent: rowBytes / messages, jsUsPerEvent: (jsSeconds / messages) * 1e6, settings,
  };
}

// ---------------------------------------------------------------- report

function markdown(m, runs, s, startedAt, seconds, sizes) {
  const L = [];
  const cmd = `npm run build && node bench/syslog.mjs`;
  L.push('## Syslog (loggen → Sluice vs syslog-ng), OTLP and Loki ingest');
  L.push('');
  L.push(`Reproduce: \`${cmd}\` (settings: \`BENCH_MESSAGES=${O.messages} BENCH_SIZE=${O.size} BENCH_HTTP_TOTAL=${O.httpTotal} BENCH_HTTP_BATCH=${O.httpBatch} BENCH_CLIENTS=${O.clients} BENCH_RAW_BATCH=${O.rawBatch} BENCH_RUNS=${O.runs}\`). Needs \`loggen\` and \`syslog-ng\` (Debian package \`syslog-ng-core\`).`);
  L.push('');
  L.push(`Machine: ${m}; ${s.ngVersion}; run ${startedAt.toISOString()}, ${Math.round(seconds)} s in all.`);
  L.push('');
  L.push('### Targets');
  L.push('');
  L.push(
    ...table(['target', 'median', 'result'], 'lrl', [
      [`Sluice / syslog-ng, RFC 5424 over TCP from loggen ≥ ${TARGET_RATIO}`, f2(s.ratio), s.ratio >= TARGET_RATIO ? 'pass' : 'FAIL'],
      ['every message loggen sent is stored (Sluice: `logs` and the rollup; syslog-ng: file lines), every run', s.allStored ? 'yes' : 'no', s.allStored ? 'pass' : 'FAIL'],
    ]),
  );
  L.push('');
  L.push('### Medians');
  L.push('');
  L.push(
    ...table(['what', 'msg/s (events/s)'], 'lr', [
      ['syslog-ng: loggen → `syslog()` TCP source → file', k(s.ng)],
      ['Sluice `serve`: loggen → syslog TCP listener → embedded store', k(s.sluice)],
      ['raw insert of the same rows into the same table (no parsing, no server)', k(s.raw)],
      [`Sluice \`serve\`: OTLP protobuf, \`POST /v1/logs\`, ${O.httpBatch} records a request`, k(s.otlp)],
      [`Sluice \`serve\`: Loki protobuf+snappy, \`POST /loki/api/v1/push\`, ${O.httpBatch} entries a request`, k(s.loki)],
    ]),
  );
  L.push('');
  L.push(`Ratios (medians of the per-run ratios): Sluice / syslog-ng **${f2(s.ratio)}**, Sluice / raw insert ${f2(s.ratioRaw)}.`);
  L.push('');
  L.push('### Runs');
  L.push('');
  L.push(
    ...table(
      ['run', 'order', 'syslog-ng msg/s', 'Sluice msg/s', 'ratio', 'Sluice stored / sent', 'raw insert rows/s', 'OTLP events/s', 'Loki events/s'],
      'llrrrlrrr',
      runs.map((r, i) => [i + 1, r.order, k(r.ng.eps), k(r.sluice.eps), f2(r.sluice.eps / r.ng.eps), `${int(r.sluice.stored)} / ${int(r.sluice.sent)} (rollup ${int(r.sluice.rollup)})`, k(r.raw.eps), k(r.otlp.eps), k(r.loki.eps)]),
    ),
  );
  L.push('');
  L.push('Where the time goes (per run: wall seconds; loggen\'s own seconds until it had written everything to the socket; CPU-µs per message of the receiving process; cores busy machine-wide, of 2):');
  L.push('');
  L.push(
    ...table(
      ['run', 'syslog-ng wall / loggen done', 'syslog-ng CPU-µs/msg', 'machine cores', 'Sluice wall / loggen done', '`serve` CPU-µs/msg', '`serve` main JS thread CPU-µs/msg', 'machine cores', 'raw CPU-µs/row', 'Sluice inserts: count, mean rows, ms each, slot busy', 'OTLP `serve` CPU-µs/event', 'Loki `serve` CPU-µs/event'],
      'llrrlrrrrlrr',
      runs.map((r, i) => {
        const mainUs = ((r.sluice.threads.find(([n]) => n === MAIN_THREAD)?.[1] ?? NaN) / r.sluice.sent) * 1e6;
        const ins = r.sluice;
        return [
          i + 1, `${f2(r.ng.wall)} / ${f2(r.ng.sendSeconds)}`, f1((r.ng.cpu / r.ng.sent) * 1e6), f2(r.ng.machineCores), `${f2(r.sluice.wall)} / ${f2(r.sluice.sendSeconds)}`, f1((r.sluice.cpu / r.sluice.sent) * 1e6), f1(mainUs),
          f2(r.sluice.machineCores), f1((r.raw.cpu / r.raw.messages) * 1e6),
          `${int(ins.insertCount)}, ${int(ins.insertRows / ins.insertCount)}, ${int((ins.insertSeconds / ins.insertCount) * 1000)}, ${Math.round((ins.insertSeconds / ins.wall) * 100)} %`,
          f1((r.otlp.cpu / r.otlp.sent) * 1e6), f1((r.loki.cpu / r.loki.sent) * 1e6),
        ];
      }),
    ),
  );
  L.push('');
  const mr = s.medianRun;
  L.push(`\`serve\` CPU by thread in the syslog phase of run ${s.medianIndex + 1} (the median Sluice run), CPU-µs per message (thread names from /proc/<pid>/task/*/stat, one name summed):`);
  L.push('');
  L.push(
    ...table(['thread', 'CPU-µs / msg'], 'lr', [
      ...mr.sluice.threads.slice(0, 8).map(([n, v]) => [`\`${n}\``, f2((v / mr.sluice.sent) * 1e6)]),
      ['**all**', `**${f2((mr.sluice.cpu / mr.sluice.sent) * 1e6)}**`],
    ]),
  );
  L.push('');
  const rawMs = (O.rawBatch / s.raw) * 1000;
  L.push(
    `"Sluice inserts" are the batcher's inserts in the syslog phase (\`sluice_insert_rows\`, \`sluice_insert_duration_seconds\` from \`GET /metrics\`; the batcher runs one at a time, so "slot busy" near 100 % means the store is the bottleneck and throughput = mean rows / ms each). The raw baseline takes about ${int(rawMs)} ms per ${int(O.rawBatch)}-row insert.`,
  );
  L.push('');
  L.push(`In the raw child, framing + parsing + building the rows with the server's own code (dist/) took ${f1(s.rawJsUs)} µs per message on one thread (not timed in the raw rate).`);
  L.push('');
  L.push('### What the numbers mean');
  L.push('');
  L.push(
    `- **syslog-ng msg/s:** \`loggen ${loggenArgs('PORT').join(' ')}\` (RFC 5424, octet-counted framing, one TCP connection, rate unlimited in practice) into \`syslog-ng -F --no-caps\` with a generated config: a \`syslog(ip(127.0.0.1) port(PORT) transport("tcp"))\` source, a \`file()\` destination, \`flags(flow-control)\` so it slows the sender instead of dropping. ` +
      `Messages written / wall time, from loggen's start until the file holds all ${int(O.messages)} lines (its size polled every ${POLL_MS} ms; the lines are counted after syslog-ng stopped).`,
  );
  L.push(
    `- **Sluice msg/s:** the same loggen command into \`node dist/cli/main.js serve\` (fresh data dir, embedded chDB) with \`SLUICE_SYSLOG_TCP_PORT\`, \`SLUICE_SYSLOG_TRUSTED=127.0.0.1/32\` (no token needed), \`LOG_LEVEL=info\`. ` +
      `Messages stored / wall time, from loggen's start until \`sluice_events_accepted_total{source="syslog-trusted"}\` (counted once the insert holding them succeeded) reaches ${int(O.messages)} (\`GET /metrics\` polled every ${POLL_MS} ms). ` +
      'After SIGTERM a child opens the data dir and counts `sluice.logs` and what trends read (`sum(count)` of `sluice.logs_per_minute` plus the events received since the rollup watermark); both must equal what loggen reports it sent. Syslog over TCP has no acknowledgement, so a loss would only show here.',
  );
  L.push(
    `- **raw insert:** one loggen stream (the same command) captured to a file once, then in a child process: framed, parsed and turned into the server's exact row bytes (TabSeparated) by the server's own code from dist/ (\`SyslogFramer\`, \`parseSyslog\`, \`syslogEvent\`, \`eventRows\`, source \`syslog-trusted\`; ${int(s.rowBytes)} bytes a row) before the clock starts, then \`createClient({ connection: createChdbConnection({ path }) })\`, \`USE sluice\`, and \`connection.chdb.rawInsert\` in ${int(O.rawBatch)}-row inserts one after another with the server's insert settings (\`${JSON.stringify(runs[0].raw.settings)}\`), into a separately migrated data dir (same \`logs\` table and text index). Rows / insert wall time: the ceiling the store allows on this machine without any network, parsing or JavaScript work.`,
  );
  L.push(
    `- **OTLP / Loki events/s:** ${int(sizes.events)} events as ${int(sizes.events / O.httpBatch)} requests of ${O.httpBatch} (OTLP \`ExportLogsServiceRequest\` protobuf, ${int(sizes.otlpBytes / sizes.events)} bytes an event; Loki \`PushRequest\` protobuf, snappy block-compressed, ${int(sizes.lokiBytes / sizes.events)} bytes an event; one service and host per request, messages from the loghub \`*_2k.log\` samples, two attributes / structured-metadata pairs each), encoded with the server's own schemas from dist/ before the clock starts. ` +
      `${O.clients} keep-alive clients (Node \`http\`) send the next request when the previous one is answered (\`200\` / \`204\` = stored); events / wall time from the first request to the last answer. Each phase has its own fresh \`serve\`, counted after SIGTERM like the syslog phase.`,
  );
  L.push(
    '- **Order and noise:** each run does syslog-ng and Sluice syslog back to back (the order alternates between runs), then the raw baseline, OTLP and Loki. The machine has 2 cores shared by loggen, the receiver and this script (and possibly other tenants); "machine cores" is all busy CPU from /proc/stat during the phase. Medians of the runs are quoted.',
  );
  return L.join('\n');
}

// ---------------------------------------------------------------- main

async function main() {
  if (!existsSync(CLI)) throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  for (const bin of ['loggen', 'syslog-ng']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${bin} not found (Debian: apt-get install syslog-ng-core)`);
    }
  }
  const ngVersion = execFileSync('syslog-ng', ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
  const startedAt = new Date();
  const t0 = performance.now();
  log(`${machine()}; ${ngVersion}; ${O.messages} messages × ${O.runs} runs`);
  const sizes = await buildBodies();
  log(`built ${sizes.otlp.length} OTLP and ${sizes.loki.length} Loki bodies`);
  const capDir = mkdtempSync(join(tmpdir(), 'sluice-bench-syslog-cap-'));
  const captured = join(capDir, 'loggen.bin');
  const runs = [];
  try {
    await captureLoggen(captured);
    for (let i = 0; i < O.runs; i++) {
      const order = i % 2 === 0 ? 'syslog-ng first' : 'Sluice first';
      let ng;
      let sl;
      if (i % 2 === 0) {
        ng = await syslogNgRun();
        sl = await sluiceSyslogRun();
      } else {
        sl = await sluiceSyslogRun();
        ng = await syslogNgRun();
      }
      ng.eps = ng.stored / ng.wall;
      // Not all stored: the rate of what was, marked by the count check.
      sl.eps = (sl.reached ? O.messages : sl.stored) / sl.wall;
      const raw = await rawRun(captured);
      const otlp = await httpRun('otlp', sizes.otlp);
      const loki = await httpRun('loki', sizes.loki);
      const r = { order, ng, sluice: sl, raw, otlp, loki };
      runs.push(r);
      log(
        `run ${i + 1}/${O.runs} (${order}): syslog-ng ${k(ng.eps)} msg/s (${ng.stored}/${ng.sent}, ${f2(ng.wall)} s), Sluice ${k(sl.eps)} msg/s (stored ${sl.stored}/${sl.sent}, rollup ${sl.rollup}, ${f2(sl.wall)} s, loggen done ${f2(sl.sendSeconds)} s, ${f1((sl.cpu / sl.sent) * 1e6)} CPU-µs/msg), ratio ${f2(sl.eps / ng.eps)}; ` +
          `raw ${k(raw.eps)} rows/s (${raw.stored}/${raw.messages}); OTLP ${k(otlp.eps)} ev/s (stored ${otlp.stored}/${otlp.sent}); Loki ${k(loki.eps)} ev/s (stored ${loki.stored}/${loki.sent})`,
      );
    }
  } finally {
    rmSync(capDir, { recursive: true, force: true });
  }
  const ratios = runs.map((r) => r.sluice.eps / r.ng.eps);
  const sl = runs.map((r) => r.sluice.eps);
  const medSl = median(sl);
  const medianIndex = sl.reduce((best, v, i) => (Math.abs(v - medSl) < Math.abs(sl[best] - medSl) ? i : best), 0);
  const s = {
    ng: median(runs.map((r) => r.ng.eps)),
    sluice: medSl,
    raw: median(runs.map((r) => r.raw.eps)),
    otlp: median(runs.map((r) => r.otlp.eps)),
    loki: median(runs.map((r) => r.loki.eps)),
    ratio: median(ratios),
    ratioRaw: median(runs.map((r) => r.sluice.eps / r.raw.eps)),
    rawJsUs: median(runs.map((r) => r.raw.jsUsPerEvent)),
    rowBytes: runs[0].raw.rowBytesPerEvent,
    allStored: runs.every(
      (r) =>
        r.sluice.stored === r.sluice.sent && r.sluice.rollup === r.sluice.sent && r.ng.stored === r.ng.sent && r.sluice.sent === O.messages && r.ng.sent === O.messages &&
        r.raw.stored === r.raw.messages && r.otlp.stored === r.otlp.sent && r.loki.stored === r.loki.sent,
    ),
    medianRun: runs[medianIndex],
    medianIndex,
    ngVersion,
  };
  const seconds = (performance.now() - t0) / 1000;
  const section = markdown(machine(), runs, s, startedAt, seconds, sizes);
  if (O.write) {
    writeSection('syslog', 'bench/syslog.mjs', section);
    log('wrote docs/BENCHMARKS.md');
  }
  process.stdout.write(`${section}\n`);
  log(
    `medians: syslog-ng ${k(s.ng)} msg/s, Sluice ${k(s.sluice)} msg/s, ratio ${f2(s.ratio)} (${s.ratio >= TARGET_RATIO ? 'pass' : 'FAIL'}), raw ${k(s.raw)} rows/s, OTLP ${k(s.otlp)} ev/s, Loki ${k(s.loki)} ev/s; counts ${s.allStored ? 'pass' : 'FAIL'} (${Math.round(seconds)} s)`,
  );
  if (!s.allStored) process.exitCode = 1;
}

runBenchmark('syslog', main, { raw: rawChild, count: countStored });

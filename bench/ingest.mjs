#!/usr/bin/env node
// Ingest benchmark: NDJSON over HTTP into `sluice serve` (embedded chDB)
// against a baseline measured in the same run: raw `INSERT … FORMAT
// TabSeparated` of the same rows straight into chDB, into the same schema
// (the project's migrations: logs table with its text index and map column;
// the per-minute rollups are filled by serve's background job, not on insert).
//
//   npm run bench:ingest                       # defaults below, writes docs/BENCHMARKS.md
//   BENCH_TOTAL=200000 BENCH_RUNS=1 BENCH_WRITE=0 node bench/ingest.mjs   # quick look
//
// Settings (environment, or --name=value with the BENCH_ prefix dropped and
// lower case, e.g. --total=500000 --runs=5 --write=0):
//   BENCH_TOTAL         events of the coalesced phase (500-event requests)   1000000
//   BENCH_BATCH         events per request, coalesced phase                  500
//   BENCH_CLIENTS       concurrent HTTP clients, coalesced phase             32
//   BENCH_KEYED_TOTAL   events of the keyed phase (Idempotency-Key each)     200000
//   BENCH_KEYED_BATCH   events per keyed request                             10000
//   BENCH_KEYED_CLIENTS concurrent HTTP clients, keyed phase                 8
//   BENCH_RAW_BATCH     rows per raw insert of the baseline                  20000
//   BENCH_RAW_SMALL_TOTAL  rows of a diagnostic raw phase in inserts of the size
//                       the batcher makes under this load (0 = skip)        200000
//   BENCH_RAW_SMALL_BATCH  its rows per insert          CLIENTS × BATCH / 2 = 8000
//   BENCH_RUNS          repetitions; medians are quoted                      3
//   BENCH_WRITE         1 = regenerate the section in docs/BENCHMARKS.md     1
//   BENCH_KEEP          1 = keep the temp data directories                   0
//   BENCH_SEED          PRNG seed of the generated events                    42
//
// Processes: this one is only the load generator. The server is a child
// (`node dist/cli/main.js serve`), the raw baseline is a child of this same
// file (`--child=raw`), and the row count after the server stopped is one
// too (`--child=count`): one embedded data directory per process.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CLI, LOGHUB, MAIN_THREAD, ROLLUP_COUNT, SERVER_INSERT_SETTINGS, countStored, cpuMeter, insertEventRows, threadCpu, dist, flag, gitRev, intro, loghubLines, machineDetail, median, migrate,
  ndjsonBodies, BODY_SERVICES, openChdb, option, percentile, queryOne, requestContext, row, runBenchmark, runChild, scrapeMetrics, sendAll, serveEnv, stamp, startServe,
  sampleMax, statusBytes, stopServe, table, writeSection,
} from './lib.mjs';

const ADMIN_TOKEN = 'bench-admin-token-0123456789';
// The principal name the server gives SLUICE_ADMIN_TOKEN; it is the rows'
// `source`, so the baseline's rows carry the same bytes.
const SOURCE = 'admin (SLUICE_ADMIN_TOKEN)';
const DB = 'sluice';
const SMALL_DB = 'bench_small';
const GiB = 1024 ** 3;
// #17's targets.
const TARGETS = { ratio: 0.8, eventsPerSec: 150_000, rssBytes: GiB / 2, serverUs: 12, lagP99Ms: 50 };

// ---------------------------------------------------------------- options

function options() {
  const o = {
    batch: option('BATCH', 500),
    clients: option('CLIENTS', 32),
    keyedBatch: option('KEYED_BATCH', 10_000),
    keyedClients: option('KEYED_CLIENTS', 8),
    rawBatch: option('RAW_BATCH', 20_000),
    rawSmallTotal: option('RAW_SMALL_TOTAL', 200_000),
    runs: option('RUNS', 3),
    write: flag('WRITE', true),
    keep: flag('KEEP', false),
    seed: option('SEED', 42),
  };
  // Whole requests only: round the totals up to a multiple of the request size.
  o.total = Math.ceil(option('TOTAL', 1_000_000) / o.batch) * o.batch;
  o.rawSmallTotal = Math.min(o.total, o.rawSmallTotal);
  // Group commit with one insert slot splits the clients into two cohorts
  // that take turns: an insert holds about half the events in flight.
  o.rawSmallBatch = option('RAW_SMALL_BATCH', Math.max(o.batch, Math.round((o.clients * o.batch) / 2 / o.batch) * o.batch));
  o.keyedTotal = Math.ceil(option('KEYED_TOTAL', 200_000) / o.keyedBatch) * o.keyedBatch;
  return o;
}

// ---------------------------------------------------------------- events

function eventSets(o, baseMs) {
  const lines = loghubLines();
  if (lines.length === 0) throw new Error(`no *_2k.log lines under ${LOGHUB}`);
  const spanMs = 15 * 60_000;
  const main = ndjsonBodies({ lines, seed: o.seed, requests: o.total / o.batch, perRequest: o.batch, baseMs, spanMs });
  const keyed = ndjsonBodies({ lines, seed: o.seed + 1, requests: o.keyedTotal / o.keyedBatch, perRequest: o.keyedBatch, baseMs, spanMs });
  return { lines: lines.length, main, keyed };
}

// ---------------------------------------------------------------- HTTP load

/**
 * Sends `bodies` of `perRequest` events each from `clients` concurrent
 * keep-alive clients, every request with its own Idempotency-Key when
 * `keyPrefix` is given; each answer must accept every event.
 */
async function sendBodies(address, bodies, perRequest, clients, keyPrefix) {
  const base = { 'Content-Type': 'application/x-ndjson', Authorization: `Bearer ${ADMIN_TOKEN}` };
  const latencies = [];
  let accepted = 0;
  const { wall, retries } = await sendAll({
    url: address,
    path: '/api/v1/ingest',
    bodies,
    clients,
    headers: (i) => (keyPrefix === undefined ? base : { ...base, 'Idempotency-Key': `${keyPrefix}-${i}` }),
    answered: (r, i, ms) => {
      latencies.push(ms);
      const a = JSON.parse(r.body.toString('utf8'));
      if (a.accepted !== perRequest || a.rejected !== 0) throw new Error(`request ${i}: ${r.body.toString('utf8').slice(0, 300)}`);
      accepted += a.accepted;
    },
  });
  return { wall, accepted, retries, p50ms: percentile(latencies, 0.5), p99ms: percentile(latencies, 0.99) };
}

// ---------------------------------------------------------------- /metrics

/** Insert sizes and busy time the batcher made between two scrapes. */
function insertStats(before, after) {
  const d = (k) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
  const count = d('sluice_insert_rows_count');
  const sum = d('sluice_insert_rows_sum');
  const buckets = [];
  let prev = 0;
  let prevLe = 0;
  for (const [k] of after) {
    const m = /^sluice_insert_rows_bucket\{le="([^"]+)"\}$/.exec(k);
    if (!m) continue;
    const cum = d(k);
    const n = cum - prev;
    if (n > 0) buckets.push({ range: m[1] === '+Inf' ? `> ${prevLe}` : `${prevLe === 0 ? 1 : prevLe + 1}–${m[1]}`, n });
    prev = cum;
    prevLe = m[1] === '+Inf' ? prevLe : Number(m[1]);
  }
  const busy = d('sluice_insert_duration_seconds_sum{ok="true"}') + d('sluice_insert_duration_seconds_sum{ok="false"}');
  const failed = d('sluice_insert_duration_seconds_count{ok="false"}');
  return { count, sum, mean: count > 0 ? sum / count : 0, buckets, busy, failed };
}

/**
 * Main-thread health from prom-client's default metrics: event-loop lag
 * (its histogram is reset at every scrape, so the after-phase scrape covers
 * the phase; the values include the 10 ms sampling interval, taken off
 * here) and garbage-collection pause time.
 */
function loopStats(before, after) {
  const lag = (q) => Math.max(0, (after.get(`sluice_nodejs_eventloop_lag_${q}_seconds`) ?? NaN) - 0.01) * 1000;
  let gc = 0;
  for (const [key, v] of after) if (key.startsWith('sluice_nodejs_gc_duration_seconds_sum{')) gc += v - (before.get(key) ?? 0);
  return { p50ms: lag('p50'), p99ms: lag('p99'), maxMs: lag('max'), gcSeconds: gc };
}

// ---------------------------------------------------------------- one run

async function httpRun(o, sets, tag) {
  const dir = mkdtempSync(join(os.tmpdir(), 'sluice-bench-http-'));
  try {
    const server = await startServe(dir, { SLUICE_ADMIN_TOKEN: ADMIN_TOKEN });
    const { pid } = server;
    // Anonymous memory apart: about 220 MiB of serve's RSS is the engine
    // library's code, mapped from its file (clean pages the kernel can drop).
    const anonPeak = sampleMax(() => statusBytes(pid, 'RssAnon'));
    const m0 = await scrapeMetrics(server.url);
    const phase = async (bodies, perRequest, clients, keyPrefix, settleMerges = false) => {
      const before = await scrapeMetrics(server.url);
      const used = cpuMeter(pid);
      const r = await sendBodies(server.url, bodies, perRequest, clients, keyPrefix);
      const { cpu: serverCpu, threads, selfCpu, machineCpu, seconds } = used();
      const after = await scrapeMetrics(server.url);
      // The merges of the phase's parts go on after its last answer: count
      // them too, as the raw baseline does (settledUsPerEvent).
      const settledCpu = settleMerges ? (await settleServe(pid), used().cpu) : NaN;
      const serverCores = serverCpu / r.wall;
      const loadgenCores = selfCpu / r.wall;
      return {
        ...r,
        eps: r.accepted / r.wall,
        serverCores,
        serverUsPerEvent: (serverCpu / r.accepted) * 1e6,
        settledUsPerEvent: (settledCpu / r.accepted) * 1e6,
        loadgenCores,
        // Busy CPU no process of this benchmark used: other tenants of the
        // machine (their processes are not visible here, /proc/stat is).
        otherCores: Math.max(0, machineCpu / seconds - serverCores - loadgenCores),
        threads,
        inserts: insertStats(before, after),
        loop: loopStats(before, after),
      };
    };
    const main = await phase(sets.main.bodies, o.batch, o.clients, undefined, true);
    main.peakRssBytes = statusBytes(pid, 'VmHWM');
    const keyed = o.keyedTotal > 0 ? await phase(sets.keyed.bodies, o.keyedBatch, o.keyedClients, `bench-${tag}`) : undefined;
    const hwm = statusBytes(pid, 'VmHWM');
    const peakAnonBytes = anonPeak();
    const rss = statusBytes(pid, 'VmRSS');
    const m1 = await scrapeMetrics(server.url);
    const ex = await stopServe(server);
    const stopSeconds = ex.seconds;
    if (ex.code !== 0) throw new Error(`serve exited ${ex.code ?? ex.signal} on SIGTERM: ${server.stderr()}`);
    const counted = await runChild(import.meta.url, 'count', { dir });
    return {
      main,
      keyed,
      peakRssBytes: hwm,
      peakAnonBytes,
      endRssBytes: rss,
      stopSeconds,
      stored: counted.logs,
      rollup: counted.rollup,
      expected: o.total + o.keyedTotal,
      accepted503: (m1.get('sluice_unavailable_total{code="SLUICE_ERR_OVERLOADED"}') ?? 0) - (m0.get('sluice_unavailable_total{code="SLUICE_ERR_OVERLOADED"}') ?? 0),
    };
  } finally {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

async function rawRun(o, baseMs) {
  const dir = mkdtempSync(join(os.tmpdir(), 'sluice-bench-raw-'));
  try {
    migrate(dir, { SLUICE_ADMIN_TOKEN: ADMIN_TOKEN });
    const r = await runChild(import.meta.url, 'raw', { dir, o, baseMs });
    return { ...r, expected: o.total + o.keyedTotal };
  } finally {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- child: raw

/**
 * The baseline: the same events, turned into the server's exact row bytes
 * by the server's own decoder and row writer (dist/), before the clock
 * starts; then inserted with rawInsert in `rawBatch`-row inserts with the
 * settings the server's insert uses. The keyed set goes in as one insert
 * per request with a dedup token, as the server inserts it.
 */
async function rawChild({ dir, o, baseMs }) {
  const { decodeBody } = await import(dist('ingest/decode-json.js'));
  const { eventRows } = await import(dist('store/rows.js'));
  const nctxNow = await requestContext('');
  const sets = eventSets(o, baseMs);
  const writer = randomUUID();
  // The server's per-request JS work, timed here on one thread as a side
  // result: decode + normalize, then row bytes. Only requests 50-149 of the
  // main set count: after 50 requests of JIT warm-up, and while the heap is
  // still small as in the server (this process keeps every row, and later
  // GC would inflate the numbers).
  const js = { decodeSeconds: 0, rowsSeconds: 0, events: 0 };
  const TIMED = [50, 150];
  let timing = true;
  const toRows = (bodies) =>
    bodies.map((b, i) => {
      const t0 = performance.now();
      const d = decodeBody('ndjson', b, nctxNow(), 1024 * 1024);
      const t1 = performance.now();
      if (d.rejections.length > 0) throw new Error(`baseline decode: ${JSON.stringify(d.rejections[0])}`);
      const rows = eventRows(d.events, SOURCE, writer);
      if (timing && i >= TIMED[0] && i < TIMED[1]) {
        js.decodeSeconds += (t1 - t0) / 1000;
        js.rowsSeconds += (performance.now() - t1) / 1000;
        js.events += d.events.length;
      }
      return rows;
    });
  // Coalesce request row-chunks into inserts of rawBatch rows, as the batcher would.
  const group = (chunks, perChunk, rows) => {
    const per = Math.max(1, Math.round(rows / perChunk));
    const out = [];
    for (let i = 0; i < chunks.length; i += per) out.push(Buffer.concat(chunks.slice(i, i + per)));
    return out;
  };
  const mainChunks = toRows(sets.main.bodies);
  timing = false;
  const mainInserts = group(mainChunks, o.batch, o.rawBatch);
  // Diagnostic: the first rows again, in inserts of the size the batcher
  // makes under this load (about half the events in flight).
  const smallChunks = mainChunks.slice(0, Math.ceil(o.rawSmallTotal / o.batch));
  const smallInserts = o.rawSmallTotal > 0 ? group(smallChunks, o.batch, o.rawSmallBatch) : [];
  const keyedInserts = toRows(sets.keyed.bodies);
  const rowBytes = mainInserts.reduce((a, b) => a + b.length, 0);
  sets.main.bodies.length = 0;
  sets.keyed.bodies.length = 0;

  const { conn, client } = await openChdb(dir, DB);
  const version = (await queryOne(client, 'SELECT version() AS v')).v;
  const settings = SERVER_INSERT_SETTINGS;
  const phase = async (inserts, tokenOf, table = 'logs', settleMerges = false) => {
    const used = cpuMeter(process.pid);
    const t0 = performance.now();
    let rows = 0;
    let elapsed = 0;
    for (let i = 0; i < inserts.length; i++) {
      const s = tokenOf === undefined ? settings : { ...settings, insert_deduplicate: 1, insert_deduplication_token: tokenOf(i) };
      const r = await insertEventRows(conn, table, inserts[i], s);
      rows += r.rowsWritten ?? 0;
      elapsed += r.elapsed ?? NaN;
    }
    const wall = (performance.now() - t0) / 1000;
    const { selfCpu: cpu, threads, machineCpu, seconds } = used();
    const n = inserts.reduce((a, b) => a + countLines(b), 0);
    // The merges its parts still need, as the server's phase counts them.
    const settledCpu = settleMerges ? (await settle(client), used().selfCpu) : NaN;
    return {
      wall, rows: n, rowsWritten: rows, eps: n / wall, cores: cpu / wall, usPerRow: (cpu / n) * 1e6, settledUsPerRow: (settledCpu / n) * 1e6, inserts: inserts.length,
      otherCores: Math.max(0, machineCpu / seconds - cpu / wall), threads,
      // chDB's own time for the inserts, against the wall time JS saw.
      engineShare: elapsed / wall,
    };
  };
  // The diagnostic small-insert phase goes first, into a database of its
  // own with the same migrations, so both it and the main phase start on an
  // empty table; the main phase waits until its merges are done.
  let small;
  let smallStored;
  if (smallInserts.length > 0) {
    const { loadMigrations } = await import(dist('store/migrate.js'));
    const { nowNs } = await import(dist('model/time.js'));
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${SMALL_DB}` });
    await client.command({ query: `USE ${SMALL_DB}` });
    for (const mig of loadMigrations()) {
      for (const statement of mig.statements) {
        // As src/store/migrate.ts runs them: a statement that needs "now" names {now_ns:UInt64}.
        const params = statement.includes('{now_ns:') ? { query_params: { now_ns: nowNs().toString() } } : {};
        await client.command({ query: statement, ...params });
      }
    }
    await client.command({ query: `USE ${DB}` });
    small = await phase(smallInserts, undefined, `${SMALL_DB}.logs`);
    smallStored = Number((await queryOne(client, `SELECT count() AS n FROM ${SMALL_DB}.logs`)).n);
    await settle(client);
  }
  const main = await phase(mainInserts, undefined, 'logs', true);
  const keyed = keyedInserts.length > 0 ? await phase(keyedInserts, (i) => createHash('sha256').update(`bench-raw-${writer}-${i}`).digest('hex')) : undefined;
  const logs = Number((await queryOne(client, 'SELECT count() AS n FROM logs')).n);
  const rollup = Number((await queryOne(client, ROLLUP_COUNT)).n);
  const peakRssBytes = statusBytes(process.pid, 'VmHWM');
  await client.close();
  return {
    version, main, small, smallStored, keyed, stored: logs, rollup, rowBytesPerEvent: rowBytes / o.total, peakRssBytes, settings,
    decodeUsPerEvent: (js.decodeSeconds / js.events) * 1e6, rowsUsPerEvent: (js.rowsSeconds / js.events) * 1e6,
  };
}

/** Waits (up to a minute) until no merge has run for 300 ms (one idle moment can fall between two merges). */
async function settle(client) {
  let idle = 0;
  for (let i = 0; i < 600 && idle < 3; i++) {
    idle = Number((await queryOne(client, 'SELECT count() AS n FROM system.merges')).n) === 0 ? idle + 1 : 0;
    await sleep(100);
  }
}

/** The same for `serve`, seen from outside: waits (up to a minute) until its merge threads used no CPU for a second. */
async function settleServe(pid) {
  const merging = () => [...threadCpu(pid).values()].filter((t) => t.comm.startsWith('MergeMutate')).reduce((a, t) => a + t.cpu, 0);
  let last = merging();
  let idle = 0;
  for (let i = 0; i < 240 && idle < 4; i++) {
    await sleep(250);
    const now = merging();
    idle = now - last < 0.005 ? idle + 1 : 0;
    last = now;
  }
}

function countLines(b) {
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
}

// ---------------------------------------------------------------- report

const k = (n) => (Number.isFinite(n) ? `${Math.round(n / 1000).toLocaleString('en-US')}k` : '—');
const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const f2 = (n) => (Number.isFinite(n) ? n.toFixed(2) : '—');
const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : '—');
const mib = (n) => (Number.isFinite(n) ? `${Math.round(n / 1024 / 1024)} MiB` : '—');
const pass = (ok) => (ok ? '**pass**' : '**FAIL**');

function summarize(runs) {
  const ok = (r) =>
    r.http.stored === r.http.expected && r.raw.stored === r.raw.expected && r.http.rollup === r.http.expected && r.raw.rollup === r.raw.expected &&
    (r.raw.small === undefined || r.raw.smallStored === r.raw.small.rows);
  const med = (f) => median(runs.map(f));
  return {
    httpEps: med((r) => r.http.main.eps),
    rawEps: med((r) => r.raw.main.eps),
    ratio: med((r) => r.http.main.eps / r.raw.main.eps),
    keyedEps: med((r) => r.http.keyed?.eps),
    rawKeyedEps: med((r) => r.raw.keyed?.eps),
    keyedRatio: med((r) => (r.http.keyed && r.raw.keyed ? r.http.keyed.eps / r.raw.keyed.eps : NaN)),
    rawSmallEps: med((r) => r.raw.small?.eps),
    rss: med((r) => r.http.peakRssBytes),
    anon: med((r) => r.http.peakAnonBytes),
    rssMain: med((r) => r.http.main.peakRssBytes),
    maxRss: Math.max(...runs.map((r) => r.http.peakRssBytes ?? 0)),
    meanInsert: med((r) => r.http.main.inserts.mean),
    insertMs: med((r) => (r.http.main.inserts.busy / r.http.main.inserts.count) * 1000),
    serverCores: med((r) => r.http.main.serverCores),
    serverUs: med((r) => r.http.main.serverUsPerEvent),
    serverSettledUs: med((r) => r.http.main.settledUsPerEvent),
    rawSettledUs: med((r) => r.raw.main.settledUsPerRow),
    loadgenCores: med((r) => r.http.main.loadgenCores),
    otherCores: med((r) => r.http.main.otherCores),
    rawCores: med((r) => r.raw.main.cores),
    rawUs: med((r) => r.raw.main.usPerRow),
    rawSmallUs: med((r) => r.raw.small?.usPerRow),
    rawEngineShare: med((r) => r.raw.main.engineShare),
    rawOtherCores: med((r) => r.raw.main.otherCores),
    insertBusy: med((r) => r.http.main.inserts.busy / r.http.main.wall),
    mainThreadUs: med((r) => mainThreadUs(r.http.main)),
    mainThreadBusy: med((r) => (mainThreadUs(r.http.main) * r.http.main.accepted) / 1e6 / r.http.main.wall),
    lagP99: med((r) => r.http.main.loop.p99ms),
    lagMax: med((r) => r.http.main.loop.maxMs),
    gcUs: med((r) => (r.http.main.loop.gcSeconds / r.http.main.accepted) * 1e6),
    decodeUs: med((r) => r.raw.decodeUsPerEvent),
    rowsUs: med((r) => r.raw.rowsUsPerEvent),
    retries: runs.reduce((a, r) => a + r.http.main.retries + (r.http.keyed?.retries ?? 0), 0),
    allCorrect: runs.every(ok),
    ok,
  };
}

function mainThreadUs(phase) {
  const t = phase.threads.find(([name]) => name === MAIN_THREAD);
  return t ? (t[1] / phase.accepted) * 1e6 : NaN;
}

function markdown(o, m, sets, runs, s, startedAt, seconds, passthrough) {
  const medianRun = [...runs].sort((a, b) => a.http.main.eps / a.raw.main.eps - b.http.main.eps / b.raw.main.eps)[Math.floor((runs.length - 1) / 2)];
  const pct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)} %` : '—');
  const rev = gitRev();
  const L = intro(
    '## Ingest: NDJSON over HTTP vs raw insert into the same schema',
    `Measured ${stamp(startedAt)} UTC: ${runs.length} runs, ${Math.round(seconds)} s in all` + (rev ? ` (commit ${rev})` : '') + '. Reproduce with:',
    [
      'npm run build && npm run bench:ingest',
      `# = BENCH_TOTAL=${o.total} BENCH_BATCH=${o.batch} BENCH_CLIENTS=${o.clients} BENCH_KEYED_TOTAL=${o.keyedTotal} BENCH_KEYED_BATCH=${o.keyedBatch} BENCH_KEYED_CLIENTS=${o.keyedClients} \\`,
      `#   BENCH_RAW_BATCH=${o.rawBatch} BENCH_RAW_SMALL_TOTAL=${o.rawSmallTotal} BENCH_RAW_SMALL_BATCH=${o.rawSmallBatch} BENCH_RUNS=${o.runs} node bench/ingest.mjs`,
    ],
    passthrough.length > 0 ? `**Server settings changed from the defaults for this measurement:** ${passthrough.map((v) => `\`${v}\``).join(', ')}.` : 'The server ran with its default settings (no `SLUICE_*` tuning).',
    `**Machine:** ${m.nproc} CPUs (${m.model}${m.mhz ? `, ${Math.round(Number(m.mhz))} MHz` : ''}), ${mib(m.memBytes)} RAM, ${m.kernel}, Node ${m.node}, chdb ${m.chdb} (ClickHouse ${runs[0].raw.version}). ` +
      `A shared, noisy virtual machine: other tenants' load (busy CPU in /proc/stat that no process of this benchmark used) was a median ${f2(s.otherCores)} cores during the HTTP runs and ${f2(s.rawOtherCores)} during the raw ones; throughput is quoted as the median of the runs, and CPU per event (less sensitive to the noise) beside it.`,
  );
  L.push('### Medians and targets');
  L.push('');
  L.push(
    ...table(['measure', 'median', 'target', ''], 'lrrl', [
      [`HTTP ingest, ${o.batch}-event requests × ${o.clients} clients`, `${k(s.httpEps)} events/s`, '≥ 150k events/s', pass(s.httpEps >= TARGETS.eventsPerSec)],
      [`raw \`rawInsert\` baseline, ${int(o.rawBatch)}-row inserts, same schema`, `${k(s.rawEps)} events/s`, '', ''],
      ['ratio HTTP / raw (median of the per-run ratios)', f2(s.ratio), `≥ ${f2(TARGETS.ratio)}`, pass(s.ratio >= TARGETS.ratio)],
      ['`serve` CPU-µs per event, all threads, during the phase', f1(s.serverUs), `≤ ${TARGETS.serverUs}`, pass(s.serverUs <= TARGETS.serverUs)],
      ['CPU ratio: raw CPU-µs per row / `serve` CPU-µs per event, during the phase (less sensitive to the machine\'s noise)', `${f2(s.rawUs / s.serverUs)} (${f1(s.rawUs)} / ${f1(s.serverUs)})`, '', ''],
      ['the same, each counted until the merges of its parts stopped (settled)', `${f2(s.rawSettledUs / s.serverSettledUs)} (${f1(s.rawSettledUs)} / ${f1(s.serverSettledUs)})`, '', ''],
      ['`serve` event-loop lag p99 (coalesced phase)', `${int(s.lagP99)} ms`, `≤ ${TARGETS.lagP99Ms} ms`, pass(s.lagP99 <= TARGETS.lagP99Ms)],
      ['server peak RSS (VmHWM of `serve` at the end of the run)', `${mib(s.rss)} (max ${mib(s.maxRss)}; ${mib(s.rssMain)} after the coalesced phase, before the keyed one; anonymous memory at most ${mib(s.anon)}, sampled every 100 ms, the rest is mostly the engine library's code mapped from its file)`, `≤ ${mib(TARGETS.rssBytes)}`, pass(s.maxRss <= TARGETS.rssBytes)],
      ['rows per insert the batcher made (mean)', int(s.meanInsert), '', ''],
      ...(o.keyedTotal > 0
        ? [
            [`HTTP ingest, ${int(o.keyedBatch)}-event requests with an \`Idempotency-Key\` each × ${o.keyedClients} clients`, `${k(s.keyedEps)} events/s`, '', ''],
            [`raw baseline, one ${int(o.keyedBatch)}-row insert per dedup token`, `${k(s.rawKeyedEps)} events/s`, '', ''],
            ['keyed ratio HTTP / raw', f2(s.keyedRatio), '', ''],
          ]
        : []),
      ['stored rows and rollup sums = events sent, every run, both stores', s.allCorrect ? 'yes' : '**NO**', 'equal', pass(s.allCorrect)],
    ]),
  );
  L.push('');
  if (s.rawEps < TARGETS.eventsPerSec) {
    L.push(`The raw baseline itself, one ${int(o.rawBatch)}-row insert at a time into this schema, stays below 150k events/s on this machine (median ${k(s.rawEps)}): ` +
      'reaching the absolute target here takes more than one insert at a time, besides a much cheaper HTTP path.');
    L.push('');
  }
  const runName = (r, i) => `${i + 1}${r.order === 'raw-first' ? ' ᵣ' : ''}`;
  L.push('### Runs: throughput');
  L.push('');
  L.push(
    ...table(
      ['run', 'HTTP events/s', 'raw events/s', 'ratio', 'keyed HTTP', 'keyed raw', 'keyed ratio', `raw, ${int(o.rawSmallBatch)}-row inserts`, 'server peak RSS', 'inserts (mean rows)', 'request p50 / p99 ms', 'stored / sent'],
      'rrrrrrrrrrrl',
      [
        ...runs.map((r, i) => {
          const h = r.http.main;
          return [
            runName(r, i), k(h.eps), k(r.raw.main.eps), f2(h.eps / r.raw.main.eps), k(r.http.keyed?.eps), k(r.raw.keyed?.eps), f2(r.http.keyed && r.raw.keyed ? r.http.keyed.eps / r.raw.keyed.eps : NaN),
            k(r.raw.small?.eps), mib(r.http.peakRssBytes), `${int(h.inserts.count)} (${int(h.inserts.mean)})`, `${Math.round(h.p50ms)} / ${Math.round(h.p99ms)}`,
            `${int(r.http.stored)} / ${int(r.http.expected)} HTTP, ${int(r.raw.stored)} / ${int(r.raw.expected)} raw ${s.ok(r) ? '✓' : '✗'}`,
          ];
        }),
        ['**median**', `**${k(s.httpEps)}**`, `**${k(s.rawEps)}**`, `**${f2(s.ratio)}**`, k(s.keyedEps), k(s.rawKeyedEps), f2(s.keyedRatio), k(s.rawSmallEps), `**${mib(s.rss)}**`, `(${int(s.meanInsert)})`, '', ''],
      ],
    ),
  );
  L.push('');
  L.push('### Runs: CPU (coalesced phase)');
  L.push('');
  L.push(
    ...table(
      ['run', '`serve` cores', '`serve` CPU-µs / event', 'settled', 'of which main JS thread', 'main JS thread busy', 'event-loop lag p99 / max ms', 'GC pause µs / event', 'load generator cores', 'insert slot busy', 'mean insert ms', 'raw cores', 'raw CPU-µs / row', 'settled', 'raw CPU-µs / row, small inserts', 'other tenants\' cores, HTTP / raw'],
      'rrrrrrrrrrrrrrrr',
      [
        ...runs.map((r, i) => {
          const h = r.http.main;
          return [
            runName(r, i), f2(h.serverCores), f1(h.serverUsPerEvent), f1(h.settledUsPerEvent), f1(mainThreadUs(h)), pct((mainThreadUs(h) * h.accepted) / 1e6 / h.wall), `${int(h.loop.p99ms)} / ${int(h.loop.maxMs)}`, f1((h.loop.gcSeconds / h.accepted) * 1e6),
            f2(h.loadgenCores), pct(h.inserts.busy / h.wall), int((h.inserts.busy / h.inserts.count) * 1000), f2(r.raw.main.cores), f1(r.raw.main.usPerRow), f1(r.raw.main.settledUsPerRow), f1(r.raw.small?.usPerRow), `${f2(h.otherCores)} / ${f2(r.raw.main.otherCores)}`,
          ];
        }),
        ['**median**', f2(s.serverCores), f1(s.serverUs), f1(s.serverSettledUs), f1(s.mainThreadUs), pct(s.mainThreadBusy), `${int(s.lagP99)} / ${int(s.lagMax)}`, f1(s.gcUs), f2(s.loadgenCores), pct(s.insertBusy), int(s.insertMs), f2(s.rawCores), f1(s.rawUs), f1(s.rawSettledUs), f1(s.rawSmallUs), `${f2(s.otherCores)} / ${f2(s.rawOtherCores)}`],
      ],
    ),
  );
  L.push('');
  L.push('ᵣ = the raw baseline ran before the HTTP run in that repetition (the order alternates). ' +
    '"cores" = CPU seconds (all threads; /proc/<pid>/stat, or `process.cpuUsage()` in the raw child) per wall second of the phase. ' +
    '"settled" = the CPU of the phase and of what followed it until the merges of its parts stopped (`serve`: its `MergeMutate` threads idle for a second; raw: `system.merges` empty for 300 ms), per event: the phase\'s clock stops at its last answer, while the parts it wrote are still being merged, and a shorter phase leaves more of its merges outside its clock. ' +
    '"main JS thread busy" = its CPU seconds per wall second (100 % = one core, all it can use). ' +
    '"event-loop lag" and "GC pause" come from the server\'s own default metrics (`sluice_nodejs_eventloop_lag_*`, minus the 10 ms sampling interval; `sluice_nodejs_gc_duration_seconds`). ' +
    '"insert slot busy" = seconds the batcher spent inside inserts (`sluice_insert_duration_seconds_sum`) per wall second; the batcher runs one insert at a time (`SLUICE_INSERT_CONCURRENCY=1`), so 100 % means requests queue behind it. The batcher times an insert from its start until its promise resumes on the main thread, so this includes waiting for the event loop. ' +
    `"small inserts" = the diagnostic raw phase: the first ${int(o.rawSmallTotal)} rows, in ${int(o.rawSmallBatch)}-row inserts (about the size the batcher makes under this load), into a fresh copy of the schema in another database of the raw data directory, before the main raw phase.`);
  L.push('');
  const ins = medianRun.http.main.inserts;
  L.push(`### Insert sizes the batcher made (coalesced phase of the median run: ${int(ins.count)} inserts, ${int(ins.sum)} rows, mean ${int(ins.mean)})`);
  L.push('');
  L.push('From the server\'s `sluice_insert_rows` histogram (`GET /metrics`), scraped before and after the phase.');
  L.push('');
  L.push(...table(['rows per insert', 'inserts'], 'lr', ins.buckets.map((b) => [b.range, int(b.n)])));
  if (medianRun.http.keyed) {
    const ki = medianRun.http.keyed.inserts;
    L.push('');
    L.push(`Keyed phase: ${int(ki.count)} inserts, mean ${int(ki.mean)} rows (one request per insert, as designed).`);
  }
  L.push('');
  L.push('### Where the time goes');
  L.push('');
  const storeBound = s.insertBusy >= 0.9;
  const rawInsertMs = (o.rawBatch / s.rawEps) * 1000;
  L.push(
    `- The insert slot was busy ${pct(s.insertBusy)} of the time: ` +
      (storeBound
        ? `requests queue behind the one running insert, so HTTP throughput is rows per insert / insert time: ${int(s.meanInsert)} rows in ${int(s.insertMs)} ms (${k((s.meanInsert / s.insertMs) * 1000)} rows/s), where the raw baseline takes ${int(rawInsertMs)} ms for ${int(o.rawBatch)} rows (${k(s.rawEps)} rows/s).`
        : 'the store was idle part of the time, so the requests did not arrive fast enough (JS work in `serve` or the load generator).'),
  );
  L.push(
    `- The main JS thread of \`serve\` was busy ${pct(s.mainThreadBusy)} of a core, with event-loop lag p99 ${int(s.lagP99)} ms (max ${int(s.lagMax)} ms) and ${f1(s.gcUs)} µs of GC pause per event. ` +
      'An insert\'s completion, and with it the start of the next insert, waits behind whatever JS work is queued (decoding the requests that arrived meanwhile), and that wait counts as insert time above. ' +
      `(For comparison, in the raw child, whose event loop is idle, chDB's own reported insert time (\`rawInsert\`'s \`elapsed\`) is ${pct(s.rawEngineShare)} of the wall time JS sees.)`,
  );
  L.push(
    `- CPU per event: \`serve\` ${f1(s.serverUs)} CPU-µs (HTTP, decode, normalize, row bytes, insert, background merges) against ${f1(s.rawUs)} CPU-µs per row for the raw insert of the same rows (insert and merges only) — ` +
      `the same 2 cores go ${f1(s.serverUs / s.rawUs)}× as far on the raw path. ` +
      `The main JS thread of \`serve\` used ${f1(s.mainThreadUs)} CPU-µs per event; measured on one thread in the baseline child on requests 51–150 of the same bodies (warm, small heap), the server's \`decodeBody\` (JSON.parse + normalize) takes ${f1(s.decodeUs)} µs per event and \`eventRows\` (row bytes) ${f1(s.rowsUs)} µs, the rest is HTTP, fastify, GC and batching.`,
  );
  L.push(
    `- Insert size: the raw path costs ${f1(s.rawSmallUs)} CPU-µs per row in ${int(o.rawSmallBatch)}-row inserts against ${f1(s.rawUs)} in ${int(o.rawBatch)}-row inserts. ` +
      `With ${o.clients} clients × ${o.batch} events there are at most ${int(o.clients * o.batch)} events in flight, and group commit with one insert slot splits the clients into two cohorts taking turns, so inserts hold about half of that.`,
  );
  L.push(`- The load generator used ${f2(s.loadgenCores)} cores: not the bottleneck, though it shares the machine with the server.`);
  L.push('');
  L.push(`CPU by thread, median run (thread names from /proc/<pid>/task/*/stat, threads of one name summed; the JS main thread apart). CPU-µs per event (\`serve\`) and per row (raw ${int(o.rawBatch)}-row inserts):`);
  L.push('');
  L.push(...table(['thread', '`serve` CPU-µs / event', 'raw CPU-µs / row'], 'lrr'));
  const h = medianRun.http.main;
  const rw = medianRun.raw.main;
  const sv = new Map(h.threads.map(([n, v]) => [n, (v / h.accepted) * 1e6]));
  const rv = new Map(rw.threads.map(([n, v]) => [n, (v / rw.rows) * 1e6]));
  const names = [...new Set([...sv.keys(), ...rv.keys()])].sort((a, b) => (sv.get(b) ?? 0) + (rv.get(b) ?? 0) - (sv.get(a) ?? 0) - (rv.get(a) ?? 0));
  let restS = 0;
  let restR = 0;
  names.forEach((n, i) => {
    if (i < 8) L.push(row(`\`${n}\``, f2(sv.get(n) ?? 0), f2(rv.get(n) ?? 0)));
    else {
      restS += sv.get(n) ?? 0;
      restR += rv.get(n) ?? 0;
    }
  });
  if (names.length > 8) L.push(row(`(${names.length - 8} other name${names.length - 8 === 1 ? '' : 's'})`, f2(restS), f2(restR)));
  L.push(row('**all threads**', `**${f2([...sv.values()].reduce((a, b) => a + b, 0))}**`, `**${f2([...rv.values()].reduce((a, b) => a + b, 0))}**`));
  L.push('');
  L.push('`node` = Node\'s own helper threads (V8\'s platform workers, mostly garbage collection, and libuv\'s pool); they are near zero in the raw child, whose JavaScript is idle while chDB inserts. The other names are chDB\'s (ClickHouse) threads; `MergeMutate` is background merging of the parts the inserts wrote.');
  L.push('');
  L.push('### Method');
  L.push('');
  L.push(`- **Data:** ${int(o.total)} events in ${int(o.total / o.batch)} requests of ${o.batch} (${int(sets.main.bytes / o.total)} bytes of NDJSON per event on average, ${int(medianRun.raw.rowBytesPerEvent)} bytes as the server's row to insert, TabSeparated), plus ${int(o.keyedTotal)} events in ${int(o.keyedTotal / o.keyedBatch)} requests of ${int(o.keyedBatch)}. ` +
    `Rows are generated from the ${int(sets.lines)} lines of the loghub \`*_2k.log\` samples (/work/shared/datasets/loghub: Android, Apache, HDFS, HealthApp, Linux, OpenSSH, Spark, Zookeeper) as the \`msg\`, with shifted times (spread over the 15 minutes before the run) and fresh ids (UUIDv7, given by the server), a service among ${BODY_SERVICES.length} names, a host, a level (72 % info … 1 % fatal), and an HTTP status and a path as attributes. ` +
    'All request bodies are built before the clock starts.');
  L.push(`- **HTTP run:** \`node dist/cli/main.js migrate\`, then \`serve\` as a child process (\`PORT=0 HOST=127.0.0.1 LOG_LEVEL=info\`, embedded store in a fresh temp directory). ` +
    `${o.clients} clients (Node \`http\`, keep-alive agent) each send the next request as soon as the previous one is answered; the clock runs from the first request to the last answer, and a request is answered only after the insert holding its events succeeded. ` +
    `Then the keyed phase: ${o.keyedClients} clients send ${int(o.keyedBatch)}-event requests, each with its own \`Idempotency-Key\` (inserted one request per insert, the key as dedup token). A 503 would be retried after Retry-After and counted; there were ${int(s.retries)}.`);
  L.push(`- **Raw baseline:** the same events into a second temp data directory migrated the same way (same \`logs\` table with its text index and map column; no views: serve fills the rollups in a background job), in a separate child process: \`createClient({ connection: createChdbConnection({ path }) })\`, \`USE sluice\`; the rows are turned into the server's exact row bytes (TabSeparated) by the server's own decoder and row writer from \`dist/\` before the clock starts, then \`connection.chdb.rawInsert({ table: 'logs', columns, values: Buffer, format: 'TabSeparated', settings })\` in ${int(o.rawBatch)}-row inserts, one after another, with the settings the server's insert uses (\`${JSON.stringify(runs[0].raw.settings)}\`). ` +
    `Before it, the diagnostic small-insert phase into its own database (then it waits until \`system.merges\` is empty); after it, the keyed set as one ${int(o.keyedBatch)}-row insert per \`insert_deduplication_token\`.`);
  L.push('- **Check:** after SIGTERM (the server drains and exits 0) a child process opens the data directory and counts `sluice.logs` and what trends read: `sum(count)` of `sluice.logs_per_minute` plus the events received since the rollup watermark; both must equal the events sent. The baseline is counted the same way.');
  L.push('- **Same machine:** the load generator runs on the same 2 cores as the server and competes with it for CPU (its share is in the CPU table); the raw baseline has no such competitor.');
  return L.join('\n');
}

// ---------------------------------------------------------------- main

function log(msg) {
  process.stderr.write(`[bench:ingest] ${msg}\n`);
}

async function main() {
  if (!existsSync(CLI)) throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  if (process.env.CLICKHOUSE_URL) throw new Error('CLICKHOUSE_URL is set: this benchmark measures the embedded store; unset it');
  const o = options();
  // Other SLUICE_* variables reach `serve` unchanged (e.g. to try
  // SLUICE_INSERT_CONCURRENCY); the report names them.
  const fixed = new Set(Object.keys(serveEnv('', { SLUICE_ADMIN_TOKEN: ADMIN_TOKEN })));
  const passthrough = Object.keys(process.env)
    .filter((name) => /^SLUICE_/.test(name) && !fixed.has(name) && process.env[name] !== '')
    .sort()
    .map((name) => `${name}=${process.env[name]}`);
  const startedAt = new Date();
  const t0 = performance.now();
  const m = machineDetail();
  log(`${m.nproc} CPUs (${m.model}), node ${m.node}; ${o.total} events × ${o.runs} runs (+${o.keyedTotal} keyed)`);
  const baseMs = Date.now() - 20 * 60_000;
  const sets = eventSets(o, baseMs);
  log(`built ${sets.main.bodies.length} + ${sets.keyed.bodies.length} request bodies (${mib(sets.main.bytes + sets.keyed.bytes)})`);
  const runs = [];
  for (let i = 0; i < o.runs; i++) {
    const order = i % 2 === 1 ? 'raw-first' : 'http-first';
    let raw;
    if (order === 'raw-first') raw = await rawRun(o, baseMs);
    const http = await httpRun(o, sets, `${startedAt.getTime()}-${i}`);
    if (order === 'http-first') raw = await rawRun(o, baseMs);
    const r = { order, http, raw };
    runs.push(r);
    log(
      `run ${i + 1}/${o.runs} (${order}): HTTP ${k(http.main.eps)} ev/s, raw ${k(raw.main.eps)} ev/s, ratio ${f2(http.main.eps / raw.main.eps)}; ` +
        `keyed HTTP ${k(http.keyed?.eps)} raw ${k(raw.keyed?.eps)}; RSS ${mib(http.peakRssBytes)}; ${int(http.main.inserts.count)} inserts, mean ${int(http.main.inserts.mean)} rows; ` +
        `server ${f2(http.main.serverCores)} cores ${f1(http.main.serverUsPerEvent)} µs/event, raw ${f2(raw.main.cores)} cores ${f1(raw.main.usPerRow)} µs/row, raw small inserts ${k(raw.small?.eps)} ev/s ${f1(raw.small?.usPerRow)} µs/row; ` +
        `load-gen ${f2(http.main.loadgenCores)} cores; other tenants ${f2(http.main.otherCores)} / ${f2(raw.main.otherCores)} cores; insert slot busy ${Math.round((http.main.inserts.busy / http.main.wall) * 100)} %; ` +
        `stored ${http.stored}/${http.expected} (rollup ${http.rollup}), raw ${raw.stored}/${raw.expected} (rollup ${raw.rollup})`,
    );
  }
  const s = summarize(runs);
  const seconds = (performance.now() - t0) / 1000;
  const section = markdown(o, m, sets, runs, s, startedAt, seconds, passthrough);
  if (o.write) {
    writeSection('ingest', 'bench/ingest.mjs', section);
    log('wrote docs/BENCHMARKS.md');
  }
  process.stdout.write(`${section}\n`);
  log(
    `medians: HTTP ${k(s.httpEps)} ev/s, raw ${k(s.rawEps)} ev/s, ratio ${f2(s.ratio)}, RSS ${mib(s.rss)}, mean insert ${int(s.meanInsert)} rows; ` +
      `targets: ratio ${s.ratio >= TARGETS.ratio ? 'pass' : 'FAIL'}, 150k ${s.httpEps >= TARGETS.eventsPerSec ? 'pass' : 'FAIL'}, RSS ${s.maxRss <= TARGETS.rssBytes ? 'pass' : 'FAIL'}, count ${s.allCorrect ? 'pass' : 'FAIL'} (${Math.round(seconds)} s)`,
  );
  if (!s.allCorrect) process.exitCode = 1;
}

runBenchmark('ingest', main, { raw: rawChild, count: countStored });

// bench/tail: live tail latency at a steady 10k events/s into `serve`, from
// the start of the ingest request and from its acknowledgement to the
// event's arrival at a WebSocket viewer, with 1, 100 and 1000 viewers; the
// ingest rate with 100 viewers against none; and serve's RSS with 1000 idle
// viewers.
//
//   npm run build && node bench/tail.mjs
//   BENCH_RUNS=1 BENCH_SECONDS=5 BENCH_WRITE=0 node bench/tail.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { flag, ingestNdjson, intro, machine, option, percentile, scrapeMetrics, stamp, startServe, statusBytes, stopServe, sumMetric, table, writeSection } from './lib.mjs';

const SECONDS = option('SECONDS', 10);
const WRITE = flag('WRITE', true);
const RUNS = option('RUNS', 3);
const TOKEN = 'bench-tail-token-12345';
const RATE = 10_000; // events per second
const PER_REQUEST = 100;

const now = () => Number(process.hrtime.bigint()) / 1e6;
const rssMiB = (pid) => statusBytes(pid, 'VmRSS') / 2 ** 20;
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const post = (url, body) => ingestNdjson(agent, url, TOKEN, body);

/**
 * The viewers beyond the first live in a separate process that only reads
 * its sockets, so the load generator and the timing viewer are not starved
 * by a thousand sockets' worth of parsing in their own event loop.
 */
async function farm(url, n) {
  if (n === 0) return { close: async () => {} };
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--farm', url, String(n)], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  return {
    close: async () => {
      child.stdin.end();
      await new Promise((r) => child.on('close', r));
    },
  };
}

/** A live-tail socket, subscribed to `q`. */
async function subscribe(url, q) {
  const ws = new WebSocket(url.replace('http', 'ws') + '/api/v1/tail', { headers: { authorization: `Bearer ${TOKEN}` } });
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  ws.send(JSON.stringify({ type: 'subscribe', q }));
  return ws;
}

async function viewers(url, n, onEvents) {
  const list = [];
  for (let i = 0; i < n; i++) {
    const ws = await subscribe(url, 'service:bench-tail');
    // Only the first viewer parses what it gets; the others only take it off the wire.
    ws.on('message', i === 0 ? (d) => onEvents(JSON.parse(d.toString())) : () => {});
    list.push(ws);
  }
  // Round trip on the first: its subscription is in place (messages are handled in order).
  await new Promise((r) => {
    list[0].once('message', r);
    list[0].send(JSON.stringify({ type: 'probe' }));
  });
  return list;
}

/** Steady RATE events/s for SECONDS; returns latencies of probe events at the first viewer. */
async function steady(url, n) {
  const others = await farm(url, n - 1);
  const sentAt = new Map();
  const ackedAt = new Map();
  const fromStart = [];
  const fromAck = [];
  const list = await viewers(url, 1, (m) => {
    if (m.type !== 'events') return;
    const t = now();
    for (const e of m.events) {
      const k = e.attributes?.probe;
      if (k === undefined) continue;
      fromStart.push(t - sentAt.get(k));
      const a = ackedAt.get(k);
      if (a !== undefined) fromAck.push(Math.max(0, t - a));
      else ackedAt.set(k, -t); // arrived before the ack: negative marks the arrival time
    }
  });
  const interval = (1000 * PER_REQUEST) / RATE;
  const end = now() + SECONDS * 1000;
  const inflight = [];
  let k = 0;
  for (let next = now(); next < end; next += interval) {
    const wait = next - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const key = String(k++);
    const rows = Array.from({ length: PER_REQUEST }, (_, i) => JSON.stringify(i === 0 ? { msg: 'probe', service: 'bench-tail', probe: key } : { msg: `event ${i}`, service: 'bench-tail' }));
    sentAt.set(key, now());
    inflight.push(
      post(url, rows.join('\n') + '\n').then(() => {
        const t = now();
        const arrived = ackedAt.get(key);
        if (arrived !== undefined && arrived < 0) fromAck.push(0); // the viewer had it before the client had its ack
        else ackedAt.set(key, t);
      }),
    );
  }
  await Promise.all(inflight);
  await new Promise((r) => setTimeout(r, 500));
  for (const ws of list) ws.close();
  await others.close();
  return { n, probes: k, got: fromStart.length, startP50: percentile(fromStart, 0.5), startP99: percentile(fromStart, 0.99), ackP50: percentile(fromAck, 0.5), ackP99: percentile(fromAck, 0.99) };
}

/** The server's insert duration histogram: total seconds and count. */
async function insertStats(url) {
  const m = await scrapeMetrics(url);
  return { sum: sumMetric(m, 'sluice_insert_duration_seconds_sum'), count: sumMetric(m, 'sluice_insert_duration_seconds_count') };
}

/** Ingest as fast as 32 clients can, 500-event requests, for SECONDS. */
async function maxRate(url) {
  const body = Array.from({ length: 500 }, (_, i) => JSON.stringify({ msg: `load ${i}`, service: 'bench-load' })).join('\n') + '\n';
  let events = 0;
  const end = now() + SECONDS * 1000;
  const t0 = now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (now() < end) {
        await post(url, body);
        events += 500;
      }
    }),
  );
  return events / ((now() - t0) / 1000);
}

/** One full measurement on a fresh `serve` and data directory. */
async function measure(run) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-tail-'));
  const serve = await startServe(join(dir, 'data'), { SLUICE_ADMIN_TOKEN: TOKEN, SLUICE_TAIL_MAX_PER_TOKEN: '5000' });
  const { pid, url } = serve;
  const log = (text) => console.error(`[bench:tail] run ${run}/${RUNS}: ${text}`);
  try {
    const phases = [];
    for (const n of [1, 100, 1000]) {
      const before = await insertStats(url);
      const r = await steady(url, n);
      const after = await insertStats(url);
      // The store's own share: every event waits for the insert holding it.
      r.insertMs = (1000 * (after.sum - before.sum)) / (after.count - before.count);
      phases.push(r);
      log(`${n} viewers: from request start p50 ${r.startP50.toFixed(1)} ms p99 ${r.startP99.toFixed(1)}; from ack p50 ${r.ackP50.toFixed(1)} p99 ${r.ackP99.toFixed(1)}; mean insert ${r.insertMs.toFixed(1)} ms; ${r.got}/${r.probes} probes`);
    }
    const rate0 = await maxRate(url);
    const hundred = await farm(url, 100);
    const rate100 = await maxRate(url);
    await hundred.close();
    log(`max ingest: ${(rate0 / 1000).toFixed(0)}k ev/s with no viewer, ${(rate100 / 1000).toFixed(0)}k with 100 (${(rate100 / rate0).toFixed(2)})`);
    await new Promise((r) => setTimeout(r, 1000));
    const rssBefore = rssMiB(pid);
    const idle = [];
    for (let i = 0; i < 1000; i++) idle.push(await subscribe(url, 'level:>=error'));
    await new Promise((r) => setTimeout(r, 1000));
    const rssAfter = rssMiB(pid);
    for (const ws of idle) ws.close();
    log(`RSS ${rssBefore.toFixed(0)} MiB -> ${rssAfter.toFixed(0)} MiB with 1000 idle viewers`);
    return { phases, rate0, rate100, rssBefore, rssAfter };
  } finally {
    await stopServe(serve);
    rmSync(dir, { recursive: true, force: true });
  }
}

// The upper middle of an even count, as this benchmark has always quoted.
const median = (xs) => percentile(xs, 0.5);

async function main() {
  const results = [];
  for (let run = 1; run <= RUNS; run++) results.push(await measure(run));
  agent.destroy();
  const f1 = (x) => x.toFixed(1);
  // Per viewer count, the median of each figure over the runs.
  const med = [1, 100, 1000].map((n, i) => {
    const of = (k) => median(results.map((r) => r.phases[i][k]));
    return { n, startP50: of('startP50'), startP99: of('startP99'), ackP50: of('ackP50'), ackP99: of('ackP99'), insertMs: of('insertMs'), got: Math.min(...results.map((r) => r.phases[i].got)), probes: results[0].phases[i].probes };
  });
  const r100 = med[1];
  const rate0 = median(results.map((r) => r.rate0));
  const rate100 = median(results.map((r) => r.rate100));
  const ratio = median(results.map((r) => r.rate100 / r.rate0));
  const growth = median(results.map((r) => r.rssAfter - r.rssBefore));
  const L = intro(
    '## Live tail: latency to a WebSocket viewer, ingest cost of viewers, memory',
    `Measured ${stamp()} UTC: ${RUNS} runs, each on a fresh \`serve\` (embedded store, data directory under \`${tmpdir()}\`): ${SECONDS} s of a steady ${RATE.toLocaleString('en')} events/s (${PER_REQUEST}-event requests) per viewer count, every viewer subscribed to all of it; one probe event per request, timed at the first viewer (which parses; the others only read their sockets). Figures are medians over the runs. Reproduce with:`,
    [`npm run build && BENCH_RUNS=${RUNS} BENCH_SECONDS=${SECONDS} node bench/tail.mjs`],
    `**Machine:** ${machine()}; load generator and viewers on the same 2 cores as the server. Shared and noisy.`,
  );
  L.push(
    ...table(
      ['viewers', 'from request start p50 / p99 ms', 'from acknowledgement p50 / p99 ms', 'mean insert ms', 'probes seen (fewest in a run)'],
      'rrrrr',
      med.map((r) => [r.n, `${f1(r.startP50)} / ${f1(r.startP99)}`, `${f1(r.ackP50)} / ${f1(r.ackP99)}`, f1(r.insertMs), `${r.got} / ${r.probes}`]),
    ),
  );
  L.push('');
  const each = (f) => results.map(f).join(', ');
  L.push(
    ...table(['target', 'median', 'each run', ''], 'lrrl', [
      ['p99 < 50 ms with 100 viewers, from request start', `${f1(r100.startP99)} ms`, each((r) => f1(r.phases[1].startP99)), r100.startP99 < 50 ? 'pass' : '**FAIL**'],
      ['p99 < 50 ms with 100 viewers, from acknowledgement', `${f1(r100.ackP99)} ms`, each((r) => f1(r.phases[1].ackP99)), r100.ackP99 < 50 ? 'pass' : '**FAIL**'],
      ['ingest rate with 100 viewers ≥ 0.8 of the rate with none', `${(rate100 / 1000).toFixed(0)}k / ${(rate0 / 1000).toFixed(0)}k, ratio ${ratio.toFixed(2)}`, each((r) => (r.rate100 / r.rate0).toFixed(2)), ratio >= 0.8 ? 'pass' : '**FAIL**'],
      ['RSS growth < 100 MB for 1000 idle viewers', `${growth.toFixed(0)} MiB`, each((r) => (r.rssAfter - r.rssBefore).toFixed(0)), growth < 100 ? 'pass' : '**FAIL**'],
    ]),
  );
  L.push('');
  L.push('"From request start" includes the batcher\'s wait and the insert: a viewer sees an event only after it is stored, and with one insert at a time a request waits for the insert in flight and then its own ("mean insert ms", from the server\'s `sluice_insert_duration_seconds`). "From acknowledgement" is how much later than the ingest client the viewer learns of it (0 when the viewer had it first).');
  L.push('');
  L.push(`With 1000 viewers each taking all ${RATE.toLocaleString('en')} events/s, \`serve\` writes every event to 1000 sockets (about 10 million event deliveries a second, a few GB/s of JSON) on the same 2 cores that the load generator and the viewers reading them use; nothing can keep up, so events queue and the latency is that queue. No probe is lost. Viewers with filters that match a share of the stream cost that share.`);
  const section = L.join('\n');
  console.log(section);
  if (WRITE) writeSection('tail', 'bench/tail.mjs', section);
}

if (process.argv[2] === '--farm') {
  const list = await viewers(process.argv[3], Number(process.argv[4]), () => {});
  process.stdout.write('ready\n');
  process.stdin.resume();
  process.stdin.on('end', () => {
    for (const ws of list) ws.close();
    process.exit(0);
  });
} else {
  await main();
}

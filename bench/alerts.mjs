// bench/alerts: 100 rules evaluated every 5 s — service/level rules, word
// and regex rules and group_by rules, all with 1 m windows, so each tick
// counts the due ones in one scan of raw events — while ingesting a
// steady 20k events/s: the time from the first event that crosses a
// threshold to its webhook's arrival, and the ingest rate against the same
// run with no rules.
//
//   npm run build && node bench/alerts.mjs
//   BENCH_SECONDS=30 BENCH_WRITE=0 node bench/alerts.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flag, intro, machine, option, percentile, request, row, stamp, startServe, stopServe, table, writeSection } from './lib.mjs';

const SECONDS = option('SECONDS', 60);
const RATE = option('RATE', 20_000);
const RULES = 100;
const WRITE = flag('WRITE', true);
const TOKEN = 'bench-alerts-token-123';
const PER_REQUEST = 500;
const SERVE_ENV = { SLUICE_ADMIN_TOKEN: TOKEN, SLUICE_WEBHOOK_ALLOW: '127.0.0.1' };

const now = () => Date.now();
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** A request with the bench token; resolves with the JSON answer, rejects unless 2xx. */
async function call(url, method, path, body, type = 'application/json') {
  const r = await request(agent, url, path, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type }, body });
  const text = r.body.toString('utf8');
  if (r.status >= 300) throw new Error(`${path} ${r.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

/** Background traffic that never crosses a threshold, at RATE events/s; `trip` marks when a rule's trigger event went in. */
async function load(url, seconds, trips) {
  const interval = (1000 * PER_REQUEST) / RATE;
  const end = now() + seconds * 1000;
  let sent = 0;
  const inflight = new Set();
  for (let next = now(); next < end; next += interval) {
    const wait = next - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const rows = Array.from({ length: PER_REQUEST }, (_, i) => JSON.stringify({ msg: `steady ${i} ok`, service: `svc-${i % 20}`, level: 'info' }));
    const trip = trips.shift();
    if (trip) rows.push(...trip.rows);
    const t = now();
    const p = call(url, 'POST', '/api/v1/ingest', rows.join('\n') + '\n', 'application/x-ndjson').then(() => {
      if (trip) trip.storedAt = t;
      sent += rows.length;
    });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }
  await Promise.all(inflight);
  return sent;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-alerts-'));
  const arrivals = new Map();
  const hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const j = JSON.parse(body);
      if (j.status === 'firing' && !arrivals.has(j.rule.name)) arrivals.set(j.rule.name, now());
      res.end('ok');
    });
  });
  await new Promise((r) => hooks.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${hooks.address().port}/hook`;

  // Without rules.
  let serve = await startServe(join(dir, 'a'), SERVE_ENV);
  const baseSent = await load(serve.url, SECONDS, []);
  const baseRate = baseSent / SECONDS;
  await stopServe(serve);
  console.error(`[bench:alerts] no rules: ${(baseRate / 1000).toFixed(1)}k ev/s`);

  // With 100 rules: a quarter each of service/level, word, regex, group_by.
  serve = await startServe(join(dir, 'b'), SERVE_ENV);
  const trips = [];
  for (let i = 0; i < RULES; i++) {
    const kind = i % 4;
    const tag = `t${i}`;
    const rule = {
      name: `rule ${i}`,
      window: '1m',
      interval: '5s',
      condition: { op: '>', threshold: 5 },
      targets: [{ url: hookUrl }],
      ...[
        { query: `service:trip-${tag} level:>=error` },
        { query: `service:trips zq${tag}word` },
        { query: `/zq${tag}re[0-9]+/` },
        { query: `service:trips-grouped level:error grp:${tag}`, group_by: ['host'] },
      ][kind],
    };
    await call(serve.url, 'POST', '/api/v1/alerts/rules', JSON.stringify(rule));
    const row = [
      { msg: 'boom', level: 'error', service: `trip-${tag}` },
      { msg: `something zq${tag}word happened`, service: 'trips' },
      { msg: `matched zq${tag}re42 here`, service: 'trips' },
      { msg: 'grouped', level: 'error', service: 'trips-grouped', grp: tag, host: 'h1' },
    ][kind];
    trips.push({ name: rule.name, kind: ['service/level', 'word', 'regex', 'group_by'][kind], rows: Array.from({ length: 6 }, () => JSON.stringify(row)), storedAt: 0 });
  }
  // Trip one rule every few requests, spread over the first half of the run.
  const schedule = [];
  const requests = (SECONDS * RATE) / PER_REQUEST;
  const every = Math.max(1, Math.floor(requests / 2 / RULES));
  for (let r = 0; r < requests; r++) schedule.push(r % every === 0 ? trips[r / every] : undefined);
  const sent = await load(serve.url, SECONDS, schedule);
  const rate = sent / SECONDS;
  await new Promise((r) => setTimeout(r, 12_000)); // the last trips' evaluation interval
  await stopServe(serve);
  hooks.close();
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });

  const lat = trips.filter((t) => arrivals.has(t.name) && t.storedAt > 0).map((t) => ({ kind: t.kind, ms: arrivals.get(t.name) - t.storedAt }));
  const all = lat.map((l) => l.ms);
  console.error(`[bench:alerts] with ${RULES} rules: ${(rate / 1000).toFixed(1)}k ev/s (${(rate / baseRate).toFixed(2)}); fired ${lat.length}/${RULES}; crossing → webhook p50 ${percentile(all, 0.5)} ms, p99 ${percentile(all, 0.99)} ms`);

  const L = intro(
    '## Alerts: 100 rules under load',
    `Measured ${stamp()} UTC: ${SECONDS} s at a steady ${RATE.toLocaleString('en')} events/s (${PER_REQUEST}-event requests) into \`serve\` on the embedded store, first with no rules, then with ${RULES} rules evaluated every 5 s over a 1 m window (25 service/level rules, 25 word and 25 regex rules, 25 \`group_by\` rules; windows this short are counted together in one scan of raw events per tick, not from the rollup); each rule is tripped once by six matching events riding in one request, and timed from that request's acknowledgement to its firing webhook's arrival at a receiver on loopback. Reproduce with:`,
    [`npm run build && BENCH_SECONDS=${SECONDS} BENCH_RATE=${RATE} node bench/alerts.mjs`],
    `**Machine:** ${machine()}. Shared and noisy.`,
  );
  L.push(
    ...table(['measure', 'value', 'target', ''], 'lrrl', [
      [`ingest rate, no rules / ${RULES} rules`, `${(baseRate / 1000).toFixed(1)}k / ${(rate / 1000).toFixed(1)}k events/s = ${(rate / baseRate).toFixed(2)}`, '≥ 0.9', rate / baseRate >= 0.9 ? 'pass' : '**FAIL**'],
      [`threshold crossed → webhook, p50 / p99 (all rules, ${lat.length} of ${RULES} fired)`, `${percentile(all, 0.5)} / ${percentile(all, 0.99)} ms`, 'p99 ≤ 6000 ms (interval + 1 s)', percentile(all, 0.99) <= 6000 && lat.length === RULES ? 'pass' : '**FAIL**'],
    ]),
  );
  for (const kind of ['service/level', 'word', 'regex', 'group_by']) {
    const xs = lat.filter((l) => l.kind === kind).map((l) => l.ms);
    L.push(row(`… ${kind} rules (${xs.length}) p50 / p99`, `${percentile(xs, 0.5)} / ${percentile(xs, 0.99)} ms`, '', ''));
  }
  L.push('');
  L.push('Requested rate is what the load generator aims at; the measured rate is what was acknowledged over the run (it falls below the aim when the server cannot keep up).');
  const section = L.join('\n');
  console.log(section);
  if (WRITE) writeSection('alerts', 'bench/alerts.mjs', section);
}

await main();

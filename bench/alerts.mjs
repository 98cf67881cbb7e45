// bench/alerts: 100 rules evaluated every second — service/level rules,
// word and regex rules and group_by rules, all with 1 m windows, so each
// tick counts the due ones in one scan of raw events — while ingesting a
// steady 20k events/s: the time from the request carrying the events that
// cross a threshold to the arrival of the rule's webhook and of its push to
// Alertmanager's POST /api/v2/alerts (a receiver here answers as
// Alertmanager does), and the ingest rate against the same run with no
// rules.
//
//   npm run build && node bench/alerts.mjs
//   BENCH_SECONDS=30 BENCH_WRITE=0 node bench/alerts.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flag, intro, machine, option, percentile, request, sendAll, stamp, startServe, stopServe, table, writeSection } from './lib.mjs';

const SECONDS = option('SECONDS', 60);
const RATE = option('RATE', 20_000);
const RULES = 100;
const WRITE = flag('WRITE', true);
const TOKEN = 'bench-alerts-token-123';
const PER_REQUEST = 500;
const INTERVAL = option('INTERVAL', 1);
// Ingest capacity: this many events as fast as CLIENTS keep-alive clients
// get them acknowledged, with and without the rules.
const SATURATE_EVENTS = option('SATURATE_EVENTS', 600_000);
const CLIENTS = 4;
const CAPACITY_ROUNDS = 3;

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
      if (trip) process.stderr.write(`DBG sent ${trip.name} wall=${t} ack=${now()}\n`);
      sent += rows.length;
    });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }
  await Promise.all(inflight);
  return sent;
}

/** Mean seconds and count per phase of sluice_alert_tick_duration_seconds, from a /metrics text. */
function tickPhases(text) {
  const out = {};
  for (const m of text.matchAll(/^sluice_alert_tick_duration_seconds_(sum|count)\{phase="(\w+)"\} (\S+)$/gm)) (out[m[2]] ??= {})[m[1]] = Number(m[3]);
  return Object.fromEntries(Object.entries(out).map(([phase, v]) => [phase, { ticks: v.count, meanMs: Math.round((1000 * v.sum) / v.count) }]));
}

/** Events per second `serve` acknowledges with CLIENTS clients sending as fast as they are answered. */
async function capacity(url) {
  const body = Array.from({ length: PER_REQUEST }, (_, i) => JSON.stringify({ msg: `saturate ${i} ok`, service: `svc-${i % 20}`, level: 'info' })).join('\n') + '\n';
  const bodies = Array.from({ length: Math.ceil(SATURATE_EVENTS / PER_REQUEST) }, () => body);
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' };
  const { wall } = await sendAll({ url, path: '/api/v1/ingest', bodies, clients: CLIENTS, headers: () => headers });
  return (bodies.length * PER_REQUEST) / wall;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-alerts-'));
  // First arrival per rule name: of its firing webhook, and of a push that
  // names it as alertname with endsAt ahead (firing, not a resolve).
  const arrivals = { webhook: new Map(), alertmanager: new Map() };
  const hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const at = now();
      const j = JSON.parse(body);
      if (req.url === '/api/v2/alerts') {
        for (const a of j) if (Date.parse(a.endsAt) > at && !arrivals.alertmanager.has(a.labels.alertname)) arrivals.alertmanager.set(a.labels.alertname, at);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      if (j.status === 'firing' && !arrivals.webhook.has(j.rule.name)) arrivals.webhook.set(j.rule.name, at);
      if (j.status === "firing") process.stderr.write(`DBG arrive ${j.rule.name} wall=${at}\n`);
      res.end('ok');
    });
  });
  await new Promise((r) => hooks.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${hooks.address().port}`;
  const hookUrl = `${base}/hook`;
  const SERVE_ENV = { SLUICE_ADMIN_TOKEN: TOKEN, SLUICE_WEBHOOK_ALLOW: '127.0.0.1', SLUICE_ALERTMANAGER_URL: base };

  // Without rules; frozen (SIGSTOP) while the other server is measured.
  const bare = await startServe(join(dir, 'a'), SERVE_ENV);
  const baseSent = await load(bare.url, SECONDS, []);
  const baseRate = baseSent / SECONDS;
  bare.child.kill('SIGSTOP');
  console.error(`[bench:alerts] no rules: ${(baseRate / 1000).toFixed(1)}k ev/s`);

  // With 100 rules: a quarter each of service/level, word, regex, group_by.
  const serve = await startServe(join(dir, 'b'), SERVE_ENV);
  const trips = [];
  for (let i = 0; i < RULES; i++) {
    const kind = i % 4;
    const tag = `t${i}`;
    const rule = {
      name: `rule ${i}`,
      window: '1m',
      interval: `${INTERVAL}s`,
      condition: { op: '>', threshold: 5 },
      targets: [{ url: hookUrl }],
      alertmanager: {},
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
  await new Promise((r) => setTimeout(r, INTERVAL * 1000 + 5_000)); // the last trips' evaluation, with room
  const ticks = tickPhases((await request(agent, serve.url, '/metrics')).body.toString('utf8'));
  // Capacity, the two servers in turn (each frozen while the other is
  // measured), three rounds: the machine's drift over minutes falls on both.
  const caps = { bare: [], rules: [] };
  for (let round = 0; round < CAPACITY_ROUNDS; round++) {
    serve.child.kill('SIGSTOP');
    bare.child.kill('SIGCONT');
    caps.bare.push(await capacity(bare.url));
    bare.child.kill('SIGSTOP');
    serve.child.kill('SIGCONT');
    caps.rules.push(await capacity(serve.url));
    console.error(`[bench:alerts] capacity round ${round + 1}: ${(caps.bare.at(-1) / 1000).toFixed(1)}k without rules, ${(caps.rules.at(-1) / 1000).toFixed(1)}k with`);
  }
  const baseCapacity = percentile(caps.bare, 0.5);
  const ruleCapacity = percentile(caps.rules, 0.5);
  bare.child.kill('SIGCONT');
  await stopServe(bare);
  await stopServe(serve);
  hooks.close();
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });

  /** Latency per tripped rule to its first arrival on one path. */
  const latencies = (path) => trips.filter((t) => arrivals[path].has(t.name) && t.storedAt > 0).map((t) => ({ kind: t.kind, ms: arrivals[path].get(t.name) - t.storedAt }));
  const paths = { webhook: latencies('webhook'), alertmanager: latencies('alertmanager') };
  const ratio = ruleCapacity / baseCapacity;
  for (const [path, lat] of Object.entries(paths)) {
    const all = lat.map((l) => l.ms);
    console.error(`[bench:alerts] ${path}: fired ${lat.length}/${RULES}; crossing → arrival p50 ${percentile(all, 0.5)} ms, p99 ${percentile(all, 0.99)} ms`);
  }
  console.error(`[bench:alerts] tick phases ${JSON.stringify(ticks)}`);
  console.error(`[bench:alerts] steady load acknowledged: ${(baseRate / 1000).toFixed(1)}k ev/s without rules, ${(rate / 1000).toFixed(1)}k with`);
  console.error(`[bench:alerts] capacity: ${(baseCapacity / 1000).toFixed(1)}k ev/s without rules, ${(ruleCapacity / 1000).toFixed(1)}k with ${RULES} (${ratio.toFixed(2)})`);

  const L = intro(
    '## Alerts: 100 rules under load',
    `Measured ${stamp()} UTC: ${SECONDS} s at a steady ${RATE.toLocaleString('en')} events/s (${PER_REQUEST}-event requests) into \`serve\` on the embedded store, first with no rules, then with ${RULES} rules evaluated every ${INTERVAL} s over a 1 m window (25 service/level rules, 25 word and 25 regex rules, 25 \`group_by\` rules; windows this short are counted together in one scan of raw events per tick, not from the rollup). Every rule has a webhook target and pushes to Alertmanager (\`SLUICE_ALERTMANAGER_URL\` pointing at a receiver on loopback that answers POST /api/v2/alerts as Alertmanager does). Each rule is tripped once by six matching events riding in one ingest request, and timed from the moment that request was sent to the first arrival of the rule's firing webhook, and of a push naming it with \`endsAt\` ahead. Reproduce with:`,
    [`npm run build && BENCH_SECONDS=${SECONDS} BENCH_RATE=${RATE} node bench/alerts.mjs`],
    `**Machine:** ${machine()}. Shared and noisy.`,
  );
  const rows = [
    [`ingest capacity, no rules / ${RULES} rules (median of ${CAPACITY_ROUNDS})`, `${(baseCapacity / 1000).toFixed(1)}k / ${(ruleCapacity / 1000).toFixed(1)}k events/s = ${ratio.toFixed(2)}`, '≥ 0.95', ratio >= 0.95 ? 'pass' : '**FAIL**'],
    [`steady load acknowledged, no rules / ${RULES} rules`, `${(baseRate / 1000).toFixed(1)}k / ${(rate / 1000).toFixed(1)}k events/s`, `${(RATE / 1000).toFixed(1)}k`, ''],
  ];
  for (const [path, lat] of Object.entries(paths)) {
    const all = lat.map((l) => l.ms);
    const p99 = percentile(all, 0.99);
    rows.push([`threshold crossed → ${path}, p50 / p99 (${lat.length} of ${RULES} fired)`, `${percentile(all, 0.5)} / ${p99} ms`, 'p99 ≤ 2000 ms', p99 <= 2000 && lat.length === RULES ? 'pass' : '**FAIL**']);
    for (const kind of ['service/level', 'word', 'regex', 'group_by']) {
      const xs = lat.filter((l) => l.kind === kind).map((l) => l.ms);
      rows.push([`… ${kind} rules (${xs.length}) p50 / p99`, `${percentile(xs, 0.5)} / ${percentile(xs, 0.99)} ms`, '', '']);
    }
  }
  for (const [phase, t] of Object.entries(ticks)) rows.push([`scheduler tick, ${phase} phase: mean (ticks)`, `${t.meanMs} ms (${t.ticks})`, '', '']);
  L.push(...table(['measure', 'value', 'target', ''], 'lrrl', rows));
  L.push('');
  L.push(`The steady load's rate is what the load generator aims at; the acknowledged rate falls below it only when the server cannot keep up. Capacity is the rate at which ${SATURATE_EVENTS.toLocaleString('en')} events are acknowledged when ${CLIENTS} clients send as fast as they are answered; it is measured after the steady runs on both servers in turn, ${CAPACITY_ROUNDS} rounds (each server frozen with SIGSTOP while the other is measured; the ${RULES} rules keep running every ${INTERVAL} s on theirs), and each server's median is taken. Rounds: ${caps.bare.map((c, i) => `${(c / 1000).toFixed(1)}k / ${(caps.rules[i] / 1000).toFixed(1)}k`).join(', ')}.`);
  const section = L.join('\n');
  console.log(section);
  if (WRITE) writeSection('alerts', 'bench/alerts.mjs', section);
}

await main();

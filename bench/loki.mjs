// bench/loki: Loki's query API as Grafana calls it, on generated events
// spread over 7 days, against hand-written SQL on the engine in the same
// process and run:
//   - Explore's log query `{service="api"} |= "timeout"`, newest 1000 of
//     the last 24 h, against the same SELECT straight on the engine;
//   - the logs-volume query over 24 h (1 m steps) and a 7-day
//     `sum by (service_name) (rate(…[5m]))` (5 m steps), each as Grafana
//     sends it, with `| drop host`, and counted raw (`|= ""`), against the
//     rollup's SQL and the raw count's SQL; the per-minute rollup
//     (src/loki/logql/rollup.ts) answers the first two, checked against
//     the raw path's answers.
//
//   npm run build && node bench/loki.mjs                       # 10M events, writes docs/BENCHMARKS.md
//   BENCH_EVENTS=1000000 BENCH_ROUNDS=1 BENCH_WRITE=0 node bench/loki.mjs
//
// Settings (environment):
//   BENCH_EVENTS  events over the 7 days                               10000000
//   BENCH_ROUNDS  rounds of every question; medians of the rounds' p50s 3
//   BENCH_REPS    timed requests per question and round                 9
//   BENCH_WRITE   1 = regenerate the section in docs/BENCHMARKS.md      1
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dist, flag, intro, machine, median, option, percentile, stamp, table, writeSection } from './lib.mjs';

const { buildApp } = await import(dist('app.js'));
const { loadConfig } = await import(dist('config.js'));
const { migrate } = await import(dist('store/migrate.js'));
const { openStore } = await import(dist('store/store.js'));
const { eventRows } = await import(dist('store/rows.js'));
const { Rollup, WATERMARK_KEY } = await import(dist('store/rollup.js'));
const { writeMeta } = await import(dist('store/meta.js'));
const { uuidv7 } = await import(dist('model/id.js'));
const { ANSWERS_METRIC } = await import(dist('loki/logql/rollup.js'));
const { fetch, URLSearchParams } = globalThis;

const EVENTS = option('EVENTS', 10_000_000);
const ROUNDS = option('ROUNDS', 3);
const REPS = option('REPS', 9);
const WRITE = flag('WRITE', true);

const DAY = 86_400_000;
const MIN = 60_000;
const SERVICES = ['api', 'web', 'worker', 'billing', 'auth', 'search', 'mailer', 'cron'];
const LEVELS = [['info', 9], ['info', 9], ['info', 9], ['debug', 5], ['warn', 13], ['error', 17]];
const TEMPLATES = [
  (i) => `GET /api/v1/items/${i % 5000} completed in ${i % 300}ms`,
  (i) => `upstream request ${i} timeout after ${i % 30}s, retrying`,
  (i) => `connection reset by peer while reading from shard-${i % 32}`,
  (i) => `user ${i % 9973} login ${i % 7 ? 'completed' : 'failed'} via oauth`,
  (i) => `cache miss for key session:${i % 100000}; fetching from origin`,
  (i) => `job ${i} finished in ${i % 60}s on queue mail`,
  (i) => `deadlock detected on table orders, retrying transaction ${i}`,
];

const ms = (t) => Number(t) / 1e6;
const NS = 1_000_000n;

async function generate(store, now) {
  const span = 7 * DAY;
  const batch = 200_000;
  for (let start = 0; start < EVENTS; start += batch) {
    const events = [];
    for (let i = start; i < Math.min(EVENTS, start + batch); i++) {
      const tms = now - span + Math.floor((i / EVENTS) * span);
      const ns = BigInt(tms) * NS + BigInt(i % 1_000_000);
      const [level, severity] = LEVELS[(i >> 3) % LEVELS.length];
      events.push({
        id: uuidv7(tms), timeNs: ns, receivedNs: ns, service: SERVICES[i % SERVICES.length], host: `host-${(i >> 3) % 20}`, level, severity,
        // One in 7 lines says timeout, in every service.
        message: TEMPLATES[(i >> 3) % TEMPLATES.length](i), attributes: { status: String([200, 200, 201, 404, 500][i % 5]) },
        traceId: '', spanId: '',
      });
    }
    await store.insertEvents(eventRows(events, 'bench', 'bench'));
  }
}

/**
 * The rollups as the job would have filled them for everything received
 * before `w` (one INSERT … SELECT instead of a week of 2 s chunks), then
 * the job itself from `w` to now, as serve runs it.
 */
async function rollUp(store, wNs) {
  for (const [table, column, atStart] of [['logs_per_minute', 'time', ', at_start'], ['logs_received_per_minute', 'received_at', '']]) {
    const z = atStart && ', countIf(toUnixTimestamp64Nano(time) % 60000000000 = 0)';
    await store.control.command({
      query: `INSERT INTO ${table} (minute, service, level, count${atStart}) SELECT toStartOfMinute(${column}) AS minute, service, level, count()${z} FROM logs WHERE received_at < fromUnixTimestamp64Nano({w:Int64}, 'UTC') GROUP BY minute, service, level`,
      query_params: { w: wNs.toString() },
    });
  }
  await writeMeta(store, WATERMARK_KEY, wNs.toString());
  const rollup = new Rollup(store, { warn() {} });
  // Until a run finds nothing new to count (each run moves W to now).
  while ((await rollup.run()) > 0);
  return rollup.watermark();
}

const SQL = {
  // What readLines runs for a log query without a pipeline.
  lines: `SELECT toString(id), toString(toUnixTimestamp64Nano(time)), service, host, level, message, attributes FROM logs
    WHERE time >= {from:DateTime64(9)} AND time < {to:DateTime64(9)} AND service = {service:String} AND position(message, {word:String}) > 0
    ORDER BY time DESC, id DESC LIMIT 1000 SETTINGS use_query_cache = 0`,
  // Counts per step and series from the rollup up to W plus the raw events since (windows = steps, aligned).
  rollupCount: `SELECT b, service, level, sum(n) FROM (
      SELECT toUnixTimestamp(minute) - toUnixTimestamp(minute) % {step:UInt32} AS b, service, level, sum(count) AS n FROM logs_per_minute
      WHERE minute >= {rfrom:DateTime} AND minute < {rto:DateTime} AND match(service, {re:String}) GROUP BY b, service, level
      UNION ALL
      SELECT toUnixTimestamp(time) - toUnixTimestamp(time) % {step:UInt32} AS b, service, level, count() AS n FROM logs
      WHERE time >= {from:DateTime64(9)} AND time < {to:DateTime64(9)} AND received_at >= {w:DateTime64(9)} AND match(service, {re:String}) GROUP BY b, service, level
    ) GROUP BY b, service, level SETTINGS use_query_cache = 0`,
  // The same counts from raw events alone.
  rawCount: `SELECT toUnixTimestamp(time) - toUnixTimestamp(time) % {step:UInt32} AS b, service, level, count() FROM logs
    WHERE time >= {from:DateTime64(9)} AND time < {to:DateTime64(9)} AND match(service, {re:String}) GROUP BY b, service, level SETTINGS use_query_cache = 0`,
};

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-loki-'));
  const admin = 'bench-admin-token-1234';
  const config = loadConfig({ SLUICE_DATA_DIR: dir, LOG_LEVEL: 'silent', SLUICE_ADMIN_TOKEN: admin, SLUICE_ROLES: 'api,ingest', SLUICE_QUERY_TIMEOUT: '120' });
  const store = await openStore(config, { createDatabase: true });
  await migrate(store, config.retentionDays);
  const now = Date.now();
  await writeMeta(store, WATERMARK_KEY, String(BigInt(now - 8 * DAY) * NS));
  console.error(`[bench:loki] generating ${EVENTS.toLocaleString('en')} events over 7 days…`);
  const t0 = Date.now();
  await generate(store, now);
  const genSeconds = (Date.now() - t0) / 1000;
  // The job's grid is 2 s; the last ten minutes are counted by the job itself.
  const w = await rollUp(store, ((BigInt(now - 10 * MIN) * NS) / 2_000_000_000n) * 2_000_000_000n);
  const rollupSeconds = (Date.now() - t0) / 1000 - genSeconds;
  // The rollups must reach the present, or the job spends the timed rounds
  // catching up a week (a ms/ns slip here once did: the 7-day rate measured ~30 s).
  if (BigInt(Date.now()) * NS - w > BigInt(10 * MIN) * NS) throw new Error(`the rollups end ${new Date(Number(w / NS)).toISOString()}, not now`);
  console.error(`[bench:loki] generated in ${genSeconds.toFixed(0)} s, rolled up in ${rollupSeconds.toFixed(0)} s`);

  const { app, ctx } = await buildApp({ config, store, logger: false });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const auth = { authorization: `Bearer ${admin}` };
  const answered = async () => {
    const m = await ctx.metrics.registry.getSingleMetric(ANSWERS_METRIC)?.get();
    return m?.values.find((v) => v.labels.from === 'rollup')?.value ?? 0;
  };
  const loki = async (path, params) => {
    const t = process.hrtime.bigint();
    const res = await fetch(`${url}/loki/api/v1/${path}?${new URLSearchParams(params)}`, { headers: auth });
    const body = await res.json();
    if (res.status !== 200) throw new Error(`${path} ${params.query}: ${res.status} ${body.error}`);
    return { ms: ms(process.hrtime.bigint() - t), body };
  };
  const sql = async (text, params) => {
    const t = process.hrtime.bigint();
    const rs = await store.query.query({ query: text, query_params: params, format: 'JSONCompact' });
    await rs.json();
    return ms(process.hrtime.bigint() - t);
  };
  const nsText = (msEpoch) => (BigInt(msEpoch) * NS).toString();
  const ch = (msEpoch) => new Date(msEpoch).toISOString().replace('T', ' ').replace('Z', '');
  const wText = ch(Number(w / NS));

  // Grafana's ranges as it sends them: its picker's instants, to the
  // millisecond. The route rounds them down to the step (SLUICE_LOKI_ALIGN_STEP);
  // the hand-written SQL counts over the ranges it rounds them to.
  const volEnd = Math.floor(now / MIN) * MIN;
  const vol = { start: nsText(now - DAY), end: nsText(now), step: '60000ms' };
  const rateEnd = Math.floor(now / (5 * MIN)) * 5 * MIN;
  const rate = { start: nsText(now - 7 * DAY), end: nsText(now), step: '300000ms' };
  const counts = (from, to, step, re) => ({ rfrom: Math.floor(from / 1000), rto: Math.floor(to / 1000), from: ch(from), to: ch(to), w: wText, step, re });
  const VOLUME = 'sum by (level, detected_level) (count_over_time({service_name="api"}%F% | drop __error__%H% [1m]))';
  const RATE = 'sum by (service_name) (rate({service_name=~".+"}%F%%H% [5m]))';
  const q = (t, filter, dropHost) => t.replace('%F%', filter ? ' |= ""' : '').replace('%H%', dropHost ? (t === VOLUME ? ', host' : ' | drop host') : '');

  const questions = [
    { name: 'log query `{service="api"} |= "timeout"`, newest 1000 of 24 h', api: () => ['query_range', { query: '{service="api"} |= "timeout"', limit: '1000', direction: 'backward', start: nsText(now - DAY), end: nsText(now) }], sql: () => [SQL.lines, { from: ch(now - DAY), to: ch(now), service: 'api', word: 'timeout' }] },
    { name: 'logs volume, 24 h by 1 m, as Grafana sends it', api: () => ['query_range', { query: q(VOLUME, false, false), ...vol }], sql: () => [SQL.rawCount, counts(volEnd - DAY, volEnd, 60, '^api$')], fast: true },
    { name: 'logs volume, 24 h by 1 m, `| drop __error__, host`', api: () => ['query_range', { query: q(VOLUME, false, true), ...vol }], sql: () => [SQL.rollupCount, counts(volEnd - DAY, volEnd, 60, '^api$')], fast: true },
    { name: 'the same, counted raw (`|= ""`)', api: () => ['query_range', { query: q(VOLUME, true, true), ...vol }], sql: () => [SQL.rawCount, counts(volEnd - DAY, volEnd, 60, '^api$')], fast: false },
    { name: '7-day rate by service, 5 m steps, as Grafana sends it', api: () => ['query_range', { query: q(RATE, false, false), ...rate }], sql: () => [SQL.rawCount, counts(rateEnd - 7 * DAY, rateEnd, 300, '.+')], fast: true },
    { name: '7-day rate by service, 5 m steps, `| drop host`', api: () => ['query_range', { query: q(RATE, false, true), ...rate }], sql: () => [SQL.rollupCount, counts(rateEnd - 7 * DAY, rateEnd, 300, '.+')], fast: true },
    { name: 'the same, counted raw (`|= ""`)', api: () => ['query_range', { query: q(RATE, true, true), ...rate }], sql: () => [SQL.rawCount, counts(rateEnd - 7 * DAY, rateEnd, 300, '.+')], fast: false },
  ];

  // The rollup's answers are the raw path's.
  for (const [a, b] of [[2, 3], [5, 6]]) {
    const x = (await loki(...questions[a].api())).body.data.result;
    const y = (await loki(...questions[b].api())).body.data.result;
    const key = (r) => JSON.stringify(Object.entries(r.metric).sort());
    const ys = new Map(y.map((r) => [key(r), r.values]));
    const same = x.length === y.length && x.every((r) => {
      const v = ys.get(key(r));
      return v && v.length === r.values.length && r.values.every(([t, n], i) => t === v[i][0] && Math.abs(Number(n) - Number(v[i][1])) <= 1e-9 * Math.max(1, Math.abs(Number(n))));
    });
    if (!same) throw new Error(`${questions[a].name}: the rollup's answer differs from the raw count's`);
    console.error(`[bench:loki] ${questions[a].name}: ${x.length} series, equal to the raw count's`);
  }

  const timings = questions.map(() => ({ api: [], sql: [] }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, question] of questions.entries()) {
      const [path, params] = question.api();
      const [text, sqlParams] = question.sql();
      await loki(path, params); // warm up
      await sql(text, sqlParams);
      const api = [];
      const base = [];
      const before = await answered();
      for (let i = 0; i < REPS; i++) {
        if (i % 2) {
          api.push((await loki(path, params)).ms);
          base.push(await sql(text, sqlParams));
        } else {
          base.push(await sql(text, sqlParams));
          api.push((await loki(path, params)).ms);
        }
      }
      const viaRollup = (await answered()) - before;
      if (question.fast !== undefined && (viaRollup === REPS) !== question.fast) throw new Error(`${question.name}: ${viaRollup} of ${REPS} answered from the rollup`);
      timings[k].api.push(api);
      timings[k].sql.push(base);
      console.error(`[bench:loki] round ${round + 1} ${question.name}: API p50 ${percentile(api, 0.5).toFixed(1)} ms, SQL p50 ${percentile(base, 0.5).toFixed(1)} ms`);
    }
  }
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });

  const results = questions.map((question, k) => ({
    name: question.name,
    path: question.fast === undefined ? '' : question.fast ? 'rollup' : 'raw',
    api: median(timings[k].api.map((xs) => percentile(xs, 0.5))),
    api90: median(timings[k].api.map((xs) => percentile(xs, 0.9))),
    sql: median(timings[k].sql.map((xs) => percentile(xs, 0.5))),
  }));
  for (const r of results) console.error(`[bench:loki] ${r.name}: API ${r.api.toFixed(1)} ms (p90 ${r.api90.toFixed(1)}), SQL ${r.sql.toFixed(1)} ms`);
  const [lines, volumeAsSent, volume, , rateAsSent, rateFast] = results;
  const verdict = (ok) => (ok ? 'pass' : '**FAIL**');
  // A table cell's `|` (LogQL's pipes) must be escaped, even in code.
  const cell = (text) => text.replace(/\|/g, '\\|');
  const L = intro(
    '## Loki query API: Grafana\'s queries against hand-written SQL',
    `Measured ${stamp()} UTC on ${EVENTS.toLocaleString('en')} generated events spread evenly over the last 7 days (8 services, 20 hosts, 4 levels, 7 message shapes), embedded store; the rollups hold everything received before the last ten minutes (filled as the job would have), the job counted the rest. ${ROUNDS} rounds of ${REPS} timed requests per question, API and SQL alternating; the figures are the medians of the rounds' p50s (p90 likewise). Reproduce with:`,
    [`npm run build && BENCH_EVENTS=${EVENTS} BENCH_ROUNDS=${ROUNDS} BENCH_REPS=${REPS} node bench/loki.mjs`],
    `**Machine:** ${machine()}. Shared and noisy: other test suites ran beside it.`,
  );
  L.push(
    ...table(
      ['question', 'answered from', 'API p50 / p90 ms', 'SQL p50 ms', 'SQL is'],
      'llrrl',
      results.map((r, k) => [cell(r.name), r.path, `${r.api.toFixed(1)} / ${r.api90.toFixed(1)}`, r.sql.toFixed(1), k === 0 ? 'the same SELECT' : questions[k].sql()[0] === SQL.rollupCount ? 'rollup + raw tail, per step' : 'raw count, per step']),
    ),
  );
  L.push('');
  L.push(
    ...table(['target (#18)', 'measured', ''], 'lrl', ([
      ['log query newest 1000 ≤ 1.2× its bare SQL (p50)', `${(lines.api / lines.sql).toFixed(2)}×`, verdict(lines.api / lines.sql <= 1.2)],
      ['logs volume over 24 h, p50 ≤ 100 ms — with `| drop host`', `${volume.api.toFixed(1)} ms`, verdict(volume.api <= 100)],
      ['logs volume over 24 h, p50 ≤ 100 ms — as Grafana sends it', `${volumeAsSent.api.toFixed(1)} ms`, verdict(volumeAsSent.api <= 100)],
      ['7-day rate by service, p50 ≤ 300 ms — with `| drop host`', `${rateFast.api.toFixed(1)} ms`, verdict(rateFast.api <= 300)],
      ['7-day rate by service, p50 ≤ 300 ms — as Grafana sends it', `${rateAsSent.api.toFixed(1)} ms`, verdict(rateAsSent.api <= 300)],
    ]).map(([a, b, c]) => [cell(a), b, c])),
  );
  L.push('');
  L.push(
    'The rollup has no host column; a sum\'s grouping moves into the counting it sums (evaluate.ts, pushDownGrouping), so the queries as Grafana sends them count per level or per service, which the rollup answers, as it does the same with an explicit `| drop host`. The `|= ""` rows count the same raw events (a line filter the rollup cannot take); the rollup\'s answers were checked equal to them in this run. ' +
      `Generating and inserting the events took ${genSeconds.toFixed(0)} s, filling the rollups ${rollupSeconds.toFixed(0)} s; neither is measured against anything.`,
  );
  const section = L.join('\n');
  console.log(section);
  if (WRITE) writeSection('loki', 'bench/loki.mjs', section);
}

await main();

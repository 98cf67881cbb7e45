// bench/query: searches, trends and fields through the HTTP API against the
// same questions as hand-written SQL (bench/query-baseline.sql) run straight
// on the engine, in the same process and run, on generated events spread
// over 24 h; plus the memory an export of 1M events takes.
//
//   npm run build && node bench/query.mjs                 # 10M events, writes docs/BENCHMARKS.md
//   BENCH_EVENTS=1000000 BENCH_REPS=10 BENCH_WRITE=0 node bench/query.mjs
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, dist, flag, intro, machine, option, percentile, stamp, table, writeSection } from './lib.mjs';

const { buildApp } = await import(dist('app.js'));
const { loadConfig } = await import(dist('config.js'));
const { migrate } = await import(dist('store/migrate.js'));
const { openStore } = await import(dist('store/store.js'));
const { eventRows } = await import(dist('store/rows.js'));
const { Rollup, WATERMARK_KEY } = await import(dist('store/rollup.js'));
const { writeMeta } = await import(dist('store/meta.js'));
const { uuidv7 } = await import(dist('model/id.js'));
const { fetch } = globalThis;

const EVENTS = option('EVENTS', 10_000_000);
const REPS = option('REPS', 30);
const WRITE = flag('WRITE', true);
const EXPORT = option('EXPORT', 1_000_000);

let seed = option('SEED', Date.now() % 100000);
const rand = (n) => {
  seed = (seed * 48271) % 2147483647;
  return seed % n;
};
const pick = (xs) => xs[rand(xs.length)];

const SERVICES = ['api', 'web', 'worker', 'billing', 'auth', 'search', 'mailer', 'cron'];
const LEVELS = [['info', 9], ['info', 9], ['info', 9], ['debug', 5], ['warn', 13], ['error', 17]];
const WORDS = ['timeout', 'refused', 'retrying', 'completed', 'started', 'failed', 'cache', 'deadlock', 'throttled', 'handshake'];
const TEMPLATES = [
  (i) => `GET /api/v1/items/${i % 5000} completed in ${i % 300}ms`,
  (i) => `connection reset by peer while reading from shard-${i % 32}`,
  (i) => `job ${i} ${WORDS[i % WORDS.length]} after ${i % 60}s on queue mail`,
  (i) => `user ${i % 9973} login ${i % 7 ? 'completed' : 'failed'} via oauth`,
  (i) => `cache miss for key session:${i % 100000}; fetching from origin`,
  (i) => `deadlock detected on table orders, retrying transaction ${i}`,
];

const baseline = Object.fromEntries(
  readFileSync(join(ROOT, 'bench/query-baseline.sql'), 'utf8')
    .split(/^-- name: /m)
    .slice(1)
    .map((block) => {
      const [name, ...rest] = block.split('\n');
      return [name.trim(), rest.join('\n').replace(/;\s*$/, '').trim()];
    }),
);

const ms = (t) => Number(t) / 1e6;
const chTime = (msEpoch) => new Date(msEpoch).toISOString().replace('T', ' ').replace('Z', '');

async function generate(store, now) {
  const span = 24 * 3600_000;
  const batch = 200_000;
  const t0 = Date.now();
  for (let start = 0; start < EVENTS; start += batch) {
    const events = [];
    for (let i = start; i < Math.min(EVENTS, start + batch); i++) {
      const tms = now - span + Math.floor((i / EVENTS) * span);
      const ns = BigInt(tms) * 1_000_000n + BigInt(i % 1_000_000);
      const [level, severity] = LEVELS[i % LEVELS.length];
      events.push({
        id: uuidv7(tms), timeNs: ns, receivedNs: ns, service: SERVICES[i % SERVICES.length], host: `host-${i % 20}`, level, severity,
        message: TEMPLATES[i % TEMPLATES.length](i), attributes: { status: String([200, 200, 200, 201, 404, 500, 503][i % 7]), path: `/p/${i % 50}`, user: String(i % 9973) },
        traceId: '', spanId: '',
      });
    }
    await store.insertEvents(eventRows(events, 'bench', 'bench'));
  }
  return (Date.now() - t0) / 1000;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-query-'));
  const admin = 'bench-admin-token-1234';
  const config = loadConfig({ SLUICE_DATA_DIR: dir, LOG_LEVEL: 'silent', SLUICE_ADMIN_TOKEN: admin, SLUICE_ROLES: 'api,ingest', SLUICE_QUERY_TIMEOUT: '120' });
  const store = await openStore(config, { createDatabase: true });
  await migrate(store, config.retentionDays);
  const now = Date.now();
  // The events carry received times over the past day, before the watermark
  // migrate set: move it back, and let serve's rollup job count the day the
  // way it would have counted it live.
  await writeMeta(store, WATERMARK_KEY, String(BigInt(now - 25 * 3600_000) * 1_000_000n));
  console.error(`[bench:query] generating ${EVENTS.toLocaleString('en')} events over 24 h…`);
  const genSeconds = await generate(store, now);
  const rollup = new Rollup(store, { warn() {} });
  for (let before = -1n; before !== (await rollup.watermark()); ) {
    before = await rollup.watermark();
    await rollup.run();
  }
  // Nothing is ingested from here on: the baseline's raw part starts here.
  const watermark = await rollup.watermark();
  const rollupSeconds = (Date.now() - now) / 1000 - genSeconds;
  console.error(`[bench:query] generated and rolled up in ${genSeconds.toFixed(0)} s + ${rollupSeconds.toFixed(0)} s`);
  const { app } = await buildApp({ config, store, logger: false });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const auth = { authorization: `Bearer ${admin}` };

  const api = async (path) => {
    const t = process.hrtime.bigint();
    const res = await fetch(url + path, { headers: auth });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    return ms(process.hrtime.bigint() - t);
  };
  const sql = async (name, params) => {
    const t = process.hrtime.bigint();
    const rs = await store.query.query({ query: baseline[name], query_params: params, format: 'JSONEachRow' });
    await rs.json();
    return ms(process.hrtime.bigint() - t);
  };
  const hour = (back) => {
    const to = now - back;
    return { to, from: to - 3600_000 };
  };
  const iso = (t) => new Date(t).toISOString();

  const cases = {
    'word search, last hour': () => {
      const w = pick(WORDS);
      const r = hour(0);
      return [`/api/v1/search?q=${w}&from=${iso(r.from)}&to=${iso(r.to)}`, 'word_1h', { word: w, from: chTime(r.from), to: chTime(r.to) }];
    },
    'word search, a random hour': () => {
      const w = pick(WORDS);
      const r = hour(rand(23) * 3600_000);
      return [`/api/v1/search?q=${w}&from=${iso(r.from)}&to=${iso(r.to)}`, 'word_1h', { word: w, from: chTime(r.from), to: chTime(r.to) }];
    },
    'phrase search, a random hour': () => {
      const r = hour(rand(23) * 3600_000);
      const re = '(?i)(?:^|[\\x00-\\x2F\\x3A-\\x40\\x5B-\\x60\\x7B-\\x7F])connection[\\x00-\\x2F\\x3A-\\x40\\x5B-\\x60\\x7B-\\x7F]+reset(?:$|[\\x00-\\x2F\\x3A-\\x40\\x5B-\\x60\\x7B-\\x7F])';
      return [`/api/v1/search?q=${encodeURIComponent('"connection reset"')}&from=${iso(r.from)}&to=${iso(r.to)}`, 'phrase_1h', { re, from: chTime(r.from), to: chTime(r.to) }];
    },
    'field search, 6 hours': () => {
      const s = pick(SERVICES);
      const to = now - rand(18) * 3600_000;
      const from = to - 6 * 3600_000;
      return [`/api/v1/search?q=${encodeURIComponent(`service:${s} status:>=500`)}&from=${iso(from)}&to=${iso(to)}`, 'field_6h', { service: s, from: chTime(from), to: chTime(to) }];
    },
    'regex search, a random hour': () => {
      const r = hour(rand(23) * 3600_000);
      const re = `shard-${rand(3) + 1}[0-9]`;
      return [`/api/v1/search?q=${encodeURIComponent(`/${re}/`)}&from=${iso(r.from)}&to=${iso(r.to)}`, 'regex_1h', { re, from: chTime(r.from), to: chTime(r.to) }];
    },
    'trends over 24 h by level (5m steps)': () => {
      const to = Math.ceil(now / 300_000) * 300_000;
      const from = to - 24 * 3600_000;
      const w = chTime(Number(watermark / 1_000_000n));
      return [`/api/v1/trends?from=${iso(from)}&to=${iso(to)}&step=5m&by=level`, 'trends_24h_by_level', { rfrom: from / 1000, rto: to / 1000, from: chTime(from), to: chTime(to), w }];
    },
    'fields, a random hour': () => {
      const r = hour(rand(23) * 3600_000);
      return [`/api/v1/fields?from=${iso(r.from)}&to=${iso(r.to)}`, 'fields_1h', { from: chTime(r.from), to: chTime(r.to) }];
    },
  };

  const results = [];
  for (const [name, make] of Object.entries(cases)) {
    const apiMs = [];
    const sqlMs = [];
    await (async () => {
      const [path, b, params] = make();
      await api(path); // warm up once
      await sql(b, params);
    })();
    for (let i = 0; i < REPS; i++) {
      const [path, b, params] = make();
      if (i % 2) {
        apiMs.push(await api(path));
        sqlMs.push(await sql(b, params));
      } else {
        sqlMs.push(await sql(b, params));
        apiMs.push(await api(path));
      }
    }
    const r = { name, apiP50: percentile(apiMs, 0.5), apiP99: percentile(apiMs, 0.99), sqlP50: percentile(sqlMs, 0.5), sqlP99: percentile(sqlMs, 0.99) };
    results.push(r);
    console.error(`[bench:query] ${name}: API p50 ${r.apiP50.toFixed(1)} ms p99 ${r.apiP99.toFixed(1)}; SQL p50 ${r.sqlP50.toFixed(1)} p99 ${r.sqlP99.toFixed(1)}; ratio ${(r.apiP50 / r.sqlP50).toFixed(2)}`);
  }

  // Export: stream EXPORT events and watch this process's RSS.
  const exportTo = now;
  const exportFrom = now - Math.ceil((EXPORT / EVENTS) * 24 * 3600_000);
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
  const t0 = process.hrtime.bigint();
  const res = await fetch(`${url}/api/v1/export?from=${iso(exportFrom)}&to=${iso(exportTo)}`, { headers: auth });
  let lines = 0;
  for await (const chunk of res.body) for (const b of chunk) if (b === 10) lines++;
  const exportS = ms(process.hrtime.bigint() - t0) / 1000;
  clearInterval(sampler);
  console.error(`[bench:query] export: ${lines.toLocaleString('en')} events in ${exportS.toFixed(1)} s, RSS +${((peak - rss0) / 2 ** 20).toFixed(0)} MiB`);

  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });

  const get = (n) => results.find((r) => r.name === n);
  const worst = Math.max(...results.map((r) => r.apiP50 / r.sqlP50));
  const L = intro(
    '## Query: the API against hand-written SQL on the engine',
    `Measured ${stamp()} UTC on ${EVENTS.toLocaleString('en')} generated events spread evenly over the last 24 h (8 services, 20 hosts, 6 message shapes, 3 attributes), embedded store, ${REPS} repetitions per question with terms and ranges drawn at random (seeded), API and SQL alternating; query cache off. Reproduce with:`,
    [`npm run build && BENCH_EVENTS=${EVENTS} BENCH_REPS=${REPS} node bench/query.mjs`],
    `**Machine:** ${machine()}. Shared and noisy.`,
  );
  L.push(
    ...table(
      ['question', 'API p50 / p99 ms', 'SQL p50 / p99 ms', 'API/SQL (p50)'],
      'lrrr',
      results.map((r) => [r.name, `${r.apiP50.toFixed(1)} / ${r.apiP99.toFixed(1)}`, `${r.sqlP50.toFixed(1)} / ${r.sqlP99.toFixed(1)}`, (r.apiP50 / r.sqlP50).toFixed(2)]),
    ),
  );
  L.push('');
  const trends = get('trends over 24 h by level (5m steps)').apiP50;
  const word = get('word search, last hour').apiP50;
  L.push(
    ...table(['target', 'measured', ''], 'lrl', [
      ['API overhead ≤ 1.3× the bare SQL (worst question, p50)', `${worst.toFixed(2)}×`, worst <= 1.3 ? 'pass' : '**FAIL**'],
      [`trends over 24 h of ${EVENTS.toLocaleString('en')} events, p50 < 100 ms`, `${trends.toFixed(1)} ms`, trends < 100 ? 'pass' : '**FAIL**'],
      ['word search over the last hour, p50 < 100 ms', `${word.toFixed(1)} ms`, word < 100 ? 'pass' : '**FAIL**'],
      [`export of ${lines.toLocaleString('en')} events: time, and RSS growth of the serving process`, `${exportS.toFixed(1)} s, +${((peak - rss0) / 2 ** 20).toFixed(0)} MiB`, ''],
    ]),
  );
  L.push('');
  L.push('The baseline SQL is `bench/query-baseline.sql`: what the API runs, minus parsing, parameter building, HTTP and JSON shaping. Generating and inserting the events took ' + genSeconds.toFixed(0) + ' s; the rollup job then counted them in ' + rollupSeconds.toFixed(0) + ' s (their received times are backdated over the day, so it caught up on 24 h of 2 s chunks, each a pair of small inserts; live, it counts one chunk every 2 s). Neither is measured against anything.');
  const section = L.join('\n');
  console.log(section);
  if (WRITE) writeSection('query', 'bench/query.mjs', section);
}

await main();

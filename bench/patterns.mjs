#!/usr/bin/env node
// bench/patterns: how well the pattern miner (dist/patterns/miner.js) groups
// real log lines, and what a line costs it.
//
// Accuracy is grouping accuracy (dist/patterns/accuracy.js), on each loghub
// system with a hand-labelled EventId per line: once with each line's
// `Content` column as the message (the standard setting of the log-parsing
// literature, where Drain averages ~0.86 over 16 systems), once with the
// raw line, header included. The cost is ns per line of `miner.add` over a
// system's lines in a fresh miner, against two baselines in the same run on
// the same lines: the masking alone, and `split(/\s+/)`.
//
// Then the API: GET /api/v1/patterns over a 1-hour range holding
// BENCH_EVENTS events (the eight systems' Content lines, repeated with their
// digits shifted so each copy has fresh numbers, spread over the hour), p50
// and p90 of BENCH_REPS requests, against the engine alone in the same run:
// `SELECT message, count() … GROUP BY message` (the cheapest grouping of the
// range's messages) and the store's shape query itself.
//
//   npm run build && node bench/patterns.mjs            # writes docs/BENCHMARKS.md
//   BENCH_RUNS=3 BENCH_WRITE=0 node bench/patterns.mjs  # quick look
//
// Settings (environment):
//   BENCH_RUNS    repetitions of the timing; medians are quoted     7
//   BENCH_WRITE   1 = regenerate the section in docs/BENCHMARKS.md  1
//   BENCH_EVENTS  events in the range of the API part                1000000
//   BENCH_REPS    requests timed in the API part                     9
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dist, flag, intro, loghubStructured, machine, median, option, percentile, stamp, table, writeSection } from './lib.mjs';

const RUNS = option('RUNS', 7);
const EVENTS = option('EVENTS', 1_000_000);
const REPS = option('REPS', 9);
const WRITE = flag('WRITE', true);
const SYSTEMS = ['Android', 'Apache', 'HDFS', 'HealthApp', 'Linux', 'OpenSSH', 'Spark', 'Zookeeper'];

const { PatternMiner } = await import(dist('patterns/miner.js'));
const { maskedTokens } = await import(dist('patterns/mask.js'));
const { groupingAccuracy } = await import(dist('patterns/accuracy.js'));

function accuracy(messages, truth) {
  const miner = new PatternMiner();
  const got = messages.map((m) => miner.add(m));
  return { accuracy: groupingAccuracy(got.map((t) => t.resolve()), truth), templates: miner.templates().length };
}

/** ns per line of `fn` over `lines`, each pass starting afresh (`setup`), for at least 200 ms. */
function time(setup, fn, lines) {
  let passes = 0;
  const start = process.hrtime.bigint();
  let now = start;
  while (now - start < 200_000_000n) {
    const state = setup();
    for (let i = 0; i < lines.length; i++) fn(state, lines[i]);
    passes++;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / (passes * lines.length);
}

const impls = [
  ['miner.add', () => new PatternMiner(), (m, line) => m.add(line)],
  ['masking alone', () => undefined, (_, line) => maskedTokens(line)],
  ['split(/\\s+/)', () => undefined, (_, line) => line.split(/\s+/)],
];

const data = SYSTEMS.map((name) => [name, loghubStructured(name)]);
const rows = [];
const timings = new Map();
for (const [, { rows: r }] of data) for (const [, setup, fn] of impls) time(setup, fn, r.map((x) => x.Content)); // warm up
for (let run = 0; run < RUNS; run++) {
  for (const [name, { rows: r }] of data) {
    const contents = r.map((x) => x.Content);
    const order = run % 2 ? [...impls].reverse() : impls;
    for (const [impl, setup, fn] of order) timings.set(`${name}\0${impl}`, [...(timings.get(`${name}\0${impl}`) ?? []), time(setup, fn, contents)]);
  }
  console.error(`[bench:patterns] run ${run + 1}/${RUNS}`);
}
const ns = (name, impl) => median(timings.get(`${name}\0${impl}`));
let sumContent = 0;
let sumRaw = 0;
let minContent = 1;
for (const [name, { rows: r, lines }] of data) {
  const truth = r.map((x) => x.EventId);
  const content = accuracy(r.map((x) => x.Content), truth);
  const raw = accuracy(lines.map((l) => l.trimEnd()), truth);
  sumContent += content.accuracy;
  sumRaw += raw.accuracy;
  minContent = Math.min(minContent, content.accuracy);
  rows.push([name, String(new Set(truth).size), String(content.templates), content.accuracy.toFixed(3), raw.accuracy.toFixed(3),
    ...impls.map(([impl]) => `${ns(name, impl).toFixed(0)} ns`), (ns(name, 'miner.add') / ns(name, 'masking alone')).toFixed(2)]);
}
rows.push(['**mean**', '', '', `**${(sumContent / data.length).toFixed(3)}**`, `**${(sumRaw / data.length).toFixed(3)}**`, '', '', '', '']);

const range = await rangeBench();

const L = intro(
  '## Patterns: grouping accuracy and cost per line',
  `Measured ${stamp()} UTC: the pattern miner on the 2,000 hand-labelled lines of each loghub system, fed in file order to a fresh miner with its defaults (a position becomes a variable at 4 distinct words). Accuracy is grouping accuracy: a line is right when the lines sharing its template are exactly the lines sharing its EventId. "content" sends each line's \`Content\` column (as the literature does; Drain's published mean over 16 systems is ~0.86), "raw" the whole line with its header. Cost: ns per line of \`miner.add\`, of the masking alone and of \`split(/\\s+/)\` on the Content lines, median of ${RUNS} runs in one process. Reproduce with:`,
  [`npm run build && BENCH_RUNS=${RUNS} node bench/patterns.mjs`],
  `**Machine:** ${machine()}. Shared and noisy. Mean accuracy on content ${(sumContent / data.length).toFixed(3)} (target ≥ 0.90), lowest ${minContent.toFixed(3)} (target ≥ 0.75).`,
);
L.push(...table(['system', 'true groups', 'templates', 'accuracy (content)', 'accuracy (raw)', ...impls.map(([i]) => i), 'miner / masking'], 'lrrrrrrrr', rows));
L.push('', `The patterns of a range of ${EVENTS.toLocaleString('en')} events (one hour; ${range.patterns} patterns, ${range.shapes.toLocaleString('en')} shapes), ${REPS} requests each, loaded in ${range.loadSeconds.toFixed(0)} s:`, '');
L.push(...table(['what', 'p50', 'p90', '/ GROUP BY message'], 'lrrr', range.rows));
L.push('', `The API's time over the shape query's is the miner and the JSON; over GROUP BY message, the masking regex in the scan.`);
const section = L.join('\n');
console.log(section);
if (WRITE) writeSection('patterns', 'bench/patterns.mjs', section);

async function rangeBench() {
  const { fetch } = globalThis;
  const { buildApp } = await import(dist('app.js'));
  const { loadConfig } = await import(dist('config.js'));
  const { migrate } = await import(dist('store/migrate.js'));
  const { openStore } = await import(dist('store/store.js'));
  const { eventRows } = await import(dist('store/rows.js'));
  const { uuidv7 } = await import(dist('model/id.js'));
  const { SQL_DIGIT_SEGMENT } = await import(dist('patterns/mask.js'));
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-patterns-'));
  const admin = 'bench-admin-token-1234';
  const config = loadConfig({ SLUICE_DATA_DIR: dir, LOG_LEVEL: 'silent', SLUICE_ADMIN_TOKEN: admin, SLUICE_ROLES: 'api', SLUICE_QUERY_TIMEOUT: '120', SLUICE_QUERY_MAX_ROWS: String(EVENTS * 2) });
  const store = await openStore(config, { createDatabase: true });
  try {
    await migrate(store, config.retentionDays);
    const contents = data.flatMap(([, d]) => d.rows.map((r) => r.Content));
    const levels = ['info', 'info', 'info', 'warn', 'error'];
    const to = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const from = to - 3600_000;
    const t0 = Date.now();
    for (let start = 0; start < EVENTS; start += 200_000) {
      const events = [];
      for (let i = start; i < Math.min(EVENTS, start + 200_000); i++) {
        const copy = Math.floor(i / contents.length);
        // Fresh numbers in each copy: every digit shifted by the copy number.
        const message = contents[i % contents.length].replace(/\d/g, (d) => String((Number(d) + copy) % 10));
        const tms = from + Math.floor((i / EVENTS) * 3600_000);
        const ns = BigInt(tms) * 1_000_000n;
        events.push({ id: uuidv7(tms), timeNs: ns, receivedNs: ns, service: 'bench', host: 'h', level: levels[i % levels.length], severity: 9, message, attributes: {}, traceId: '', spanId: '' });
      }
      await store.insertEvents(eventRows(events, 'bench', 'bench'));
    }
    const loadSeconds = (Date.now() - t0) / 1000;
    const { app } = await buildApp({ config, store, logger: false });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const iso = (t) => new Date(t).toISOString();
    const chText = (t) => iso(t).replace('T', ' ').replace('Z', '');
    const params = { from: chText(from), to: chText(to), rx: SQL_DIGIT_SEGMENT };
    let answer;
    const cases = [
      ['GET /api/v1/patterns', async () => {
        const res = await fetch(`${url}/api/v1/patterns?from=${iso(from)}&to=${iso(to)}&limit=100`, { headers: { authorization: `Bearer ${admin}` } });
        if (res.status !== 200) throw new Error(`patterns: ${res.status} ${await res.text()}`);
        answer = await res.json();
      }],
      ['the shape query alone (engine)', async () => {
        const rs = await store.query.query({ query: "SELECT replaceRegexpAll(message, {rx:String}, '<*>') AS shape, count() AS n FROM logs WHERE time >= {from:DateTime64(9)} AND time <= {to:DateTime64(9)} GROUP BY shape ORDER BY n DESC LIMIT 20000", query_params: params, format: 'JSONCompact' });
        await rs.json();
      }],
      ['GROUP BY message (engine)', async () => {
        const rs = await store.query.query({ query: 'SELECT message, count() AS n FROM logs WHERE time >= {from:DateTime64(9)} AND time <= {to:DateTime64(9)} GROUP BY message ORDER BY n DESC LIMIT 20000', query_params: params, format: 'JSONCompact' });
        await rs.json();
      }],
    ];
    const times = new Map(cases.map(([name]) => [name, []]));
    for (const [, fn] of cases) await fn(); // warm up
    for (let rep = 0; rep < REPS; rep++) {
      for (const [name, fn] of rep % 2 ? [...cases].reverse() : cases) {
        const t = process.hrtime.bigint();
        await fn();
        times.get(name).push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }
    await app.close();
    const base = median(times.get('GROUP BY message (engine)'));
    const shapes = await (await store.query.query({ query: "SELECT uniqExact(replaceRegexpAll(message, {rx:String}, '<*>')) AS n FROM logs", query_params: params, format: 'JSONEachRow' })).json();
    return {
      loadSeconds,
      patterns: answer.patterns.length === 100 ? '100+' : answer.patterns.length,
      shapes: Number(shapes[0].n),
      rows: cases.map(([name]) => {
        const t = times.get(name);
        return [name, `${median(t).toFixed(0)} ms`, `${percentile(t, 0.9).toFixed(0)} ms`, (median(t) / base).toFixed(2)];
      }),
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

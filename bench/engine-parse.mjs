// bench/engine-parse: how much of ingest's cost would go if the engine
// parsed the clients' NDJSON instead of Sluice's JavaScript (#17's first
// lever), measured before building it. One process, one data directory, the
// same NDJSON request bodies (as bench/ingest makes them: loghub messages,
// a service, host, level, time, and two attributes), three ways into
// Sluice's `logs` table, each into a freshly migrated database of its own:
//
//   js      what serve does: the server's decodeBody (JSON.parse + normalize)
//           and eventRows (row bytes) from dist/, then rawInsert of the rows;
//   engine  the request bodies as they came, rawInsert into a Null table of
//           the request's fields whose materialized view turns them into
//           `logs` rows (time parsed, severity from level, the attributes as a
//           map) — JavaScript only concatenates the bodies;
//   rows    the baseline: rawInsert of the js rows made before the clock
//           starts (bench/ingest's raw baseline).
//
// `engine` knows the request's field names in advance, so it is the
// ceiling of the lever, not a design: Sluice's normalize finds the message,
// level and time under many names, guesses levels from text, keeps any other
// field as an attribute and rejects bad lines one by one.
//
//   npm run build && node bench/engine-parse.mjs
//   BENCH_TOTAL=200000 BENCH_ROUNDS=1 node bench/engine-parse.mjs
//
// Settings (environment):
//   BENCH_TOTAL   events per way and round                  400000
//   BENCH_BATCH   events per request body                   500
//   BENCH_INSERT  events per insert (bodies concatenated)   20000
//   BENCH_ROUNDS  rounds (the ways' order rotates)          3
//   BENCH_WRITE   1 = regenerate the section in docs/BENCHMARKS.md   1
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dist, flag, gitRev, insertEventRows, intro, loghubLines, machine, median, ndjsonBodies, openChdb, option, processCpu, requestContext, SERVER_INSERT_SETTINGS, stamp, table, writeSection } from './lib.mjs';

const { performance } = globalThis;

const TOTAL = option('TOTAL', 400_000);
const BATCH = option('BATCH', 500);
const INSERT = option('INSERT', 20_000);
const ROUNDS = option('ROUNDS', 3);
const WRITE = flag('WRITE', true);

/** bench/ingest's request bodies: `TOTAL / BATCH` bodies over the last 15 minutes. */
function bodies(seed) {
  return ndjsonBodies({ lines: loghubLines(), seed, requests: TOTAL / BATCH, perRequest: BATCH, baseMs: Date.now() - 15 * 60_000, spanMs: 15 * 60_000 }).bodies;
}

// The request's fields, and a view that makes them `logs` rows as
// normalize would for these bodies (levels to OpenTelemetry severities:
// src/model/levels.ts).
const NULL_TABLE = `CREATE TABLE ingest_request (time String, level String, service String, host String, msg String, status String, path String) ENGINE = Null`;
const VIEW = `CREATE MATERIALIZED VIEW ingest_request_mv TO logs AS
  SELECT generateUUIDv7() AS id, parseDateTime64BestEffort(time, 9, 'UTC') AS time, now64(9, 'UTC') AS received_at,
    service, host, level, toUInt8(transform(level, ['trace', 'debug', 'info', 'warn', 'error', 'fatal'], [1, 5, 9, 13, 17, 21], 9)) AS severity,
    msg AS message, map('status', status, 'path', path) AS attributes, '' AS trace_id, '' AS span_id, 'bench' AS source, 'w' AS writer
  FROM ingest_request`;

async function main() {
  const { decodeBody } = await import(dist('ingest/decode-json.js'));
  const { eventRows } = await import(dist('store/rows.js'));
  const { loadMigrations } = await import(dist('store/migrate.js'));
  const { nowNs } = await import(dist('model/time.js'));
  const nctx = await requestContext('');
  const writer = randomUUID();
  const input = bodies(42);
  const perInsert = Math.max(1, Math.round(INSERT / BATCH));
  const groups = [];
  for (let i = 0; i < input.length; i += perInsert) groups.push(input.slice(i, i + perInsert));
  const toRows = (body) => {
    const d = decodeBody('ndjson', body, nctx(), 1024 * 1024);
    if (d.rejections.length > 0) throw new Error(JSON.stringify(d.rejections[0]));
    return eventRows(d.events, 'bench', writer);
  };
  const prebuilt = groups.map((g) => Buffer.concat(g.map(toRows)));
  const rowBytes = prebuilt.reduce((a, b) => a + b.length, 0);
  const reqBytes = input.reduce((a, b) => a + b.length, 0);

  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-engine-parse-'));
  const { conn, client } = await openChdb(dir, 'default');
  let db = 0;
  const fresh = async () => {
    const name = `sluice_${++db}`;
    await client.command({ query: `CREATE DATABASE ${name}` });
    await client.command({ query: `USE ${name}` });
    for (const m of loadMigrations()) for (const q of m.statements) await client.command({ query: q, query_params: q.includes('{now_ns:') ? { now_ns: nowNs().toString() } : {} });
    return name;
  };
  const count = async (name) => Number((await (await client.query({ query: `SELECT count() AS n FROM ${name}.logs`, format: 'JSONEachRow' })).json())[0].n);

  const ways = {
    js: async () => {
      for (const g of groups) await insertEventRows(conn, 'logs', Buffer.concat(g.map(toRows)));
    },
    engine: async () => {
      for (const g of groups) await conn.chdb.rawInsert({ table: 'ingest_request', values: Buffer.concat(g), format: 'JSONEachRow', settings: SERVER_INSERT_SETTINGS });
    },
    rows: async () => {
      for (const b of prebuilt) await insertEventRows(conn, 'logs', b);
    },
  };
  const results = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  const names = Object.keys(ways);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) {
      const way = names[(k + round) % names.length];
      const name = await fresh();
      if (way === 'engine') {
        await client.command({ query: NULL_TABLE });
        await client.command({ query: VIEW });
      }
      const cpu0 = processCpu(process.pid);
      const t0 = performance.now();
      await ways[way]();
      const wall = (performance.now() - t0) / 1000;
      const cpu = processCpu(process.pid) - cpu0;
      const stored = await count(name);
      if (stored !== TOTAL) throw new Error(`${way}: ${stored} rows stored of ${TOTAL}`);
      results[way].push({ eps: TOTAL / wall, us: (cpu / TOTAL) * 1e6 });
      console.error(`[bench:engine-parse] round ${round + 1} ${way}: ${Math.round(TOTAL / wall)} events/s, ${((cpu / TOTAL) * 1e6).toFixed(1)} CPU-µs/event`);
      await client.command({ query: `DROP DATABASE ${name} SYNC` });
    }
  }
  await client.close();
  rmSync(dir, { recursive: true, force: true });
  const m = (way, f) => median(results[way].map(f));
  const eps = (way) => m(way, (r) => r.eps);
  const section = [
    ...intro(
      '## Ingest: the engine parsing the request bodies (a ceiling for #17)',
      `Measured ${stamp()} UTC (commit ${gitRev()}): ${TOTAL.toLocaleString('en')} events a way and round, ${ROUNDS} rounds (the ways' order rotates), ${BATCH}-event NDJSON request bodies (${(reqBytes / TOTAL).toFixed(0)} bytes an event) concatenated into ${INSERT.toLocaleString('en')}-event inserts, one at a time, each way into a freshly migrated database of the same embedded data directory. Reproduce with:`,
      [`npm run build && BENCH_TOTAL=${TOTAL} BENCH_ROUNDS=${ROUNDS} node bench/engine-parse.mjs`],
      `**Machine:** ${machine()}.`,
    ),
    ...table(
      ['way', 'what JavaScript does', 'events/s', 'CPU-µs / event (all threads)', 'events/s vs `rows`'],
      'llrrr',
      [
        ['js', "the server's decodeBody (JSON.parse + normalize) and eventRows per body, then rawInsert of the rows, as serve does", Math.round(eps('js')).toLocaleString('en'), m('js', (r) => r.us).toFixed(1), (eps('js') / eps('rows')).toFixed(2)],
        ['engine', "concatenates the bodies; rawInsert into a Null table of the request's fields, whose materialized view makes the `logs` rows", Math.round(eps('engine')).toLocaleString('en'), m('engine', (r) => r.us).toFixed(1), (eps('engine') / eps('rows')).toFixed(2)],
        ['rows', `nothing: rawInsert of the js rows made before the clock (${(rowBytes / TOTAL).toFixed(0)} bytes an event), bench/ingest's baseline`, Math.round(eps('rows')).toLocaleString('en'), m('rows', (r) => r.us).toFixed(1), '1.00'],
      ],
    ),
    '',
    "Every way stored every event, checked by count. `engine` is a ceiling, not a design: its view knows the request's field names, where Sluice's normalize finds the message, level and time under many names, guesses levels from text, keeps every other field as an attribute and rejects bad lines one by one. " +
      `It is cheaper than even the prebuilt rows because the engine reads the client's ${(reqBytes / TOTAL).toFixed(0)}-byte lines instead of ${(rowBytes / TOTAL).toFixed(0)}-byte rows (ids, two timestamps as text, the attribute map) and JavaScript does nothing per event.` +
      " What building it needs is in #17's stop notes: ids the live tail can announce, received times the rollup's hold can trust, keyed retries deduplicated through the view, and per-line rejections.",
  ].join('\n');
  console.log(section);
  if (WRITE) writeSection('engine-parse', 'bench/engine-parse.mjs', section);
}

main().catch((e) => {
  console.error(`[bench:engine-parse] failed: ${e?.stack ?? e}`);
  process.exit(1);
});

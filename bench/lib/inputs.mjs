// What the benchmarks generate their inputs from: a seeded PRNG, so a run's
// inputs are the same every time (and in its baseline child), and the
// loghub sample logs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from './csv.mjs';

export const LOGHUB = '/work/shared/datasets/loghub';

/** mulberry32: a small seeded PRNG. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Each loghub system's `<name>_2k.log` lines as they are (the files' `\r` kept), empty ones left out: [name, lines][]; none if the dataset is missing. */
export function loghubSystems() {
  if (!existsSync(LOGHUB)) return [];
  const systems = [];
  for (const name of readdirSync(LOGHUB).sort()) {
    const file = join(LOGHUB, name, `${name}_2k.log`);
    if (existsSync(file)) systems.push([name, readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0)]);
  }
  return systems;
}

/** All loghub lines, trailing white space trimmed, blank ones left out. */
export function loghubLines() {
  const lines = [];
  for (const [, raw] of loghubSystems()) {
    for (const line of raw) {
      const t = line.trimEnd();
      if (t.length > 0) lines.push(t);
    }
  }
  return lines;
}

/** A loghub system's hand-parsed `<name>_2k.log_structured.csv` as objects by column, with its raw lines. */
export function loghubStructured(name) {
  const rows = parseCsv(readFileSync(join(LOGHUB, name, `${name}_2k.log_structured.csv`), 'utf8'));
  const lines = readFileSync(join(LOGHUB, name, `${name}_2k.log`), 'utf8').split('\n').filter((l) => l.length > 0);
  return { rows, lines };
}

export const BODY_SERVICES = ['api', 'web', 'worker', 'auth', 'billing', 'search'];
const LEVELS = [['info', 0.72], ['debug', 0.1], ['warn', 0.1], ['error', 0.07], ['fatal', 0.01]];
const STATUSES = [200, 200, 200, 200, 200, 200, 201, 204, 301, 400, 404, 404, 500, 503];
const PATHS = ['/api/v1/users', '/api/v1/orders', '/login', '/logout', '/health', '/search', '/cart', '/checkout'];

function pickLevel(x) {
  let acc = 0;
  for (const [name, p] of LEVELS) {
    acc += p;
    if (x < acc) return name;
  }
  return 'info';
}

/**
 * NDJSON request bodies as applications send them to /api/v1/ingest
 * (bench/ingest, bench/engine-parse): `requests` bodies of `perRequest` events. Messages
 * are loghub lines; times are spread over `spanMs` from `baseMs` (recent,
 * so the retention window keeps them as they are).
 */
export function ndjsonBodies({ lines, seed, requests, perRequest, baseMs, spanMs }) {
  const rnd = prng(seed);
  const n = requests * perRequest;
  const bodies = [];
  let bytes = 0;
  for (let r = 0; r < requests; r++) {
    let s = '';
    for (let k = 0; k < perRequest; k++) {
      const i = r * perRequest + k;
      const service = BODY_SERVICES[Math.floor(rnd() * BODY_SERVICES.length)];
      const ms = baseMs + Math.floor((i * spanMs) / n) + Math.floor(rnd() * 1000);
      const path = PATHS[Math.floor(rnd() * PATHS.length)];
      s += JSON.stringify({
        time: new Date(ms).toISOString(),
        level: pickLevel(rnd()),
        service,
        host: `${service}-${1 + Math.floor(rnd() * 4)}`,
        msg: lines[Math.floor(rnd() * lines.length)],
        status: STATUSES[Math.floor(rnd() * STATUSES.length)],
        path: rnd() < 0.5 ? path : `${path}/${Math.floor(rnd() * 100_000)}`,
      }) + '\n';
    }
    const b = Buffer.from(s, 'utf8');
    bytes += b.length;
    bodies.push(b);
  }
  return { bodies, bytes };
}

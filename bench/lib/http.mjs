// HTTP from the load generator: one request helper, the closed loop of
// keep-alive clients the throughput benchmarks drive `serve` with, and the
// server's /metrics.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** One request to `path` of `base`; resolves with { status, headers, body } (body a Buffer) whatever the status. */
export function request(agent, base, path, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const withLength = body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) };
    const req = http.request(new URL(path, base), { agent, method, headers: withLength }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** POST /api/v1/ingest of an NDJSON body with a bearer token; rejects unless the answer is 200. */
export async function ingestNdjson(agent, base, token, body) {
  const r = await request(agent, base, '/api/v1/ingest', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, body });
  if (r.status !== 200) throw new Error(`ingest ${r.status}`);
}

/**
 * POSTs every body once from `clients` concurrent keep-alive clients, each
 * sending its next request as soon as the previous one is answered. A 503
 * or 429 is retried after its Retry-After with the same headers (so the
 * same Idempotency-Key, as the ingest contract allows). `answered(res, i,
 * ms)` sees each answer with the `ok` status, ms being that attempt's
 * latency; any other status fails the run. Resolves with { wall, retries }:
 * wall seconds from the first request to the last answer.
 */
export async function sendAll({ url, path, bodies, clients, headers, ok = 200, answered = () => {} }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  let next = 0;
  let retries = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (;;) {
        const i = next++;
        if (i >= bodies.length) return;
        const h = headers(i);
        for (let attempt = 0; ; attempt++) {
          const s = performance.now();
          const r = await request(agent, url, path, { method: 'POST', headers: h, body: bodies[i] });
          if (r.status === ok) {
            answered(r, i, performance.now() - s);
            break;
          }
          if ((r.status === 503 || r.status === 429) && attempt < 50) {
            retries++;
            await sleep(Math.min(1000, 1000 * Number(r.headers['retry-after'] ?? 1)));
            continue;
          }
          throw new Error(`${path} request ${i}: HTTP ${r.status} ${r.body.toString('utf8').slice(0, 300)}`);
        }
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  agent.destroy();
  return { wall, retries };
}

/** GET /metrics as a Map from series (name with its labels) to value. */
export async function scrapeMetrics(base) {
  const { body } = await request(undefined, base, '/metrics');
  const m = new Map();
  for (const line of body.toString('utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return m;
}

/** A metric summed over all its label sets. */
export function sumMetric(metrics, name) {
  let sum = 0;
  for (const [series, v] of metrics) if (series === name || series.startsWith(`${name}{`)) sum += v;
  return sum;
}

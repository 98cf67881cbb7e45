// Credentials and TLS of Alertmanager pushes, against stand-ins that record
// what arrives (https servers on loopback with certificates the openssl CLI
// makes): the bearer token goes to SLUICE_ALERTMANAGER_URL only, a rule's
// own URL carries its own basic auth, the CA file is trusted and a
// certificate it did not sign is refused.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertEngine } from '../../src/alerts/engine.js';
import { ManualClock } from '../../src/model/clock.js';
import { auth, startServer, tempDir, type TestServer } from '../helpers/server.js';

interface Got {
  path: string;
  authorization: string | undefined;
  alerts: Array<{ labels: Record<string, string> }>;
}

class StandIn {
  readonly got: Got[] = [];
  #server: Server;
  url = '';
  constructor(cert: Buffer, key: Buffer) {
    this.#server = createServer({ cert, key }, (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        this.got.push({ path: req.url ?? '', authorization: req.headers.authorization, alerts: JSON.parse(body) as Got['alerts'] });
        res.end();
      });
    });
  }
  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.url = `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }
  close(): Promise<void> {
    return new Promise((r) => this.#server.close(() => r()));
  }
}

function makeCert(dir: string, name: string): { cert: Buffer; key: Buffer; certFile: string } {
  const certFile = join(dir, `${name}.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, `${name}.key`), '-out', certFile], { stdio: 'ignore' });
  return { cert: readFileSync(certFile), key: readFileSync(join(dir, `${name}.key`)), certFile };
}

const BEARER = 'am-bearer-token-0123456789';
const clock = new ManualClock();
const quiet = { warn() {}, error() {}, info() {}, debug() {} } as unknown as FastifyBaseLogger;
let s: TestServer;
let engine: AlertEngine;
let main: StandIn;
let other: StandIn;
let stranger: StandIn;

beforeAll(async () => {
  const dir = tempDir('sluice-am-tls-');
  const trusted = makeCert(dir, 'trusted');
  const untrusted = makeCert(dir, 'untrusted');
  main = await new StandIn(trusted.cert, trusted.key).start();
  other = await new StandIn(trusted.cert, trusted.key).start();
  stranger = await new StandIn(untrusted.cert, untrusted.key).start();
  s = await startServer(
    { SLUICE_WEBHOOK_ALLOW: '127.0.0.1', SLUICE_ROLES: 'api,ingest', SLUICE_ALERTMANAGER_URL: main.url, SLUICE_ALERTMANAGER_BEARER_TOKEN: BEARER, SLUICE_ALERTMANAGER_CA_FILE: trusted.certFile },
    { clock },
  );
  engine = new AlertEngine(s.ctx, quiet, { baseDelayMs: 1, attempts: 1 });
  s.ctx.alerts = engine;
  await engine.load();
});
afterAll(async () => {
  await engine?.stop();
  await s?.close();
  for (const x of [main, other, stranger]) await x?.close();
});

async function rule(name: string, alertmanager: { url?: string }): Promise<string> {
  const res = await fetch(`${s.url}/api/v1/alerts/rules`, {
    method: 'POST',
    headers: { ...auth(s.adminToken), 'content-type': 'application/json' },
    // Fires at once: fewer than one event.
    body: JSON.stringify({ name, query: `service:${name}`, window: '1m', condition: { op: '<', threshold: 1 }, interval: '5s', alertmanager }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

describe('Alertmanager credentials and TLS', () => {
  it('sends the bearer token only to SLUICE_ALERTMANAGER_URL, a rule URL’s own basic auth to it, over verified TLS', async () => {
    await rule('to-default', {});
    await rule('to-other', { url: other.url.replace('https://', 'https://ops:s3cret@') });
    const strangerId = await rule('to-stranger', { url: stranger.url });
    clock.advance(5000);
    await engine.tick();
    await engine.idle();

    expect(main.got.map((g) => [g.path, g.authorization, g.alerts[0]!.labels.alertname])).toEqual([['/api/v2/alerts', `Bearer ${BEARER}`, 'to-default']]);
    expect(other.got.map((g) => [g.path, g.authorization, g.alerts[0]!.labels.alertname])).toEqual([['/api/v2/alerts', `Basic ${Buffer.from('ops:s3cret').toString('base64')}`, 'to-other']]);
    // A certificate the CA file did not sign: refused, and the history says why.
    expect(stranger.got).toEqual([]);
    const res = await fetch(`${s.url}/api/v1/alerts/history?rule=${strangerId}`, { headers: auth(s.adminToken) });
    const [attempt] = ((await res.json()) as { history: Array<{ delivered: number; error: string }> }).history;
    expect(attempt).toMatchObject({ delivered: 0, error: expect.stringMatching(/self[- ]signed certificate/i) });
  });
});

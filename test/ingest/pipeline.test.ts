// Every drain goes through the one pipeline: each valid event of a request
// is announced as stored exactly once and is in the store once, and the bad
// item beside it is refused, counted by its code and costs its neighbours
// nothing — for NDJSON, logplex, OTLP, Loki, Elasticsearch _bulk and syslog,
// over real sockets into the real embedded engine.
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syslogListenersOf } from '../../src/ingest/syslog/listeners.js';
import { auth, makeToken, searchAll, startServer, type TestServer } from '../helpers/server.js';
import { patience, testTimes } from '../helpers/times.js';

const t = testTimes();
const RUN = randomUUID().slice(0, 8);
const SOURCE = `pipeline-${RUN}`;

let s: TestServer;
let token: string;
let readToken: string;
const announced = new Map<string, number>();

beforeAll(async () => {
  s = await startServer({ SLUICE_SYSLOG_TCP_PORT: '0', SLUICE_SYSLOG_HOST: '127.0.0.1' });
  token = await makeToken(s, 'ingest', SOURCE);
  readToken = await makeToken(s, 'read');
  s.ctx.pipeline.onStored(
    ({ events, source }) => {
      if (source !== SOURCE) return;
      for (const e of events!) announced.set(e.message, (announced.get(e.message) ?? 0) + 1);
    },
    () => true,
  );
});
afterAll(async () => s.close());

const messages = (drain: string) => [0, 1, 2].map((i) => `${drain} ${RUN} event ${i}`);

async function post(path: string, body: string, contentType: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(`${s.url}${path}`, { method: 'POST', headers: { ...auth(token), 'content-type': contentType, ...headers }, body });
  return { status: res.status, text: await res.text() };
}

function logplexFrame(line: string): string {
  return `${Buffer.byteLength(line)} ${line}`;
}

function sendSyslog(port: number, lines: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      // RFC 6587 octet counting, as rsyslog and syslog-ng send it.
      sock.end(lines.map((l) => `${Buffer.byteLength(l)} ${l}`).join(''), () => resolve());
    });
    sock.on('error', reject);
  });
}

// Each drain's request: three valid items and, where the protocol has
// per-item refusals, one bad item among them.
const DRAINS: Record<string, { send(): Promise<{ status: number; text: string } | undefined>; rejects: string | undefined; status: number }> = {
  ndjson: {
    rejects: 'SLUICE_ERR_MALFORMED_JSON',
    status: 200,
    send: () => {
      const [a, b, c] = messages('ndjson').map((m) => JSON.stringify({ time: t.iso(1000), service: `p-ndjson-${RUN}`, msg: m }));
      return post('/api/v1/ingest', [a, '{"msg": broken', b, c].join('\n'), 'application/x-ndjson');
    },
  },
  logplex: {
    rejects: 'SLUICE_ERR_INVALID_FRAME',
    status: 200,
    send: () => {
      const frames = messages('logplex').map((m) => logplexFrame(`<190>1 ${t.iso(2000)} host app web.1 - ${m}\n`));
      // The last frame declares more bytes than follow: reported, skipped.
      return post(`/api/v1/drains/logplex?service=p-logplex-${RUN}`, frames.join('') + '999 <190>1 cut short', 'application/logplex-1');
    },
  },
  otlp: {
    rejects: 'SLUICE_ERR_INVALID_TIME',
    status: 200,
    send: () => {
      const records: object[] = messages('otlp').map((m) => ({ timeUnixNano: String(t.ns(3000)), body: { stringValue: m } }));
      records.splice(1, 0, { timeUnixNano: 'not a number', body: { stringValue: 'bad otlp' } });
      const body = { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: `p-otlp-${RUN}` } }] }, scopeLogs: [{ logRecords: records }] }] };
      return post('/v1/logs', JSON.stringify(body), 'application/json');
    },
  },
  loki: {
    rejects: 'SLUICE_ERR_INVALID_TIME',
    // Loki answers 400 naming the bad entry; the others are kept.
    status: 400,
    send: () => {
      const values = messages('loki').map((m) => [String(t.ns(4000)), m]);
      values.splice(2, 0, ['yesterday', 'bad loki']);
      return post('/loki/api/v1/push', JSON.stringify({ streams: [{ stream: { service_name: `p-loki-${RUN}` }, values }] }), 'application/json');
    },
  },
  elasticsearch: {
    rejects: 'SLUICE_ERR_MALFORMED_JSON',
    status: 200,
    send: () => {
      const lines = messages('elasticsearch').flatMap((m) => ['{"create":{}}', JSON.stringify({ '@timestamp': t.iso(5000), message: m, service: { name: `p-es-${RUN}` } })]);
      lines.splice(2, 0, '{"create":{}}', '{"message": nope');
      return post('/logs/_bulk', lines.join('\n') + '\n', 'application/x-ndjson');
    },
  },
  syslog: {
    rejects: undefined,
    status: 0,
    send: async () => {
      const port = syslogListenersOf(s.ctx)!.ports.tcp!;
      const lines = messages('syslog').map((m) => `<14>1 ${t.iso(6000)} host p-syslog-${RUN} - - [auth@32473 token="${token}"] ${m}\n`);
      await sendSyslog(port, lines);
      return undefined;
    },
  },
};

async function rejectedCount(code: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const m = new RegExp(`^sluice_events_rejected_total\\{code="${code}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('one pipeline for every drain', () => {
  for (const [name, drain] of Object.entries(DRAINS)) {
    it(`${name}: each valid event is stored and announced exactly once; the bad item is refused and counted`, async () => {
      const before = drain.rejects ? await rejectedCount(drain.rejects) : 0;
      const res = await drain.send();
      if (res) expect(res.status, res.text).toBe(drain.status);
      const want = messages(name);
      // Syslog acknowledges nothing on the wire: wait for the announcement.
      const deadline = Date.now() + patience(20_000);
      while (want.some((m) => !announced.has(m)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(want.map((m) => announced.get(m))).toEqual([1, 1, 1]);
      expect([...announced.keys()].filter((m) => m.startsWith(`${name} ${RUN}`) || m.startsWith('bad '))).toEqual(want);
      const service = name === 'elasticsearch' ? `p-es-${RUN}` : `p-${name}-${RUN}`;
      const stored = await searchAll(s.url, readToken, { service, from: t.range(-60_000, 3_600_000).from, to: t.range(-60_000, 3_600_000).to });
      expect(stored.map((e) => e.message).sort()).toEqual(want);
      expect(stored.every((e) => e.source === SOURCE)).toBe(true);
      if (drain.rejects) expect(await rejectedCount(drain.rejects)).toBe(before + 1);
    });
  }
});

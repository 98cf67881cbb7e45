// Every operator of the search language against a reference filter written
// here in plain TypeScript over the same generated events: the counts must
// be equal. The reference defines a token as ClickHouse's splitByNonAlpha
// does and shares no code with the compiler.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileMatcher } from '../../src/query/language/match.js';
import type { EventJson } from '../../src/model/event.js';
import { ingest, makeToken, ndjson, searchAll, startServer, type TestServer } from '../helpers/server.js';
import { testTimes } from '../helpers/times.js';

interface Ev {
  time: string;
  service: string;
  host: string;
  level: string;
  msg: string;
  attrs: Record<string, string>;
}

const SEVERITY: Record<string, number> = { trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21 };
const MESSAGES = [
  'Connection reset by peer',
  'connection, RESET during handshake',
  'timeout after 30s',
  'Timeouts increasing on shard-7',
  'user-42 logged in',
  'GET /api/v1/items 200',
  'disk full on /var',
  'retrying -> backoff 5s',
  'TimeOut waiting for lock',
  'reconnection resetting pool',
  'payment failed: card_declined',
  'caf\u00e9 order placed',
];
const SERVICES = ['api', 'web', 'worker', 'web-admin'];
const LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'];
const t = testTimes(2);
const BASE = t.base;

function generate(n: number): Ev[] {
  let seed = 7;
  const r = (k: number) => {
    seed = (seed * 48271) % 2147483647;
    return seed % k;
  };
  return Array.from({ length: n }, (_, i) => {
    const attrs: Record<string, string> = { status: String([200, 201, 404, 500, 503][r(5)]), duration_ms: String(r(1000)) };
    if (r(3) === 0) attrs['user.id'] = String(r(50));
    if (r(4) === 0) attrs.region = ['eu-west-1', 'us-east-1', 'eu-central-1'][r(3)]!;
    return {
      time: new Date(BASE + i * 1000).toISOString(),
      service: SERVICES[r(SERVICES.length)]!,
      host: `host-${r(3)}`,
      level: LEVELS[r(LEVELS.length)]!,
      msg: MESSAGES[r(MESSAGES.length)]!,
      attrs,
    };
  });
}

// ---- the reference: tokens, then the operators, by hand ----
function isTokenChar(c: string): boolean {
  const code = c.charCodeAt(0);
  return code >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
function tokensOf(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const c of s) {
    if (isTokenChar(c)) cur += c;
    else if (cur) {
      out.push(cur);
      cur = '';
    }
  }
  if (cur) out.push(cur);
  return out.map((t) => t.toLowerCase());
}
function hasSequence(message: string, words: string, prefix: boolean): boolean {
  const want = tokensOf(words);
  if (want.length === 0) return message.toLowerCase().includes(words.toLowerCase());
  const have = tokensOf(message);
  for (let i = 0; i + want.length <= have.length; i++) {
    if (want.every((w, j) => (prefix && j === want.length - 1 ? have[i + j]!.startsWith(w) : have[i + j] === w))) return true;
  }
  return false;
}
const attr = (e: Ev, k: string) => e.attrs[k] ?? '';
const num = (s: string) => (s === '' ? NaN : Number(s));
const glob = (pattern: string) => new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*') + '$');

const CASES: Array<[string, (e: Ev) => boolean]> = [
  ['timeout', (e) => hasSequence(e.msg, 'timeout', false)],
  ['TIMEOUT', (e) => hasSequence(e.msg, 'timeout', false)],
  ['time*', (e) => hasSequence(e.msg, 'time', true)],
  ['"connection reset"', (e) => hasSequence(e.msg, 'connection reset', false)],
  ['reset', (e) => hasSequence(e.msg, 'reset', false)],
  ['user-42', (e) => hasSequence(e.msg, 'user-42', false)],
  ['"->"', (e) => e.msg.includes('->')],
  ['caf\u00e9', (e) => hasSequence(e.msg, 'caf\u00e9', false)],
  ['/shard-[0-9]/', (e) => /shard-[0-9]/.test(e.msg)],
  ['service:api', (e) => e.service === 'api'],
  ['service:web*', (e) => glob('web*').test(e.service)],
  ['service:*-admin', (e) => glob('*-admin').test(e.service)],
  ['host:host-1', (e) => e.host === 'host-1'],
  ['level:warn', (e) => e.level === 'warn'],
  ['level:>=warn', (e) => SEVERITY[e.level]! >= 13],
  ['level:>warn', (e) => SEVERITY[e.level]! > 16],
  ['level:<=info', (e) => SEVERITY[e.level]! <= 12],
  ['level:<error', (e) => SEVERITY[e.level]! < 17],
  ['level:info..error', (e) => SEVERITY[e.level]! >= 9 && SEVERITY[e.level]! <= 20],
  ['status:500', (e) => attr(e, 'status') === '500'],
  ['status:>=500', (e) => num(attr(e, 'status')) >= 500],
  ['status:<404', (e) => num(attr(e, 'status')) < 404],
  ['duration_ms:100..250', (e) => num(attr(e, 'duration_ms')) >= 100 && num(attr(e, 'duration_ms')) <= 250],
  ['duration_ms:>999', () => false],
  ['user.id:*', (e) => 'user.id' in e.attrs],
  ['user.id:7', (e) => attr(e, 'user.id') === '7'],
  ['region:eu-*', (e) => glob('eu-*').test(attr(e, 'region'))],
  ['region:"us-east-1"', (e) => attr(e, 'region') === 'us-east-1'],
  ['-service:api', (e) => e.service !== 'api'],
  ['NOT timeout', (e) => !hasSequence(e.msg, 'timeout', false)],
  ['service:api level:error', (e) => e.service === 'api' && e.level === 'error'],
  ['service:api AND status:500', (e) => e.service === 'api' && attr(e, 'status') === '500'],
  ['service:api OR service:worker', (e) => e.service === 'api' || e.service === 'worker'],
  ['timeout OR "connection reset" level:>=error', (e) => hasSequence(e.msg, 'timeout', false) || (hasSequence(e.msg, 'connection reset', false) && SEVERITY[e.level]! >= 17)],
  ['(timeout OR "connection reset") level:>=error', (e) => (hasSequence(e.msg, 'timeout', false) || hasSequence(e.msg, 'connection reset', false)) && SEVERITY[e.level]! >= 17],
  ['-(service:web* OR status:>=500) disk', (e) => !(glob('web*').test(e.service) || num(attr(e, 'status')) >= 500) && hasSequence(e.msg, 'disk', false)],
  ['message:"disk full"', (e) => hasSequence(e.msg, 'disk full', false)],
  ['', () => true],
];

let s: TestServer;
let readToken: string;
let events: Ev[];

beforeAll(async () => {
  s = await startServer();
  readToken = await makeToken(s, 'read');
  const token = await makeToken(s, 'ingest');
  events = generate(1500);
  const rows = events.map((e) => ({ time: e.time, service: e.service, host: e.host, level: e.level, msg: e.msg, ...e.attrs }));
  const res = await ingest(s.url, token, ndjson(rows));
  expect(res.body).toMatchObject({ accepted: 1500, rejected: 0 });
});
afterAll(async () => s.close());

const range = t.range(-3_600_000, 3_600_000);

describe('search language against the reference filter', () => {
  it.each(CASES)('%s', async (q, reference) => {
    const expected = events.filter(reference).length;
    const got = await searchAll(s.url, readToken, { ...range, q });
    expect(got.length).toBe(expected);
  });

  it.each(CASES)('the live-tail matcher agrees: %s', (q, reference) => {
    const match = compileMatcher(q);
    const asJson = (e: Ev): EventJson => ({
      id: '', time: e.time, received_at: e.time, service: e.service, host: e.host, level: e.level as EventJson['level'],
      severity: SEVERITY[e.level]!, message: e.msg, attributes: e.attrs, trace_id: '', span_id: '', source: 'test',
    });
    expect(events.filter((e) => match(asJson(e))).length).toBe(events.filter(reference).length);
  });

  it('has cases that select something and cases that do not select everything', () => {
    const counts = CASES.map(([, f]) => events.filter(f).length);
    expect(counts.filter((n) => n > 0 && n < events.length).length).toBeGreaterThan(30);
  });
});

// One column table (src/query/columns.ts) for every path that names a field:
// stored events with real values in every column and an attribute, grouped
// and selected through trends, /fields, export, search and alert group_by —
// each must give back the groups the events hold. (Alerts grouped by
// trace_id used to read attributes['trace_id'], always empty: issue 16.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuleCounter } from '../../src/alerts/counting.js';
import type { RuleSpec } from '../../src/alerts/rule.js';
import { type LogEvent, logEventToJson } from '../../src/model/event.js';
import { uuidv7 } from '../../src/model/id.js';
import type { Level } from '../../src/model/levels.js';
import { formatRfc3339 } from '../../src/model/time.js';
import { COLUMNS, EVENT_SELECT, GROUP_FIELDS } from '../../src/query/columns.js';
import { compileMatcher } from '../../src/query/language/match.js';
import { EVENT_COLUMNS } from '../../src/store/events-read.js';
import { eventRows } from '../../src/store/rows.js';
import { auth, makeToken, startServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let engine: RuleCounter;
let readToken: string;

const LEVELS: readonly Level[] = ['info', 'warn', 'error', 'info'];
const SEVERITY: Record<string, number> = { info: 9, warn: 13, error: 17 };
const TRACES = ['', '4bf92f3577b34da6a3ce929d0e0e4736', '0af7651916cd43dd8448eb211c80319c'];
const SOURCES = ['src-a', 'src-b'];

interface Stored extends LogEvent {
  source: string;
}

let events: Stored[] = [];
// Times relative to the clock when the server has started: received times
// are then at or after the rollup job's watermark, so trends and alerts
// read the same events from the rollup or raw.
let now = 0;
let range = '';

/** The value of a field in a stored event, as a group key: a column's value, or the attribute's ('' when absent). */
function valueOf(e: Stored, name: string): string {
  switch (name) {
    case 'service':
      return e.service;
    case 'host':
      return e.host;
    case 'level':
      return e.level;
    case 'source':
      return e.source;
    case 'trace_id':
      return e.traceId;
    case 'span_id':
      return e.spanId;
    default:
      return e.attributes[name] ?? '';
  }
}

function expected(name: string, skipEmpty = false): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events) {
    const v = valueOf(e, name);
    if (skipEmpty && v === '') continue;
    out[v] = (out[v] ?? 0) + 1;
  }
  return out;
}

// Every groupable column and an attribute.
const NAMES = [...GROUP_FIELDS.map((f) => f.name), 'region'];

beforeAll(async () => {
  s = await startServer();
  engine = s.ctx.alerts!.counter;
  readToken = await makeToken(s, 'read');
  now = s.ctx.clock.nowMs();
  events = Array.from({ length: 24 }, (_, i): Stored => {
    const level = LEVELS[i % 4]!;
    const ns = BigInt(now + i * 1000) * 1_000_000n;
    return {
      id: uuidv7(now + i * 1000), timeNs: ns, receivedNs: ns,
      service: i % 2 ? 'api' : 'worker', host: `h${i % 3}`, level, severity: SEVERITY[level]!,
      message: `event ${i}`, attributes: i % 5 === 0 ? {} : { region: i % 2 ? 'eu' : 'us' },
      traceId: TRACES[i % 3]!, spanId: i % 4 === 0 ? '' : `00f067aa0ba902b${i % 4}`, source: SOURCES[i % 2 ^ (i < 12 ? 0 : 1)]!,
    };
  });
  for (const source of SOURCES) await s.store.insertEvents(eventRows(events.filter((e) => e.source === source), source, 'w'));
  range = new URLSearchParams({ from: formatRfc3339(BigInt(now - 3_600_000) * 1_000_000n), to: formatRfc3339(BigInt(now + 3_600_000) * 1_000_000n) }).toString();
});
afterAll(async () => s?.close());

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${s.url}${path}`, { headers: auth(readToken) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('the column table', () => {
  it('is what every event read selects', () => {
    // The store's list is the table's until src/store reads it from there.
    expect(EVENT_SELECT.replace(/\s+/g, ' ')).toBe(EVENT_COLUMNS.replace(/\s+/g, ' '));
    expect(COLUMNS.map((c) => c.name)).toEqual(['id', 'time', 'received_at', 'service', 'host', 'level', 'severity', 'message', 'attributes', 'trace_id', 'span_id', 'source']);
  });

  it('names the logs table\'s columns with their types', async () => {
    const rs = await s.store.query.query({ query: 'DESCRIBE TABLE logs', format: 'JSONEachRow' });
    const types = new Map((await rs.json<{ name: string; type: string }>()).map((c) => [c.name, c.type]));
    for (const c of COLUMNS) expect(types.get(c.name), c.name).toBe(c.type);
  });

  it('has data to group: every name has several values', () => {
    for (const name of NAMES) expect(Object.keys(expected(name)).length, name).toBeGreaterThan(1);
  });
});

describe('grouping by every column and an attribute', () => {
  it.each(NAMES)('trends by=%s', async (name) => {
    const res = await get(`/api/v1/trends?${range}&step=1h&by=${name}`);
    expect(res.status).toBe(200);
    const series = res.body.series as Array<{ key: string; total: number }>;
    expect(Object.fromEntries(series.map((x) => [x.key, x.total]))).toEqual(expected(name));
  });

  it.each(NAMES)('fields/%s/values', async (name) => {
    const res = await get(`/api/v1/fields/${name}/values?${range}&limit=100`);
    expect(res.status).toBe(200);
    // Empty trace and span ids mean none, as an absent attribute does.
    const skipEmpty = name === 'trace_id' || name === 'span_id' || name === 'region';
    expect(Object.fromEntries((res.body.values as Array<{ value: string; count: number }>).map((v) => [v.value, v.count]))).toEqual(expected(name, skipEmpty));
  });

  it('fields lists every column with how many events carry it', async () => {
    const res = await get(`/api/v1/fields?${range}`);
    const carried = (name: string) => events.filter((e) => valueOf(e, name) !== '').length;
    expect(res.body.sampled).toBe(events.length);
    expect(res.body.fields).toEqual([
      ...GROUP_FIELDS.map((f) => ({ name: f.name, count: f.emptyIsAbsent ? carried(f.name) : events.length })),
      { name: 'region', count: carried('region') },
    ]);
  });

  it.each(NAMES)('alert group_by [%s]: one scan, a query per rule, samples, and known groups', async (name) => {
    const rule: RuleSpec = {
      id: '00000000-0000-0000-0000-000000000001', name: 'by ' + name, query: '', window: '10m', condition: { op: '>', threshold: 0 },
      group_by: [name], interval: '15s', for: '0s', repeat: '1h', targets: [],
    };
    const at = now + events.length * 1000;
    const want = Object.fromEntries(Object.entries(expected(name)).map(([v, n]) => [JSON.stringify([[name, v]]), n]));
    const toObject = (m: Map<string, { count: number }>) => Object.fromEntries([...m].map(([k, g]) => [k, g.count]));
    expect(toObject(await engine.counts(rule, at, false))).toEqual(want);
    expect(toObject(await engine.counts(rule, at, true))).toEqual(want);
    const other = { ...rule, id: '00000000-0000-0000-0000-000000000002', group_by: ['service'] };
    const batched = await engine.batchCounts([rule, other], at);
    expect(toObject(batched.get(rule.id)!)).toEqual(want);
    const silent = { ...rule, id: `00000000-0000-0000-0000-0000000001${String(NAMES.indexOf(name)).padStart(2, '0')}`, condition: { op: '<' as const, threshold: 1 } };
    expect((await engine.knownGroups(silent, at)).map((g) => g.labels[name]).sort()).toEqual(Object.keys(expected(name)).sort());
    for (const [value, n] of Object.entries(expected(name))) {
      const samples = await engine.samples(rule, { [name]: value }, at);
      expect(samples.length, `${name}=${value}`).toBe(Math.min(n, 5));
      for (const e of samples) expect(name in e ? (e as unknown as Record<string, string>)[name] : (e.attributes[name] ?? '')).toBe(value);
    }
  });

  it.each(NAMES)('search and the live-tail matcher: %s:value finds the events with that value', async (name) => {
    const json = events.map((e) => logEventToJson(e, e.source));
    for (const [value, n] of Object.entries(expected(name, true))) {
      const q = `${name}:${JSON.stringify(value)}`;
      const res = await get(`/api/v1/search?${range}&limit=1000&q=${encodeURIComponent(q)}`);
      expect((res.body.events as unknown[]).length, q).toBe(n);
      expect(json.filter(compileMatcher(q)).length, q).toBe(n);
    }
  });

  it('cannot group by the message, and says what can be', async () => {
    const res = await get(`/api/v1/trends?${range}&by=message`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'SLUICE_ERR_VALIDATION', message: expect.stringContaining('trace_id') });
    expect((await get(`/api/v1/fields/message/values?${range}`)).status).toBe(400);
    const rule = await fetch(`${s.url}/api/v1/alerts/rules`, {
      method: 'POST',
      headers: { ...auth(s.adminToken), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', query: '', window: '1m', condition: { op: '>', threshold: 1 }, group_by: ['message'], targets: [{ url: 'https://example.com/hook' }] }),
    });
    expect(rule.status).toBe(400);
  });
});

describe('export', () => {
  it('writes every column of every event as stored', async () => {
    const res = await fetch(`${s.url}/api/v1/export?${range}`, { headers: auth(readToken) });
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(events.length);
    const byId = new Map(events.map((e) => [e.id, e]));
    for (const line of lines) {
      const e = byId.get(String(line.id))!;
      expect(Object.keys(line)).toEqual(COLUMNS.map((c) => c.name));
      expect(line).toEqual({
        id: e.id, time: formatRfc3339(e.timeNs), received_at: formatRfc3339(e.receivedNs), service: e.service, host: e.host, level: e.level,
        severity: e.severity, message: e.message, attributes: e.attributes, trace_id: e.traceId, span_id: e.spanId, source: e.source,
      });
    }
  });
});

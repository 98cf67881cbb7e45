// LogQL through Loki's API against a reference evaluation written here, over
// the same generated events (#18): log queries must give the same lines in
// the same order with the same stream labels, metric queries the same series
// with the same value at every step. The reference shares no code with
// src/loki: each case carries its own evaluation, written from Loki's rules
// (a step's window is (t - range, t], log queries read [start, end), labels
// with empty values are absent) and Sluice's documented ones (docs/grafana.md:
// stream labels service_name/host/level, attributes readable but not labels
// until a parser names them, `| json`/`| logfmt` on a line that is neither
// read the fields Sluice kept at ingest).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { testTimes } from '../helpers/times.js';

const at = testTimes(4);
const MIN = 60_000;
const HOUR = 60 * MIN;
const START = at.ms(0);
const END = at.ms(3 * HOUR);

// ---- the events ----

type Kind = 'json' | 'logfmt' | 'plain' | 'bare';
interface Ev {
  ms: number;
  service: string;
  host: string;
  level: string;
  kind: Kind;
  line: string;
  /** What Sluice keeps beside the message: the NDJSON object's other fields. */
  attrs: Record<string, string>;
  /** The fields the line itself holds (json: flattened with `_`; logfmt: its pairs). */
  fields: Record<string, string>;
}

const SERVICES = ['api', 'web', 'worker', 'db'];
const HOSTS = ['host-a', 'host-b', 'host-c', 'host-a', 'host-b', ''];
const LEVELS = ['debug', 'info', 'info', 'warn', 'error'];
const PATHS = ['/login', '/cart', '/pay', '/search'];
const METHODS = ['GET', 'POST'];
const STATUS = [200, 200, 200, 201, 404, 500, 503];
const REGIONS = ['eu', 'us', 'ap'];

function generate(n: number): Ev[] {
  let seed = 20240518;
  const r = (k: number): number => {
    seed = (seed * 48271) % 2147483647;
    return seed % k;
  };
  const out: Ev[] = [];
  for (let i = 0; i < n; i++) {
    const pick = r(20);
    // Some exactly on 5-minute step boundaries, some at the previous event's instant, the rest anywhere (half an hour before start too).
    const ms = pick === 0 ? START + r(37) * 5 * MIN : pick === 1 && out.length > 0 ? out[out.length - 1]!.ms : START - 30 * MIN + r(3.5 * 3600) * 1000 + r(1000);
    const service = SERVICES[r(SERVICES.length)]!;
    const host = HOSTS[r(HOSTS.length)]!;
    const level = LEVELS[r(LEVELS.length)]!;
    const id = `r${i}`;
    const status = STATUS[r(STATUS.length)]!;
    const path = PATHS[r(PATHS.length)]!;
    const method = METHODS[r(2)]!;
    const tookMs = 1 + r(2000);
    const latency = tookMs < 1000 ? `${tookMs}ms` : `${tookMs / 1000}s`;
    const took = r(25) === 0 ? 'n/a' : String(tookMs);
    const sizeKind = r(3);
    const size = sizeKind === 0 ? `${1 + r(900)}B` : sizeKind === 1 ? `${(1 + r(40)) / 4}KiB` : `${1 + r(3)}MB`;
    const region = r(5) > 0 ? REGIONS[r(3)]! : undefined;
    const user = r(2) === 0 ? `u${r(10)}` : undefined;
    const roll = r(10);
    const kind: Kind = roll < 3 ? 'json' : roll < 6 ? 'logfmt' : roll < 9 ? 'plain' : 'bare';
    let line: string;
    let fields: Record<string, string> = {};
    const attrs: Record<string, string> = {};
    if (kind !== 'bare' && region) attrs.region = region;
    if (kind === 'json') {
      const obj = { id, level: level.toUpperCase(), status, method, path, latency, took_ms: tookMs, size, user: { id: user ?? 'anon' }, trace: r(2) ? '' : `t${r(100)}` };
      line = JSON.stringify(obj);
      fields = { id, level: obj.level, status: String(status), method, path, latency, took_ms: String(tookMs), size, user_id: obj.user.id, trace: obj.trace };
    } else if (kind === 'logfmt') {
      const msg = status >= 500 ? (r(2) ? 'timeout waiting for upstream' : 'error from upstream') : 'request done';
      fields = { id, level, status: String(status), method, path, latency, took_ms: took, size, msg };
      if (user) fields.user = user;
      line = Object.entries(fields).map(([k, v]) => (v.includes(' ') ? `${k}="${v}"` : `${k}=${v}`)).join(' ');
      if (user) attrs.user = user;
    } else if (kind === 'plain') {
      // A JSON logger's event: a plain message, its fields beside it.
      Object.assign(attrs, { status: String(status), method, path, latency, took_ms: took });
      if (user) attrs.user = user;
      const shape = r(4);
      line = shape === 0 ? `${method} ${path} completed in ${latency} ${id}`
        : shape === 1 ? `connection timeout after ${latency} to upstream ${id}`
        : shape === 2 ? `${ANSI_RED}error${ANSI_RESET} disk full on /var ${id}`
        : `caf\u00e9 order ${id} placed`;
    } else {
      const shape = r(3);
      line = shape === 0 ? `heartbeat ${id} ok` : shape === 1 ? `ERROR panic in worker ${id}` : `retrying after timeout ${id}`;
    }
    out.push({ ms, service, host, level, kind, line, attrs, fields });
  }
  // No two events of one service at one instant: ties are across streams,
  // so first/last_over_time by service and a stream's order are defined.
  const seen = new Set<string>();
  for (const e of out) {
    while (seen.has(`${e.ms}/${e.service}`)) e.ms += 1;
    seen.add(`${e.ms}/${e.service}`);
  }
  return out;
}

const ANSI_RED = '\u001b[31m';
const ANSI_RESET = '\u001b[0m';
const events = generate(3000);
const byTime = [...events].sort((a, b) => a.ms - b.ms);

// ---- the reference: a line's labels and the pipeline's stages ----

type Labels = Record<string, string>;
interface Row {
  e: Ev;
  labels: Map<string, string>;
  line: string;
  value?: number;
}
type Stage = (r: Row) => boolean;
type Sel = (e: Ev) => boolean;

const STREAM_LABELS = new Set(['service_name', 'host', 'level']);
const streamOf = (e: Ev): Map<string, string> => new Map([['service_name', e.service], ...(e.host ? [['host', e.host] as [string, string]] : []), ['level', e.level]]);
const get = (r: Row, name: string): string | undefined => r.labels.get(name) ?? r.e.attrs[name];
const extract = (r: Row, k: string, v: string): void => void r.labels.set(STREAM_LABELS.has(k) ? `${k}_extracted` : k, v);
const setError = (r: Row, kind: string): void => {
  if (!r.labels.has('__error__')) r.labels.set('__error__', kind);
};
const hasAttrs = (e: Ev): boolean => Object.keys(e.attrs).length > 0;

const json: Stage = (r) => {
  if (r.e.kind === 'json') for (const [k, v] of Object.entries(r.e.fields)) extract(r, k, v);
  else if (hasAttrs(r.e)) for (const [k, v] of Object.entries(r.e.attrs)) extract(r, k, v);
  else setError(r, 'JSONParserErr');
  return true;
};
const logfmt: Stage = (r) => {
  const source = r.e.kind === 'logfmt' ? r.e.fields : r.e.attrs;
  for (const [k, v] of Object.entries(source)) if (v !== '') extract(r, k, v);
  return true;
};
const regexp = (re: RegExp): Stage => (r) => {
  const m = re.exec(r.line);
  if (m?.groups) for (const [k, v] of Object.entries(m.groups)) extract(r, k, v ?? '');
  return true;
};
const contains = (...words: string[]): Stage => (r) => words.some((w) => r.line.includes(w));
const lacks = (...words: string[]): Stage => (r) => !words.some((w) => r.line.includes(w));
const matches = (re: RegExp): Stage => (r) => re.test(r.line);
const label = (name: string, test: (v: string) => boolean): Stage => (r) => test(name === '__error__' ? r.labels.get('__error__') ?? '' : get(r, name) ?? '');
const noError = label('__error__', (v) => v === '');

const goDuration = (s: string): number | undefined => {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(s);
  return m ? Number(m[1]) * (m[2] === 'ms' ? 0.001 : 1) : undefined;
};
const humanBytes = (s: string): number | undefined => {
  const m = /^(\d+(?:\.\d+)?)(B|KiB|MB)$/.exec(s);
  return m ? Number(m[1]) * { B: 1, KiB: 1024, MB: 1e6 }[m[2] as 'B' | 'KiB' | 'MB'] : undefined;
};
const goNumber = (s: string): number | undefined => (/^-?\d+(\.\d+)?$/.test(s) ? Number(s) : undefined);
const CONVERT = { number: goNumber, duration: goDuration, bytes: humanBytes };

/** Loki's number, duration and bytes filters: a missing label drops the line; a value that does not convert marks it LabelFilterErr and keeps it. */
const compare = (kind: keyof typeof CONVERT, name: string, test: (v: number) => boolean): Stage => (r) => {
  const raw = get(r, name);
  if (raw === undefined) return false;
  const v = CONVERT[kind](raw);
  if (v === undefined) {
    setError(r, 'LabelFilterErr');
    return true;
  }
  return test(v);
};
const either = (a: Stage, b: Stage): Stage => (r) => a(r) || b(r);
const both = (a: Stage, b: Stage): Stage => (r) => a(r) && b(r);
const lineFormat = (f: (get: (n: string) => string, r: Row) => string): Stage => (r) => {
  r.line = f((n) => get(r, n) ?? '', r);
  return true;
};
const keep = (...names: string[]): Stage => (r) => {
  for (const k of [...r.labels.keys()]) if (!names.includes(k)) r.labels.delete(k);
  return true;
};
const drop = (...names: string[]): Stage => (r) => {
  for (const k of names) r.labels.delete(k);
  return true;
};

function run(e: Ev, stages: readonly Stage[]): Row | undefined {
  const r: Row = { e, labels: streamOf(e), line: e.line };
  for (const s of stages) if (!s(r)) return undefined;
  return r;
}

const labelsOf = (m: Map<string, string>): Labels => Object.fromEntries([...m].filter(([k, v]) => v !== '' && k !== '__error_details__'));
const keyOf = (l: Labels): string => JSON.stringify(Object.entries(l).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

// ---- log queries ----

interface LogCase {
  q: string;
  sel: Sel;
  stages?: Stage[];
  limit?: number;
  direction?: 'forward' | 'backward';
}
interface Line {
  ms: number;
  key: string;
  line: string;
}

function expectedLines(c: LogCase): Line[] {
  const out: Line[] = [];
  for (const e of events) {
    if (e.ms < START || e.ms >= END || !c.sel(e)) continue;
    const r = run(e, c.stages ?? []);
    if (r) out.push({ ms: e.ms, key: keyOf(labelsOf(r.labels)), line: r.line });
  }
  return out;
}

const svc = (...names: string[]): Sel => (e) => names.includes(e.service);
const full = (re: string): RegExp => new RegExp(`^(?:${re})$`);
const attr = (e: Ev, k: string): string => e.attrs[k] ?? '';

const LOG_CASES: LogCase[] = [
  { q: '{service_name="api"}', sel: svc('api'), limit: 5000 },
  { q: '{service_name!="api", level=~"warn|error"}', sel: (e) => e.service !== 'api' && /^(?:warn|error)$/.test(e.level), limit: 50, direction: 'forward' },
  { q: '{app=~"w.*", host!~"host-(a|b)"}', sel: (e) => full('w.*').test(e.service) && !full('host-(a|b)').test(e.host), limit: 30 },
  { q: '{region="eu", service_name="web"}', sel: (e) => attr(e, 'region') === 'eu' && e.service === 'web', limit: 5000 },
  { q: '{job="db", region!="us"} |= "timeout" or "panic"', sel: (e) => e.service === 'db' && attr(e, 'region') !== 'us', stages: [contains('timeout', 'panic')], limit: 5000 },
  { q: '{service_name=~".+"} |~ "(?i)error" != "disk"', sel: () => true, stages: [matches(/error/i), lacks('disk')], limit: 100 },
  { q: '{service_name="worker"} !~ "GET|POST" |= "r1"', sel: svc('worker'), stages: [(r) => !/GET|POST/.test(r.line), contains('r1')], limit: 20, direction: 'forward' },
  { q: '{level="error"} | json | __error__=""', sel: (e) => e.level === 'error', stages: [json, noError], limit: 200, direction: 'forward' },
  { q: '{service_name="api"} | json | __error__!=""', sel: svc('api'), stages: [json, label('__error__', (v) => v !== '')], limit: 5000 },
  { q: '{service_name="api"} | logfmt | status >= 500', sel: svc('api'), stages: [logfmt, compare('number', 'status', (v) => v >= 500)], limit: 5000 },
  {
    q: '{service_name="web"} | logfmt | latency > 1s or status="404"', sel: svc('web'),
    stages: [logfmt, either(compare('duration', 'latency', (v) => v > 1), label('status', (v) => v === '404'))], limit: 40, direction: 'forward',
  },
  {
    q: '{service_name=~"api|web"} | logfmt | size > 2KiB and took_ms < 1500', sel: svc('api', 'web'),
    stages: [logfmt, both(compare('bytes', 'size', (v) => v > 2048), compare('number', 'took_ms', (v) => v < 1500))], limit: 5000,
  },
  // took_ms is sometimes "n/a": LabelFilterErr, and the line stays.
  { q: '{service_name="web"} | logfmt | took_ms > 1000 | __error__="LabelFilterErr"', sel: svc('web'), stages: [logfmt, compare('number', 'took_ms', (v) => v > 1000), label('__error__', (v) => v === 'LabelFilterErr')], limit: 5000 },
  {
    q: '{service_name="worker"} | json | __error__="" | took_ms > 1000 | line_format "{{.method}} {{.path}} {{.took_ms}}ms"', sel: svc('worker'),
    stages: [json, noError, compare('number', 'took_ms', (v) => v > 1000), lineFormat((g) => `${g('method')} ${g('path')} ${g('took_ms')}ms`)], limit: 5000,
  },
  {
    q: '{service_name="db"} | regexp "^(?P<verb>[A-Z]+) (?P<route>/\\\\w+)" | route="/cart"', sel: svc('db'),
    stages: [regexp(/^(?<verb>[A-Z]+) (?<route>\/\w+)/), label('route', (v) => v === '/cart')], limit: 5000,
  },
  {
    q: '{service_name="api"} | pattern "<_> <route> completed in <took>" | route=~"/(cart|pay)"', sel: svc('api'),
    stages: [regexp(/^(?:.*?) (?<route>.*?) completed in (?<took>.*)$/s), label('route', (v) => full('/(cart|pay)').test(v))], limit: 5000,
  },
  {
    q: '{service_name="api"} | json | __error__="" | status != "" | label_format route=path, code="{{.status}}-{{.method}}" | keep route, code, level', sel: svc('api'),
    stages: [json, noError, label('status', (v) => v !== ''), (r) => {
      const code = `${get(r, 'status') ?? ''}-${get(r, 'method') ?? ''}`;
      const route = get(r, 'path') ?? '';
      r.labels.delete('path');
      r.labels.set('route', route);
      r.labels.set('code', code);
      return true;
    }, keep('route', 'code', 'level')], limit: 300, direction: 'forward',
  },
  { q: '{service_name="web"} | logfmt | drop id, msg, user', sel: svc('web'), stages: [logfmt, drop('id', 'msg', 'user')], limit: 25 },
  { q: '{service_name="api"} | logfmt | keep level, path', sel: svc('api'), stages: [logfmt, keep('level', 'path')], limit: 5000 },
  {
    q: '{service_name="worker", level!="debug"} | logfmt | took_ms <= 100 | line_format "{{.path}} took {{ .took_ms }} ({{.level}})"', sel: (e) => e.service === 'worker' && e.level !== 'debug',
    stages: [logfmt, compare('number', 'took_ms', (v) => v <= 100), lineFormat((g) => `${g('path')} took ${g('took_ms')} (${g('level')})`)], limit: 5000,
  },
  { q: '{service_name="worker"} |= "disk full" | decolorize', sel: svc('worker'), stages: [contains('disk full'), lineFormat((_g, r) => r.line.replaceAll(ANSI_RED, '').replaceAll(ANSI_RESET, ''))], limit: 5000 },
  {
    q: '{host="host-c"} | logfmt | level_extracted=~"warn|error" | line_format "{{.level_extracted | ToUpper}} {{.msg}}"', sel: (e) => e.host === 'host-c',
    stages: [logfmt, label('level_extracted', (v) => full('warn|error').test(v)), lineFormat((g) => `${g('level_extracted').toUpperCase()} ${g('msg')}`)], limit: 7,
  },
  { q: '{service_name="db"} |= "caf\u00e9"', sel: svc('db'), stages: [contains('caf\u00e9')], limit: 3, direction: 'forward' },
];

// ---- metric queries: series as arrays of values per step ----

interface Series {
  labels: Labels;
  v: Array<number | undefined>;
}
type Vec = Map<string, Series>;
interface Grid {
  /** The steps' times in ms. */
  ts: number[];
}
type Expr = (g: Grid) => Vec | number;

function addPoint(vec: Vec, labels: Labels, n: number, i: number, v: number): void {
  const key = keyOf(labels);
  let s = vec.get(key);
  if (!s) vec.set(key, (s = { labels, v: new Array<number | undefined>(n).fill(undefined) }));
  s.v[i] = v;
}

type Grouping = { by: string[] } | { without: string[] } | undefined;
const groupLabels = (l: Labels, g: Grouping): Labels =>
  !g ? l : 'by' in g ? Object.fromEntries(Object.entries(l).filter(([k]) => g.by.includes(k))) : Object.fromEntries(Object.entries(l).filter(([k]) => !g.without.includes(k)));

interface Unwrap {
  name: string;
  conv: keyof typeof CONVERT;
  after?: Stage[];
}
interface RangeOpts {
  sel: Sel;
  stages?: Stage[];
  range: number;
  offset?: number;
  unwrap?: Unwrap;
  grouping?: Grouping;
  param?: number;
}

const sumOf = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const variance = (xs: number[]): number => {
  const m = sumOf(xs) / xs.length;
  return sumOf(xs.map((x) => (x - m) ** 2)) / xs.length;
};
function quantileOf(phi: number, xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const rank = phi * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (rank - lo);
}

type RangeFn = 'count_over_time' | 'rate' | 'bytes_over_time' | 'bytes_rate' | 'sum_over_time' | 'avg_over_time' | 'min_over_time' | 'max_over_time'
  | 'stddev_over_time' | 'quantile_over_time' | 'first_over_time' | 'last_over_time';

/** A range function: per step, the samples of each series in (t - offset - range, t - offset], in time order. */
const rangeFn = (fn: RangeFn, o: RangeOpts): Expr => (g) => {
  const samples = new Map<string, { labels: Labels; at: number[]; v: number[] }>();
  for (const e of byTime) {
    if (!o.sel(e)) continue;
    const r = run(e, o.stages ?? []);
    if (!r) continue;
    let value = 1;
    if (fn === 'bytes_over_time' || fn === 'bytes_rate') value = Buffer.byteLength(r.line);
    if (o.unwrap) {
      const raw = get(r, o.unwrap.name);
      const v = raw === undefined ? undefined : CONVERT[o.unwrap.conv](raw);
      if (v === undefined) setError(r, 'SampleExtractionErr');
      value = v ?? 0;
      if (!(o.unwrap.after ?? []).every((s) => s(r))) continue;
      r.labels.delete(o.unwrap.name);
    }
    const labels = groupLabels(labelsOf(r.labels), o.grouping);
    if ('__error__' in labels) throw new Error(`the reference expects a pipeline error for ${e.line}`);
    const key = keyOf(labels);
    const s = samples.get(key) ?? { labels, at: [], v: [] };
    samples.set(key, s);
    s.at.push(e.ms);
    s.v.push(value);
  }
  const out: Vec = new Map();
  const secs = o.range / 1000;
  for (const s of samples.values()) {
    g.ts.forEach((t, i) => {
      const hi = t - (o.offset ?? 0);
      const xs = s.v.filter((_, j) => s.at[j]! > hi - o.range && s.at[j]! <= hi);
      if (xs.length === 0) return;
      const v = fn === 'count_over_time' ? xs.length
        : fn === 'rate' || fn === 'bytes_rate' ? sumOf(xs) / secs
        : fn === 'bytes_over_time' || fn === 'sum_over_time' ? sumOf(xs)
        : fn === 'avg_over_time' ? sumOf(xs) / xs.length
        : fn === 'min_over_time' ? Math.min(...xs)
        : fn === 'max_over_time' ? Math.max(...xs)
        : fn === 'stddev_over_time' ? Math.sqrt(variance(xs))
        : fn === 'quantile_over_time' ? quantileOf(o.param!, xs)
        : fn === 'first_over_time' ? xs[0]!
        : xs[xs.length - 1]!;
      addPoint(out, s.labels, g.ts.length, i, v);
    });
  }
  return out;
};

/** absent_over_time: 1 at the steps where the selector found nothing, labelled with its equality matchers. */
const absent = (o: RangeOpts, labels: Labels): Expr => (g) => {
  const present = rangeFn('count_over_time', o)(g) as Vec;
  const out: Vec = new Map();
  g.ts.forEach((_, i) => {
    if (![...present.values()].some((s) => s.v[i] !== undefined)) addPoint(out, labels, g.ts.length, i, 1);
  });
  return out;
};

const asVec = (x: Vec | number): Vec => {
  if (typeof x === 'number') throw new Error('a vector was expected');
  return x;
};

type AggOp = 'sum' | 'avg' | 'count' | 'min' | 'max' | 'topk' | 'bottomk';
const agg = (op: AggOp, inner: Expr, grouping?: Grouping, k?: number): Expr => (g) => {
  const input = asVec(inner(g));
  const out: Vec = new Map();
  const groups = new Map<string, { labels: Labels; members: Series[] }>();
  for (const s of input.values()) {
    const labels = grouping ? groupLabels(s.labels, grouping) : {};
    const key = keyOf(labels);
    const grp = groups.get(key) ?? { labels, members: [] };
    groups.set(key, grp);
    grp.members.push(s);
  }
  g.ts.forEach((_, i) => {
    for (const grp of groups.values()) {
      const present = grp.members.filter((m) => m.v[i] !== undefined);
      if (present.length === 0) continue;
      const xs = present.map((m) => m.v[i]!);
      if (op === 'topk' || op === 'bottomk') {
        const ranked = [...present].sort((a, b) => (op === 'topk' ? b.v[i]! - a.v[i]! : a.v[i]! - b.v[i]!));
        // Which of equal values at the cut is kept is not defined: the corpus must not have one.
        if (ranked.length > k! && ranked[k! - 1]!.v[i] === ranked[k!]!.v[i]) throw new Error('topk/bottomk tie at the cut: the case is ambiguous');
        for (const m of ranked.slice(0, k)) addPoint(out, m.labels, g.ts.length, i, m.v[i]!);
        continue;
      }
      const v = op === 'sum' ? sumOf(xs) : op === 'avg' ? sumOf(xs) / xs.length : op === 'count' ? xs.length : op === 'min' ? Math.min(...xs) : Math.max(...xs);
      addPoint(out, grp.labels, g.ts.length, i, v);
    }
  });
  return out;
};

type Op = '+' | '-' | '*' | '/' | '%' | '^' | '==' | '!=' | '>' | '>=' | '<' | '<=';
const ARITH: Record<Op, (a: number, b: number) => number> = {
  '+': (a, b) => a + b, '-': (a, b) => a - b, '*': (a, b) => a * b, '/': (a, b) => a / b, '%': (a, b) => a % b, '^': (a, b) => a ** b,
  '==': (a, b) => Number(a === b), '!=': (a, b) => Number(a !== b), '>': (a, b) => Number(a > b), '>=': (a, b) => Number(a >= b), '<': (a, b) => Number(a < b), '<=': (a, b) => Number(a <= b),
};
const isComparison = (op: Op): boolean => ['==', '!=', '>', '>=', '<', '<='].includes(op);
interface BinOpts {
  bool?: boolean;
  on?: string[];
  ignoring?: string[];
  groupLeft?: string[];
}
const sig = (l: Labels, o: BinOpts): string =>
  keyOf(o.on ? Object.fromEntries(Object.entries(l).filter(([k]) => o.on!.includes(k))) : o.ignoring ? Object.fromEntries(Object.entries(l).filter(([k]) => !o.ignoring!.includes(k))) : l);

/** PromQL's binary operators as Loki runs them: one-to-one or many-to-one (group_left) matching, comparisons filter unless bool. */
const bin = (op: Op, left: Expr | number, right: Expr | number, o: BinOpts = {}): Expr => (g) => {
  const l = typeof left === 'number' ? left : left(g);
  const r = typeof right === 'number' ? right : right(g);
  const n = g.ts.length;
  const apply = (a: number, b: number, keepValue: number): number | undefined => {
    const v = ARITH[op](a, b);
    if (!isComparison(op) || o.bool) return v;
    return v === 1 ? keepValue : undefined;
  };
  if (typeof l === 'number' && typeof r === 'number') return ARITH[op](l, r);
  if (typeof l === 'number' || typeof r === 'number') {
    const vec = typeof l === 'number' ? (r as Vec) : l;
    const out: Vec = new Map();
    for (const s of vec.values()) {
      s.v.forEach((x, i) => {
        if (x === undefined) return;
        const v = typeof l === 'number' ? apply(l, x, x) : apply(x, r as number, x);
        if (v !== undefined) addPoint(out, s.labels, n, i, v);
      });
    }
    return out;
  }
  const out: Vec = new Map();
  for (let i = 0; i < n; i++) {
    const rightBySig = new Map<string, Series>();
    for (const s of r.values()) {
      if (s.v[i] === undefined) continue;
      if (rightBySig.has(sig(s.labels, o))) throw new Error('the reference found many-to-many matching');
      rightBySig.set(sig(s.labels, o), s);
    }
    for (const s of l.values()) {
      if (s.v[i] === undefined) continue;
      const m = rightBySig.get(sig(s.labels, o));
      if (!m) continue;
      const v = apply(s.v[i]!, m.v[i]!, s.v[i]!);
      if (v === undefined) continue;
      let labels: Labels = { ...s.labels };
      if (o.groupLeft) {
        for (const name of o.groupLeft) {
          if (m.labels[name] !== undefined) labels[name] = m.labels[name]!;
          else delete labels[name];
        }
      } else if (o.on) labels = Object.fromEntries(Object.entries(labels).filter(([k]) => o.on!.includes(k)));
      else if (o.ignoring) labels = Object.fromEntries(Object.entries(labels).filter(([k]) => !o.ignoring!.includes(k)));
      addPoint(out, labels, n, i, v);
    }
  }
  return out;
};

/** and, or, unless: per step, by the signatures of the series present. */
const setOp = (op: 'and' | 'or' | 'unless', left: Expr, right: Expr, o: BinOpts = {}): Expr => (g) => {
  const l = asVec(left(g));
  const r = asVec(right(g));
  const out: Vec = new Map();
  g.ts.forEach((_, i) => {
    const sigsAt = (v: Vec): Set<string> => new Set([...v.values()].filter((s) => s.v[i] !== undefined).map((s) => sig(s.labels, o)));
    const rs = sigsAt(r);
    for (const s of l.values()) {
      if (s.v[i] === undefined) continue;
      if (op === 'or' || (op === 'and') === rs.has(sig(s.labels, o))) addPoint(out, s.labels, g.ts.length, i, s.v[i]!);
    }
    if (op === 'or') {
      const ls = sigsAt(l);
      for (const s of r.values()) if (s.v[i] !== undefined && !ls.has(sig(s.labels, o))) addPoint(out, s.labels, g.ts.length, i, s.v[i]!);
    }
  });
  return out;
};

interface MetricCase {
  q: string;
  expr: Expr;
  /** Step in seconds (range queries), or the instant of an instant query (ms after START). */
  step?: number;
  instantAt?: number;
}

const count = (sel: Sel, range: number, stages?: Stage[]): Expr => rangeFn('count_over_time', { sel, range, ...(stages ? { stages } : {}) });
const by = (...names: string[]): Grouping => ({ by: names });
const without = (...names: string[]): Grouping => ({ without: names });
const all: Sel = () => true;
const lvl = (...levels: string[]): Sel => (e) => levels.includes(e.level);
const noErr: Stage[] = [noError];

const METRIC_CASES: MetricCase[] = [
  { q: 'count_over_time({service_name="api"}[5m])', expr: count(svc('api'), 5 * MIN), step: 300 },
  { q: 'sum by (level) (rate({service_name=~"api|web"} |= "timeout" [10m]))', expr: agg('sum', rangeFn('rate', { sel: svc('api', 'web'), stages: [contains('timeout')], range: 10 * MIN }), by('level')), step: 300 },
  { q: 'sum without (host) (bytes_over_time({level="error"}[15m] offset 10m))', expr: agg('sum', rangeFn('bytes_over_time', { sel: lvl('error'), range: 15 * MIN, offset: 10 * MIN }), without('host')), step: 600 },
  { q: 'bytes_rate({service_name="db", host=""}[30m])', expr: rangeFn('bytes_rate', { sel: (e) => e.service === 'db' && e.host === '', range: 30 * MIN }), step: 900 },
  { q: 'count_over_time({service_name="worker"} | drop host [5m] offset 1m)', expr: rangeFn('count_over_time', { sel: svc('worker'), stages: [drop('host')], range: 5 * MIN, offset: MIN }), step: 300 },
  { q: 'count_over_time({service_name="db"} | keep level [10m])', expr: count(svc('db'), 10 * MIN, [keep('level')]), step: 600 },
  { q: 'absent_over_time({service_name="api", level="fatal"}[5m])', expr: absent({ sel: (e) => e.service === 'api' && e.level === 'fatal', range: 5 * MIN }, { service_name: 'api', level: 'fatal' }), step: 900 },
  {
    q: 'absent_over_time({service_name="db", host="host-c", level="debug"}[3m] offset 2m)',
    expr: absent({ sel: (e) => e.service === 'db' && e.host === 'host-c' && e.level === 'debug', range: 3 * MIN, offset: 2 * MIN }, { service_name: 'db', host: 'host-c', level: 'debug' }), step: 300,
  },
  { q: 'sum by (path) (count_over_time({service_name="api"} | json | __error__="" [10m]))', expr: agg('sum', count(svc('api'), 10 * MIN, [json, noError]), by('path')), step: 300 },
  {
    q: 'sum by (level_extracted, method) (count_over_time({service_name="web"} | logfmt | level_extracted!="" [20m]))',
    expr: agg('sum', count(svc('web'), 20 * MIN, [logfmt, label('level_extracted', (v) => v !== '')]), by('level_extracted', 'method')), step: 600,
  },
  {
    q: 'sum by (status) (rate({service_name="worker"} | json | __error__="" | status >= 500 [10m]))',
    expr: agg('sum', rangeFn('rate', { sel: svc('worker'), stages: [json, noError, compare('number', 'status', (v) => v >= 500)], range: 10 * MIN }), by('status')), step: 600,
  },
  {
    q: 'avg_over_time({service_name="web"} | logfmt | unwrap took_ms | __error__="" [10m]) by (path)',
    expr: rangeFn('avg_over_time', { sel: svc('web'), stages: [logfmt], range: 10 * MIN, unwrap: { name: 'took_ms', conv: 'number', after: noErr }, grouping: by('path') }), step: 300,
  },
  {
    q: 'max_over_time({service_name=~"api|db"} | logfmt | unwrap duration(latency) | __error__="" [15m]) by (service_name)',
    expr: rangeFn('max_over_time', { sel: svc('api', 'db'), stages: [logfmt], range: 15 * MIN, unwrap: { name: 'latency', conv: 'duration', after: noErr }, grouping: by('service_name') }), step: 300,
  },
  {
    q: 'quantile_over_time(0.9, {service_name="api"} | json | __error__="" | unwrap took_ms | __error__="" [30m]) by (level)',
    expr: rangeFn('quantile_over_time', { sel: svc('api'), stages: [json, noError], range: 30 * MIN, unwrap: { name: 'took_ms', conv: 'number', after: noErr }, grouping: by('level'), param: 0.9 }), step: 600,
  },
  {
    q: 'sum_over_time({service_name="worker"} | logfmt | unwrap bytes(size) | __error__="" [20m]) by (host)',
    expr: rangeFn('sum_over_time', { sel: svc('worker'), stages: [logfmt], range: 20 * MIN, unwrap: { name: 'size', conv: 'bytes', after: noErr }, grouping: by('host') }), step: 600,
  },
  {
    q: 'stddev_over_time({level=~"warn|error"} | logfmt | unwrap took_ms | __error__="" [30m]) by (service_name)',
    expr: rangeFn('stddev_over_time', { sel: lvl('warn', 'error'), stages: [logfmt], range: 30 * MIN, unwrap: { name: 'took_ms', conv: 'number', after: noErr }, grouping: by('service_name') }), step: 900,
  },
  {
    q: 'first_over_time({service_name=~"web|worker"} | logfmt | unwrap took_ms | __error__="" [10m]) by (service_name)',
    expr: rangeFn('first_over_time', { sel: svc('web', 'worker'), stages: [logfmt], range: 10 * MIN, unwrap: { name: 'took_ms', conv: 'number', after: noErr }, grouping: by('service_name') }), step: 300,
  },
  {
    q: 'last_over_time({service_name="api"} | json | __error__="" | unwrap took_ms | __error__="" [10m]) by (service_name, host)',
    expr: rangeFn('last_over_time', { sel: svc('api'), stages: [json, noError], range: 10 * MIN, unwrap: { name: 'took_ms', conv: 'number', after: noErr }, grouping: by('service_name', 'host') }), step: 300,
  },
  {
    q: 'min_over_time({service_name="db"} | logfmt | unwrap duration_seconds(latency) | __error__="" [1h]) without (id, user, msg, size, took_ms, status, region, path, method, level_extracted)',
    expr: rangeFn('min_over_time', {
      sel: svc('db'), stages: [logfmt], range: HOUR, unwrap: { name: 'latency', conv: 'duration', after: noErr },
      grouping: without('id', 'user', 'msg', 'size', 'took_ms', 'status', 'region', 'path', 'method', 'level_extracted'),
    }), step: 900,
  },
  { q: 'sum(count_over_time({service_name=~".+"}[5m]))', expr: agg('sum', count(all, 5 * MIN)), step: 300 },
  { q: 'avg by (service_name) (count_over_time({level=~"warn|error"}[10m]))', expr: agg('avg', count(lvl('warn', 'error'), 10 * MIN), by('service_name')), step: 600 },
  { q: 'count without (level) (count_over_time({service_name="web"}[10m]))', expr: agg('count', count(svc('web'), 10 * MIN), without('level')), step: 600 },
  { q: 'max by (level) (count_over_time({service_name=~"api|db"}[15m]))', expr: agg('max', count(svc('api', 'db'), 15 * MIN), by('level')), step: 900 },
  { q: 'min without (host, level) (count_over_time({service_name=~".+"}[15m]))', expr: agg('min', count(all, 15 * MIN), without('host', 'level')), step: 900 },
  {
    q: 'topk(2, sum_over_time({service_name=~".+"} | logfmt | unwrap took_ms | __error__="" [30m]) by (host, service_name))',
    expr: agg('topk', rangeFn('sum_over_time', { sel: all, stages: [logfmt], range: 30 * MIN, unwrap: { name: 'took_ms', conv: 'number', after: noErr }, grouping: by('host', 'service_name') }), undefined, 2), step: 900,
  },
  { q: 'bottomk(2, sum by (host) (bytes_over_time({service_name="api"}[30m])))', expr: agg('bottomk', agg('sum', rangeFn('bytes_over_time', { sel: svc('api'), range: 30 * MIN }), by('host')), undefined, 2), step: 900 },
  {
    q: 'topk(1, sum by (service_name, host) (bytes_over_time({level="error"}[30m]))) by (service_name)',
    expr: agg('topk', agg('sum', rangeFn('bytes_over_time', { sel: lvl('error'), range: 30 * MIN }), by('service_name', 'host')), by('service_name'), 1), step: 900,
  },
  { q: 'sum(count_over_time({service_name="api"}[5m])) * 2 + 1', expr: bin('+', bin('*', agg('sum', count(svc('api'), 5 * MIN)), 2), 1), step: 300 },
  { q: '2 * sum by (level) (rate({service_name="web"}[5m])) - 0.5 / 2', expr: bin('-', bin('*', 2, agg('sum', rangeFn('rate', { sel: svc('web'), range: 5 * MIN }), by('level'))), 0.25), step: 300 },
  { q: 'sum by (level) (count_over_time({service_name="api"}[10m])) ^ 2 % 7', expr: bin('%', bin('^', agg('sum', count(svc('api'), 10 * MIN), by('level')), 2), 7), step: 600 },
  {
    q: 'sum(rate({service_name="api"}[5m])) / sum(rate({service_name="web"}[5m])) * 100',
    expr: bin('*', bin('/', agg('sum', rangeFn('rate', { sel: svc('api'), range: 5 * MIN })), agg('sum', rangeFn('rate', { sel: svc('web'), range: 5 * MIN }))), 100), step: 300,
  },
  {
    q: 'sum by (level) (count_over_time({service_name="api"}[10m])) / sum by (level) (count_over_time({service_name=~".+"}[10m]))',
    expr: bin('/', agg('sum', count(svc('api'), 10 * MIN), by('level')), agg('sum', count(all, 10 * MIN), by('level'))), step: 600,
  },
  {
    q: 'sum by (level, host) (count_over_time({service_name="api"}[10m])) / on (level) group_left sum by (level) (count_over_time({service_name="api"}[10m]))',
    expr: bin('/', agg('sum', count(svc('api'), 10 * MIN), by('level', 'host')), agg('sum', count(svc('api'), 10 * MIN), by('level')), { on: ['level'], groupLeft: [] }), step: 600,
  },
  {
    q: 'sum by (level, host) (count_over_time({service_name="web"}[10m])) * ignoring (host, service_name) group_left (service_name) sum by (level, service_name) (count_over_time({service_name="web"}[10m]))',
    expr: bin('*', agg('sum', count(svc('web'), 10 * MIN), by('level', 'host')), agg('sum', count(svc('web'), 10 * MIN), by('level', 'service_name')), { ignoring: ['host', 'service_name'], groupLeft: ['service_name'] }), step: 600,
  },
  {
    q: 'sum by (service_name, level) (count_over_time({level="error"}[10m])) + on (service_name) sum by (service_name) (count_over_time({level="warn"}[10m]))',
    expr: bin('+', agg('sum', count(lvl('error'), 10 * MIN), by('service_name', 'level')), agg('sum', count(lvl('warn'), 10 * MIN), by('service_name')), { on: ['service_name'] }), step: 600,
  },
  {
    q: 'sum by (service_name, level) (count_over_time({level="error"}[10m])) - ignoring (level) sum by (service_name) (count_over_time({level="info"}[10m]))',
    expr: bin('-', agg('sum', count(lvl('error'), 10 * MIN), by('service_name', 'level')), agg('sum', count(lvl('info'), 10 * MIN), by('service_name')), { ignoring: ['level'] }), step: 600,
  },
  { q: 'sum by (host) (count_over_time({service_name="web"}[10m])) > 5', expr: bin('>', agg('sum', count(svc('web'), 10 * MIN), by('host')), 5), step: 300 },
  { q: 'sum by (host) (count_over_time({service_name="web"}[10m])) > bool 5', expr: bin('>', agg('sum', count(svc('web'), 10 * MIN), by('host')), 5, { bool: true }), step: 300 },
  { q: '3 < sum by (level) (count_over_time({service_name="db"}[15m]))', expr: bin('<', 3, agg('sum', count(svc('db'), 15 * MIN), by('level'))), step: 300 },
  {
    q: 'sum by (level) (count_over_time({service_name="api"}[10m])) >= sum by (level) (count_over_time({service_name="web"}[10m]))',
    expr: bin('>=', agg('sum', count(svc('api'), 10 * MIN), by('level')), agg('sum', count(svc('web'), 10 * MIN), by('level'))), step: 300,
  },
  {
    q: 'sum by (level) (count_over_time({service_name="api"}[10m])) != bool sum by (level) (count_over_time({service_name="db"}[10m]))',
    expr: bin('!=', agg('sum', count(svc('api'), 10 * MIN), by('level')), agg('sum', count(svc('db'), 10 * MIN), by('level')), { bool: true }), step: 300,
  },
  {
    q: 'sum by (level) (count_over_time({service_name="api"}[10m])) and sum by (level) (count_over_time({service_name="api"} |= "timeout" [10m]))',
    expr: setOp('and', agg('sum', count(svc('api'), 10 * MIN), by('level')), agg('sum', count(svc('api'), 10 * MIN, [contains('timeout')]), by('level'))), step: 300,
  },
  {
    q: 'sum by (level, host) (count_over_time({service_name="db", host="host-a"}[5m])) or on (level) sum by (level) (count_over_time({service_name="worker"}[5m]))',
    expr: setOp('or', agg('sum', count((e) => e.service === 'db' && e.host === 'host-a', 5 * MIN), by('level', 'host')), agg('sum', count(svc('worker'), 5 * MIN), by('level')), { on: ['level'] }), step: 300,
  },
  {
    q: 'sum by (level, host) (count_over_time({service_name="api"}[5m])) unless on (level) sum by (level) (count_over_time({service_name="api"} |= "timeout" [5m]))',
    expr: setOp('unless', agg('sum', count(svc('api'), 5 * MIN), by('level', 'host')), agg('sum', count(svc('api'), 5 * MIN, [contains('timeout')]), by('level')), { on: ['level'] }), step: 300,
  },
  {
    q: 'sum by (level) (count_over_time({service_name="api"}[10m])) > 4 and sum by (level) (count_over_time({service_name="web"}[10m])) < 8 or sum by (level, service_name) (count_over_time({service_name="db"}[10m])) * 0 + 100',
    expr: setOp('or',
      setOp('and', bin('>', agg('sum', count(svc('api'), 10 * MIN), by('level')), 4), bin('<', agg('sum', count(svc('web'), 10 * MIN), by('level')), 8)),
      bin('+', bin('*', agg('sum', count(svc('db'), 10 * MIN), by('level', 'service_name')), 0), 100)), step: 600,
  },
  // Instant queries: one step at the given instant.
  { q: 'sum by (service_name) (count_over_time({level="error"}[1h]))', expr: agg('sum', count(lvl('error'), HOUR), by('service_name')), instantAt: 2 * HOUR },
  {
    q: 'topk(3, sum by (service_name, host) (bytes_over_time({service_name=~".+"}[1h])))',
    expr: agg('topk', agg('sum', rangeFn('bytes_over_time', { sel: all, range: HOUR }), by('service_name', 'host')), undefined, 3), instantAt: 90 * MIN,
  },
  {
    q: 'quantile_over_time(0.5, {service_name="worker"} | logfmt | unwrap took_ms | __error__="" [1h]) by (service_name)',
    expr: rangeFn('quantile_over_time', { sel: svc('worker'), stages: [logfmt], range: HOUR, unwrap: { name: 'took_ms', conv: 'number', after: noErr }, grouping: by('service_name'), param: 0.5 }), instantAt: 150 * MIN,
  },
  { q: 'count_over_time({service_name="api"}[5m] offset 5m)', expr: rangeFn('count_over_time', { sel: svc('api'), range: 5 * MIN, offset: 5 * MIN }), instantAt: 60 * MIN },
  { q: '1 + 2 * 3 - 4 / 2 ^ 2', expr: () => 1 + 2 * 3 - 4 / 2 ** 2, instantAt: 30 * MIN },
];

// ---- the server, and comparisons ----

let s: TestServer;
let basic: string;

beforeAll(async () => {
  s = await startServer();
  const ing = await makeToken(s, 'ingest');
  basic = basicAuth(await makeToken(s, 'read'));
  for (let i = 0; i < events.length; i += 1000) {
    const rows = events.slice(i, i + 1000).map((e) => ({ time: new Date(e.ms).toISOString(), service: e.service, host: e.host, level: e.level, message: e.line, ...e.attrs }));
    const res = await ingest(s.url, ing, ndjson(rows));
    expect(res.body).toMatchObject({ accepted: rows.length, rejected: 0 });
  }
});
afterAll(async () => s?.close());

const ns = (ms: number): string => (BigInt(ms) * 1_000_000n).toString();

async function loki<T>(path: string, params: Record<string, string | number>): Promise<T> {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
  const res = await fetch(`${s.url}/loki/api/v1/${path}?${qs}`, { headers: { authorization: basic } });
  const body = (await res.json()) as { status: string; error?: string; data: T };
  if (res.status !== 200) throw new Error(`${res.status}: ${body.error ?? JSON.stringify(body)}`);
  return body.data;
}

type Streams = Array<{ stream: Labels; values: Array<[string, string]> }>;
const strip = (l: Labels): Labels => Object.fromEntries(Object.entries(l).filter(([k]) => k !== '__error_details__'));
const canon = (xs: Line[]): string[] => xs.map((x) => `${x.ms} ${x.key} ${x.line}`).sort();

describe('LogQL log queries against the reference', () => {
  it.each(LOG_CASES.map((c) => [c.q, c] as const))('%s', async (_q, c) => {
    const direction = c.direction ?? 'backward';
    const limit = c.limit ?? 100;
    const data = await loki<{ resultType: string; result: Streams }>('query_range', { query: c.q, start: ns(START), end: ns(END), limit, direction });
    expect(data.resultType).toBe('streams');
    const got: Line[] = [];
    for (const st of data.result) {
      const times = st.values.map(([t]) => BigInt(t));
      // Within a stream, the direction's order.
      expect(times).toEqual([...times].sort((a, b) => (a === b ? 0 : (a < b) === (direction === 'forward') ? -1 : 1)));
      for (const [t, line] of st.values) got.push({ ms: Number(BigInt(t) / 1_000_000n), key: keyOf(strip(st.stream)), line });
    }
    const want = expectedLines(c);
    // Identical (time, labels, line) entries would be one in Loki: the corpus has none.
    expect(new Set(canon(want)).size).toBe(want.length);
    const ordered = [...want].sort((a, b) => (direction === 'forward' ? a.ms - b.ms : b.ms - a.ms));
    expect(got).toHaveLength(Math.min(limit, want.length));
    if (want.length <= limit) {
      expect(canon(got)).toEqual(canon(want));
      return;
    }
    // The limit cuts at an instant: before it every line; at it, which of the equal times is not defined, only how many.
    const cut = ordered[limit - 1]!.ms;
    const before = (x: Line): boolean => (direction === 'forward' ? x.ms < cut : x.ms > cut);
    expect(canon(got.filter(before))).toEqual(canon(ordered.filter(before)));
    const atCut = canon(ordered.filter((x) => x.ms === cut));
    for (const g of canon(got.filter((x) => x.ms === cut))) expect(atCut).toContain(g);
  });

  it('has cases that find lines, and cases cut by their limit', () => {
    const sizes = LOG_CASES.map((c) => expectedLines(c).length);
    expect(sizes.every((n) => n > 0)).toBe(true);
    expect(LOG_CASES.filter((c, i) => sizes[i]! > (c.limit ?? 100)).length).toBeGreaterThan(5);
  });
});

type Matrix = Array<{ metric: Labels; values: Array<[number, string]> }>;
type Vector = Array<{ metric: Labels; value: [number, string] }>;

function expectSameSeries(got: Map<string, Map<number, number>>, want: Map<string, Map<number, number>>): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [key, points] of want) {
    const g = got.get(key)!;
    expect([...g.keys()], key).toEqual([...points.keys()]);
    for (const [t, v] of points) {
      const x = g.get(t)!;
      expect(Math.abs(x - v) <= 1e-9 * Math.max(1, Math.abs(v)), `${key} at ${t}: got ${x}, want ${v}`).toBe(true);
    }
  }
}

function wanted(vec: Vec, ts: number[]): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const s of vec.values()) {
    const points = new Map<number, number>();
    s.v.forEach((v, i) => {
      if (v !== undefined) points.set(ts[i]! / 1000, v);
    });
    if (points.size > 0) out.set(keyOf(s.labels), points);
  }
  return out;
}

describe('LogQL metric queries against the reference', () => {
  it.each(METRIC_CASES.map((c) => [c.q, c] as const))('%s', async (_q, c) => {
    if (c.instantAt !== undefined) {
      const t = START + c.instantAt;
      const want = c.expr({ ts: [t] });
      if (typeof want === 'number') {
        const data = await loki<{ resultType: string; result: [number, string] }>('query', { query: c.q, time: ns(t) });
        expect(data.resultType).toBe('scalar');
        expect(data.result[0]).toBe(t / 1000);
        expect(Number(data.result[1])).toBeCloseTo(want, 12);
        return;
      }
      const data = await loki<{ resultType: string; result: Vector }>('query', { query: c.q, time: ns(t) });
      expect(data.resultType).toBe('vector');
      const got = new Map(data.result.map((x) => [keyOf(x.metric), new Map([[x.value[0], Number(x.value[1])]])]));
      expect(got.size).toBe(data.result.length);
      expectSameSeries(got, wanted(want, [t]));
      return;
    }
    const step = c.step!;
    const ts: number[] = [];
    for (let t = START; t <= END; t += step * 1000) ts.push(t);
    const want = asVec(c.expr({ ts }));
    const data = await loki<{ resultType: string; result: Matrix }>('query_range', { query: c.q, start: ns(START), end: ns(END), step });
    expect(data.resultType).toBe('matrix');
    const got = new Map(data.result.map((x) => [keyOf(x.metric), new Map(x.values.map(([t, v]) => [t, Number(v)]))]));
    expect(got.size).toBe(data.result.length);
    expectSameSeries(got, wanted(want, ts));
  });

  it('has cases with series, most of them over more than one step', () => {
    let nonEmpty = 0;
    for (const c of METRIC_CASES) {
      const ts: number[] = [];
      if (c.instantAt !== undefined) ts.push(START + c.instantAt);
      else for (let t = START; t <= END; t += c.step! * 1000) ts.push(t);
      const v = c.expr({ ts });
      if (typeof v === 'number' || [...v.values()].some((x) => x.v.some((y) => y !== undefined))) nonEmpty++;
    }
    expect(nonEmpty).toBe(METRIC_CASES.length);
  });
});

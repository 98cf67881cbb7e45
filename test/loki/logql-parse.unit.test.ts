// LogQL to Sluice's AST through Grafana's grammar: the subset read as
// written, the rest refused with its construct named (never read wrongly).
import { describe, expect, it } from 'vitest';
import { formatLogQL } from '../../src/loki/logql/format.js';
import { parseLogQL } from '../../src/loki/logql/parse.js';

describe('parseLogQL', () => {
  it('reads selectors and line filters, with Go-quoted and raw strings and or', () => {
    expect(parseLogQL('{service_name="api", env=~"prod|dev", host!="a\\"b"} |= "timeout" != `debug` |~ "5\\\\d\\\\d" or "fatal" !~ `x`')).toEqual({
      kind: 'log',
      matchers: [
        { name: 'service_name', op: '=', value: 'api' },
        { name: 'env', op: '=~', value: 'prod|dev' },
        { name: 'host', op: '!=', value: 'a"b' },
      ],
      filters: [
        { op: '|=', values: ['timeout'] },
        { op: '!=', values: ['debug'] },
        { op: '|~', values: ['5\\d\\d', 'fatal'] },
        { op: '!~', values: ['x'] },
      ],
      stages: [],
    });
  });

  it('reads range and vector aggregations with by/without, offset and compound durations', () => {
    expect(parseLogQL('sum by (level, service_name) (rate({app="api"} |= "x" [1h30m] offset 5m))')).toEqual({
      kind: 'aggregate', op: 'sum', grouping: { mode: 'by', labels: ['level', 'service_name'] }, param: undefined,
      expr: {
        kind: 'range', fn: 'rate', rangeNs: 5_400_000_000_000n, offsetNs: 300_000_000_000n, unwrap: undefined, param: undefined, grouping: undefined,
        log: { kind: 'log', matchers: [{ name: 'app', op: '=', value: 'api' }], filters: [{ op: '|=', values: ['x'] }], stages: [] },
      },
    });
    expect(parseLogQL('count without (host) (bytes_over_time({a="b"}[30s]))')).toMatchObject({ op: 'count', grouping: { mode: 'without', labels: ['host'] }, expr: { fn: 'bytes_over_time', rangeNs: 30_000_000_000n } });
  });

  it('reads Go strings in one pass and long durations', () => {
    const f = (q: string): readonly string[] => (parseLogQL(q) as unknown as { filters: Array<{ values: string[] }> }).filters[0]!.values;
    expect(f('{a="b"} |= "C:\\\\app\\\\v1"')).toEqual(['C:\\app\\v1']);
    expect(f('{a="b"} |= "x\\\'y \\x41\\u00e9\\t"')).toEqual(["x'y A\u00e9\t"]);
    expect(() => parseLogQL('{a="b"} |= "\\q"')).toThrow(/unknown escape/);
    expect(parseLogQL('count_over_time({a="b"}[1209600s])')).toMatchObject({ rangeNs: 14n * 86_400_000_000_000n });
    expect(parseLogQL('count_over_time({a="b"}[1w2d])')).toMatchObject({ rangeNs: 9n * 86_400_000_000_000n });
  });

  it('reads drop and keep by name, as in the logs-volume query Grafana sends', () => {
    expect(parseLogQL('sum by (level, detected_level) (count_over_time({service_name="api"} | drop __error__[1m]))')).toMatchObject({
      grouping: { mode: 'by', labels: ['level', 'detected_level'] },
      expr: { log: { stages: [{ kind: 'drop', items: [{ name: '__error__', matcher: undefined }] }] } },
    });
    expect(parseLogQL('{a="b"} | keep level, host')).toMatchObject({ stages: [{ kind: 'keep', items: [{ name: 'level' }, { name: 'host' }] }] });
    expect(parseLogQL('{a="b"} | drop level="info", host')).toMatchObject({
      stages: [{ kind: 'drop', items: [{ name: 'level', matcher: { name: 'level', op: '=', value: 'info' } }, { name: 'host', matcher: undefined }] }],
    });
  });

  it('reads parsers, label filters and formats as pipeline stages, in order', () => {
    const q = parseLogQL('{a="b"} |= "x" | json | status >= 500 and dur > 1s500ms or size < 2KiB, path=~"/api.*" | logfmt --strict --keep-empty a, b="c" | regexp `(?P<ip>\\S+)` | pattern "<_> <n>" | unpack | decolorize | line_format "{{.a}}" != "y" | label_format x=y, z=`{{.a}}`');
    expect(q).toMatchObject({
      filters: [{ op: '|=', values: ['x'] }],
      stages: [
        { kind: 'json', extract: [], strict: false },
        {
          kind: 'label_filter',
          filter: {
            kind: 'or',
            left: { kind: 'and', left: { kind: 'number', name: 'status', op: '>=', value: 500 }, right: { kind: 'duration', name: 'dur', op: '>', value: 1.5 } },
            right: { kind: 'and', left: { kind: 'bytes', name: 'size', op: '<', value: 2048 }, right: { kind: 'match', matcher: { name: 'path', op: '=~', value: '/api.*' } } },
          },
        },
        { kind: 'logfmt', strict: true, keepEmpty: true, extract: [{ label: 'a', path: undefined }, { label: 'b', path: 'c' }] },
        { kind: 'regexp', expr: '(?P<ip>\\S+)' },
        { kind: 'pattern', expr: '<_> <n>' },
        { kind: 'unpack' },
        { kind: 'decolorize' },
        { kind: 'line_format', template: '{{.a}}' },
        // After a stage that rewrites the line, a line filter runs in the pipeline.
        { kind: 'line_filter', filter: { op: '!=', values: ['y'] } },
        { kind: 'label_format', items: [{ name: 'x', from: 'y', template: undefined }, { name: 'z', from: undefined, template: '{{.a}}' }] },
      ],
    });
    // A line filter after a parser but before any rewrite still sees the stored line: the store runs it.
    expect(parseLogQL('{a="b"} | json | x="1" |= "y"')).toMatchObject({ filters: [{ op: '|=', values: ['y'] }], stages: [{ kind: 'json' }, { kind: 'label_filter' }] });
    expect(parseLogQL('{a="b"} | json a="b.c[0]", d')).toMatchObject({ stages: [{ kind: 'json', extract: [{ label: 'a', path: 'b.c[0]' }, { label: 'd', path: undefined }] }] });
  });

  it('reads unwrapped range aggregations with their quantile, conversions, filters and grouping', () => {
    expect(parseLogQL('quantile_over_time(0.99, {a="b"} | json | unwrap duration(latency) | __error__="" [5m]) by (path)')).toMatchObject({
      kind: 'range', fn: 'quantile_over_time', param: 0.99, grouping: { mode: 'by', labels: ['path'] },
      unwrap: { label: 'latency', conv: 'duration', filters: [{ kind: 'match', matcher: { name: '__error__', op: '=', value: '' } }] },
      log: { stages: [{ kind: 'json' }] },
    });
    expect(parseLogQL('sum_over_time({a="b"} | unwrap bytes(size) [1m])')).toMatchObject({ unwrap: { label: 'size', conv: 'bytes' } });
    expect(parseLogQL('rate({a="b"} | unwrap n [1m])')).toMatchObject({ fn: 'rate', unwrap: { label: 'n', conv: 'number' } });
    expect(parseLogQL('absent_over_time({a="b"}[1m])')).toMatchObject({ fn: 'absent_over_time', unwrap: undefined });
  });

  it('reads vector(n), numbers, topk and binary operators with their modifiers', () => {
    expect(parseLogQL('vector(1)+vector(1)')).toMatchObject({ kind: 'binary', op: '+', left: { kind: 'vector', value: 1 }, right: { kind: 'vector', value: 1 }, bool: false });
    expect(parseLogQL('count_over_time({a="b"}[1m]) / 60')).toMatchObject({ kind: 'binary', op: '/', left: { kind: 'range' }, right: { kind: 'number', value: 60 } });
    expect(parseLogQL('topk(3, rate({a="b"}[1m]))')).toMatchObject({ kind: 'aggregate', op: 'topk', param: 3 });
    expect(parseLogQL('rate({a="b"}[1m]) > bool on (a) group_left (b) rate({c="d"}[1m])')).toMatchObject({
      op: '>', bool: true, matching: { on: true, labels: ['a'] }, group: { side: 'left', labels: ['b'] },
    });
    expect(parseLogQL('rate({a="b"}[1m]) and ignoring (host) rate({c="d"}[1m])')).toMatchObject({ op: 'and', matching: { on: false, labels: ['host'] } });
  });

  // The grammar nests a chain in the order it meets it; Loki (and PromQL) group by precedence.
  it.each([
    ['1 + 2 * 3', '1 + (2 * 3)'],
    ['2 * 3 + 1', '(2 * 3) + 1'],
    ['1 - 2 - 3', '(1 - 2) - 3'],
    ['2 ^ 3 ^ 2', '2 ^ (3 ^ 2)'],
    ['1 % 2 + 3 - 4 * 5 / 6', '((1 % 2) + 3) - ((4 * 5) / 6)'],
    ['1 + 2 > bool 3', '(1 + 2) > bool 3'],
    ['vector(1) or vector(2) and vector(3)', 'vector(1) or (vector(2) and vector(3))'],
    ['(1 + 2) * 3', '(1 + 2) * 3'],
  ])('groups %s as %s', (q, grouped) => {
    expect(formatLogQL(parseLogQL(q))).toBe(grouped);
  });

  it.each([
    ['{a="b"} |~ ip("10.0.0.0/8")', /not supported yet: LineFilter/],
    ['label_replace(rate({a="b"}[1m]), "1x", "$1", "a", "(.*)")', /not a label name/],
    ['sum_over_time({a="b"}[1m])', /needs an unwrapped label/],
    ['count_over_time({a="b"} | unwrap n [1m])', /takes no unwrap/],
    ['count_over_time({a="b"}[1m]) by (x)', /only with an unwrapped label/],
    ['topk(rate({a="b"}[1m]))', /whole number k/],
    ['1 > 2', /needs bool/],
    ['count_over_time({a="b"}[36500d1s])', /longer than 100 years/],
    ['rate({a="b"}[1m]) and 1', /works on vectors/],
    ['{a="b"', /parse error at position/],
    ['', /empty query|parse error/],
    ['{}', /parse error|at least one matcher/],
  ])('refuses %s', (q, message) => {
    expect(() => parseLogQL(q)).toThrow(message);
  });

  it.each([
    ['{app = "api",env=~`p.*`}|="x"  or `y`   |drop __error__', '{app="api", env=~"p.*"} |= "x" or "y" | drop __error__'],
    ['sum(rate({a="b"}[90s]offset 1h)) by (level)', 'sum by (level) (rate({a="b"} [1m30s] offset 1h))'],
    ['vector(1)+vector(1)', 'vector(1) + vector(1)'],
    ['(count_over_time({a="b"}[1m]) + 1) * 2', '(count_over_time({a="b"} [1m]) + 1) * 2'],
    ['{a="b"}|json|x>=5 , y=~"z" or d>10ms|line_format `{{.x}}`|label_format a=b', '{a="b"} | json | ((x >= 5 and y=~"z") or d > 10ms) | line_format "{{.x}}" | label_format a=b'],
    ['quantile_over_time(0.9,{a="b"}|logfmt|unwrap duration(d)|__error__=""[5m])by(x)', 'quantile_over_time(0.9, {a="b"} | logfmt | unwrap duration(d) | __error__="" [5m]) by (x)'],
    ['{a="b"}|= ip("10.0.0.0/8") |> "<_> x" or `y <_>` | json | addr != ip("::1")', '{a="b"} |= ip("10.0.0.0/8") |> "<_> x" or "y <_>" | json | addr!=ip("::1")'],
    ['label_replace(rate_counter({a="b"}|unwrap n[1m]),"dst","$1-${x}","src","(?P<x>.*)")', 'label_replace(rate_counter({a="b"} | unwrap n [1m]), "dst", "$1-${x}", "src", "(?P<x>.*)")'],
    ['topk(2,sum by(a)(rate({a="b"}[1m])))>bool on(a)group_left(b)vector(1)', 'topk(2, sum by (a) (rate({a="b"} [1m]))) > bool on (a) group_left (b) vector(1)'],
  ])('prints %s back as %s, which parses to the same', (q, printed) => {
    expect(formatLogQL(parseLogQL(q))).toBe(printed);
    expect(parseLogQL(printed)).toEqual(parseLogQL(q));
  });

  it('says so with a 400 code', () => {
    try {
      parseLogQL('{a="b"} |~ ip("10.0.0.0/8")');
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'SLUICE_ERR_LOGQL', statusCode: 400 });
    }
  });
});

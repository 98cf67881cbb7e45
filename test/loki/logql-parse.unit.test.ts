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
      labels: [],
    });
  });

  it('reads range and vector aggregations with by/without, offset and compound durations', () => {
    expect(parseLogQL('sum by (level, service_name) (rate({app="api"} |= "x" [1h30m] offset 5m))')).toEqual({
      kind: 'aggregate', op: 'sum', grouping: { mode: 'by', labels: ['level', 'service_name'] },
      expr: {
        kind: 'range', fn: 'rate', rangeNs: 5_400_000_000_000n, offsetNs: 300_000_000_000n,
        log: { kind: 'log', matchers: [{ name: 'app', op: '=', value: 'api' }], filters: [{ op: '|=', values: ['x'] }], labels: [] },
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
      expr: { log: { labels: [{ mode: 'drop', names: ['__error__'] }] } },
    });
    expect(parseLogQL('{a="b"} | keep level, host')).toMatchObject({ labels: [{ mode: 'keep', names: ['level', 'host'] }] });
    expect(() => parseLogQL('{a="b"} | drop level="info"')).toThrow(/not supported yet: DropLabel/);
  });

  it('reads vector(n), numbers and one binary operator', () => {
    expect(parseLogQL('vector(1)+vector(1)')).toEqual({ kind: 'binary', op: '+', left: { kind: 'vector', value: 1 }, right: { kind: 'vector', value: 1 } });
    expect(parseLogQL('count_over_time({a="b"}[1m]) / 60')).toMatchObject({ kind: 'binary', op: '/', left: { kind: 'range' }, right: { kind: 'number', value: 60 } });
  });

  it.each([
    ['{a="b"} | json', /not supported yet: LabelParser/],
    ['{a="b"} | logfmt | level="error"', /not supported yet: LogfmtParser/],
    ['{a="b"} | line_format "{{.msg}}"', /not supported yet: LineFormatExpr/],
    ['quantile_over_time(0.9, {a="b"} | unwrap d [1m])', /not supported yet/],
    ['topk(5, rate({a="b"}[1m]))', /not supported yet/],
    ['1 + 2 * 3', /several binary operators in a row/],
    ['{a="b"} |= ip("10.0.0.0/8")', /not supported yet: LineFilter/],
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
  ])('prints %s back as %s, which parses to the same', (q, printed) => {
    expect(formatLogQL(parseLogQL(q))).toBe(printed);
    expect(parseLogQL(printed)).toEqual(parseLogQL(q));
  });

  it('says so with a 400 code', () => {
    try {
      parseLogQL('{a="b"} | json');
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'SLUICE_ERR_LOGQL', statusCode: 400 });
    }
  });
});

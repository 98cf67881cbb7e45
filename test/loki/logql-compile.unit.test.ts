// Golden tests of the LogQL compiler: what each query becomes in the store,
// SQL and parameters, as readable snapshots. Every user value is a
// parameter ({lN:Type}); the SQL holds only fixed fragments and column
// names. A change here is a change in what the store is asked: review it.
import { describe, expect, it } from 'vitest';
import { compileLines, compilePipelineRange, compileRange, type Steps } from '../../src/loki/logql/evaluate.js';
import { parseLogQL, parseLogQuery, type RangeAggregation } from '../../src/loki/logql/parse.js';

// Fixed instants: nothing is stored or read, so the date does not matter.
const START = 1_700_000_000_000_000_000n;
const HOUR = 3_600_000_000_000n;
const steps: Steps = { startNs: START, stepNs: 60_000_000_000n, n: 61 };
const lines = (q: string, direction: 'forward' | 'backward' = 'backward') => compileLines(parseLogQuery(q), { startNs: START, endNs: START + HOUR, limit: 100, direction });
const range = (q: string) => parseLogQL(q) as RangeAggregation;

describe('log queries', () => {
  it('selector: columns for stream labels, the attribute map for others, whole-value regexes', () => {
    expect(lines('{service_name="api", region=~"eu-.*", host!="h1"}')).toMatchInlineSnapshot(`
      {
        "params": {
          "l0": "2023-11-14 22:13:20.000000000",
          "l1": "2023-11-14 23:13:20.000000000",
          "l2": "api",
          "l3": "region",
          "l4": "^(?:eu-.*)$",
          "l5": "h1",
          "l6": 100,
        },
        "sql": "SELECT toString(id), toString(toUnixTimestamp64Nano(time)), service, host, level, message, attributes FROM logs WHERE time >= {l0:DateTime64(9)} AND time < {l1:DateTime64(9)} AND service = {l2:String} AND match(attributes[{l3:String}], {l4:String}) AND host != {l5:String} ORDER BY time DESC, id DESC LIMIT {l6:UInt32}",
      }
    `);
  });

  it('line filters: position() for substrings, match() for RE2, or as OR, negations as NOT', () => {
    expect(lines('{app="api"} |= "timeout" or "refused" != "debug" |~ "5\\\\d\\\\d" !~ `(?i)health`', 'forward')).toMatchInlineSnapshot(`
      {
        "params": {
          "l0": "2023-11-14 22:13:20.000000000",
          "l1": "2023-11-14 23:13:20.000000000",
          "l2": "api",
          "l3": "timeout",
          "l4": "refused",
          "l5": "debug",
          "l6": "5\\d\\d",
          "l7": "(?i)health",
          "l8": 100,
        },
        "sql": "SELECT toString(id), toString(toUnixTimestamp64Nano(time)), service, host, level, message, attributes FROM logs WHERE time >= {l0:DateTime64(9)} AND time < {l1:DateTime64(9)} AND service = {l2:String} AND (position(message, {l3:String}) > 0 OR position(message, {l4:String}) > 0) AND NOT position(message, {l5:String}) > 0 AND match(message, {l6:String}) AND NOT match(message, {l7:String}) ORDER BY time ASC, id ASC LIMIT {l8:UInt32}",
      }
    `);
  });

  it('a pipeline leaves the store the selector and the filters before the first rewrite; a page after a cursor', () => {
    const log = parseLogQuery('{app="api"} |= "x" | json | status >= 500 |= "y" | line_format "{{.path}}" |= "z"');
    expect(compileLines(log, { startNs: START, endNs: START + HOUR, limit: 1000, direction: 'backward', after: { ns: '1700000000500000000', id: '0189e0a4-0000-7000-8000-000000000000' } })).toMatchInlineSnapshot(`
      {
        "params": {
          "l0": "2023-11-14 22:13:20.000000000",
          "l1": "2023-11-14 23:13:20.000000000",
          "l2": "api",
          "l3": "x",
          "l4": "y",
          "l5": "1700000000500000000",
          "l6": "0189e0a4-0000-7000-8000-000000000000",
          "l7": 1000,
        },
        "sql": "SELECT toString(id), toString(toUnixTimestamp64Nano(time)), service, host, level, message, attributes FROM logs WHERE time >= {l0:DateTime64(9)} AND time < {l1:DateTime64(9)} AND service = {l2:String} AND position(message, {l3:String}) > 0 AND position(message, {l4:String}) > 0 AND time <= fromUnixTimestamp64Nano({l5:Int64}, 'UTC') AND (time, id) < (fromUnixTimestamp64Nano({l5:Int64}, 'UTC'), {l6:UUID}) ORDER BY time DESC, id DESC LIMIT {l7:UInt32}",
      }
    `);
  });
});

describe('metric queries', () => {
  it('count_over_time with offset: each event counted at the steps whose window holds it', () => {
    expect(compileRange(range('count_over_time({app="api"} |= "error" [5m] offset 1h)'), steps)).toMatchInlineSnapshot(`
      {
        "params": {
          "l0": "1699996400000000000",
          "l1": "60000000000",
          "l2": "300000000000",
          "l3": "60",
          "l4": "2023-11-14 21:08:20.000000000",
          "l5": "2023-11-14 22:13:20.000000000",
          "l6": "api",
          "l7": "error",
        },
        "sql": "SELECT i, service, host, level, count(), sum(length(message)) FROM logs ARRAY JOIN range(toUInt32(if((toUnixTimestamp64Nano(time) - {l0:Int64}) <= 0, 0, intDiv((toUnixTimestamp64Nano(time) - {l0:Int64}) + {l1:Int64} - 1, {l1:Int64}))), toUInt32(least({l3:Int64}, intDiv((toUnixTimestamp64Nano(time) - {l0:Int64}) + {l2:Int64} - 1, {l1:Int64})) + 1)) AS i WHERE time > {l4:DateTime64(9)} AND time <= {l5:DateTime64(9)} AND service = {l6:String} AND position(message, {l7:String}) > 0 GROUP BY i, service, host, level",
      }
    `);
  });

  it('an unwrapped range function reads its lines in time order, a page at a time, for the pipeline', () => {
    expect(compilePipelineRange(range('quantile_over_time(0.99, {app="api"} |= "GET" | json | unwrap duration(latency) [5m]) by (path)'), steps)).toMatchInlineSnapshot(`
      {
        "params": {
          "l0": "2023-11-14 22:08:20.000000001",
          "l1": "2023-11-14 23:13:20.000000001",
          "l2": "api",
          "l3": "GET",
          "l4": 20000,
        },
        "sql": "SELECT toString(id), toString(toUnixTimestamp64Nano(time)), service, host, level, message, attributes FROM logs WHERE time >= {l0:DateTime64(9)} AND time < {l1:DateTime64(9)} AND service = {l2:String} AND position(message, {l3:String}) > 0 ORDER BY time ASC, id ASC LIMIT {l4:UInt32}",
      }
    `);
  });
});

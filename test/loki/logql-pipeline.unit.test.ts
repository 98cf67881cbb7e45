// The LogQL pipeline on single lines, with Loki's semantics: what each
// parser extracts and names, how label filters treat errors and missing
// labels, what templates print, and what is refused.
import { describe, expect, it } from 'vitest';
import { parseLogQL, parseLogQuery, type RangeAggregation } from '../../src/loki/logql/parse.js';
import { compilePipeline, type PipelineInput } from '../../src/loki/logql/pipeline.js';

const line = (message: string, attributes: Record<string, string> = {}): PipelineInput => ({ ns: '1700000000123456789', message, service: 'api', host: 'h1', level: 'info', attributes });
const run = (q: string, input: PipelineInput): ReturnType<ReturnType<typeof compilePipeline>> => compilePipeline(parseLogQuery(q))(input);

describe('parsers', () => {
  it('json flattens objects with _, skips arrays, sanitizes names and renames a stream label it meets', () => {
    expect(run('{a="b"} | json', line('{"level":"warn","req":{"id":7,"ok":true},"tags":["x"],"a-b":"c","1x":"d"}'))?.labels).toEqual({
      service_name: 'api', host: 'h1', level: 'info', level_extracted: 'warn', req_id: '7', req_ok: 'true', a_b: 'c', _1x: 'd',
    });
  });

  it('json with paths, including an index and a quoted key; a missing path is an empty (absent) label', () => {
    expect(run('{a="b"} | json first="items[0]", k=`m["x y"]`, gone="nope.no"', line('{"items":["p","q"],"m":{"x y":"z"}}'))?.labels).toMatchObject({ first: 'p', k: 'z' });
    expect(run('{a="b"} | json gone="nope.no"', line('{"items":[]}'))?.labels.gone).toBeUndefined();
  });

  it('json on a line that is not JSON: the ingest-time fields stand in; with none, JSONParserErr', () => {
    expect(run('{a="b"} | json', line('handled', { status: '200', path: '/x' }))?.labels).toMatchObject({ status: '200', path: '/x' });
    expect(run('{a="b"} | json', line('plain text'))?.labels).toMatchObject({ __error__: 'JSONParserErr' });
  });

  it('logfmt is lenient as Loki\'s: what is not a pair is skipped, tabs split pairs; --strict marks the line instead', () => {
    expect(run('{a="b"} | logfmt', line('[INFO] user=bob\taction=login "ok" =x'))?.labels).toEqual({ service_name: 'api', host: 'h1', level: 'info', user: 'bob', action: 'login' });
    expect(run('{a="b"} | logfmt --strict', line('user=bob "ok"'))?.labels).toMatchObject({ user: 'bob', __error__: 'LogfmtParserErr' });
    expect(run('{a="b"} | logfmt msg, who="user"', line('user=bob msg="a \\"quoted\\" word"'))?.labels).toMatchObject({ who: 'bob', msg: 'a "quoted" word' });
  });

  it('logfmt drops empty values; --strict marks a line that is not logfmt', () => {
    expect(run('{a="b"} | logfmt', line('a=1 b= c="x y"'))?.labels).toMatchObject({ a: '1', c: 'x y' });
    expect(run('{a="b"} | logfmt', line('a=1 b= c="x y"'))?.labels.b).toBeUndefined();
    expect(run('{a="b"} | logfmt --strict', line('a="unterminated'))?.labels).toMatchObject({ __error__: 'LogfmtParserErr' });
  });

  it('regexp takes named groups (RE2 spelling); pattern captures up to the next literal; unpack replaces the line', () => {
    expect(run('{a="b"} | regexp `(?P<verb>[A-Z]+) (?P<path>\\S+)`', line('GET /a/b HTTP/1.1'))?.labels).toMatchObject({ verb: 'GET', path: '/a/b' });
    expect(run('{a="b"} | pattern `<ip> - - [<_>] "<method> <uri> <_>" <status>`', line('1.2.3.4 - - [10/Oct/2000] "GET /x HTTP/1.0" 200'))?.labels).toMatchObject({
      ip: '1.2.3.4', method: 'GET', uri: '/x', status: '200',
    });
    // A missing literal gives the capture the rest of the line, as in Loki.
    expect(run('{a="b"} | pattern "<path>?<_>"', line('/api/plugins/status'))?.labels.path).toBe('/api/plugins/status');
    expect(run('{a="b"} | pattern "GET <a> and <b>"', line('POST x'))?.labels.a).toBeUndefined();
    const u = run('{a="b"} | unpack', line('{"_entry":"the line","pod":"p1","n":3}'));
    expect(u).toMatchObject({ line: 'the line', labels: { pod: 'p1' } });
    expect(u?.labels.n).toBeUndefined();
    expect(run('{a="b"} | decolorize', line('\u001b[31mred\u001b[0m text'))?.line).toBe('red text');
  });

  it('refuses a regexp without a named group and a pattern with two captures in a row', () => {
    expect(() => compilePipeline(parseLogQuery('{a="b"} | regexp "x+"'))).toThrow(/named group/);
    expect(() => compilePipeline(parseLogQuery('{a="b"} | pattern "<a><b>"'))).toThrow(/two captures in a row/);
  });
});

describe('label filters', () => {
  it('compare numbers, durations and bytes; a missing label drops the line, != too (Loki 3)', () => {
    const l = line('{"n":"12","d":"1m30s","s":"3KiB"}');
    expect(run('{a="b"} | json | n > 10 and d >= 90s and s == 3072B', l)).toBeDefined();
    expect(run('{a="b"} | json | n > 12', l)).toBeUndefined();
    expect(run('{a="b"} | json | missing > 1', l)).toBeUndefined();
    expect(run('{a="b"} | json | missing != 1', l)).toBeUndefined();
  });

  it('a value that does not convert marks the line LabelFilterErr and keeps it; __error__="" then drops it; an earlier error is kept', () => {
    const l = line('{"n":"twelve"}');
    expect(run('{a="b"} | json | n > 10', l)?.labels).toMatchObject({ __error__: 'LabelFilterErr' });
    expect(run('{a="b"} | json | n > 10 | __error__=""', l)).toBeUndefined();
    // A line that is not JSON has no n: the filter drops it (Loki 3 no longer lets errored lines through).
    expect(run('{a="b"} | json | n > 10', line('plain'))).toBeUndefined();
    expect(run('{a="b"} | logfmt | json | n > 10', line('n=x'))?.labels).toMatchObject({ __error__: 'JSONParserErr' });
  });

  it('read structured metadata (attributes) and stream labels; or, and, parentheses', () => {
    const l = line('x', { trace: 'abc', code: '503' });
    expect(run('{a="b"} | trace="abc" and (code >= 500 or level="debug")', l)).toBeDefined();
    expect(run('{a="b"} | trace=~"a.*" , code < 500', l)).toBeUndefined();
    // Attributes are read, not added to the result's labels.
    expect(run('{a="b"} | trace="abc"', l)?.labels).toEqual({ service_name: 'api', host: 'h1', level: 'info' });
  });
});

describe('ip() and pattern line filters', () => {
  it('ip() finds an address of the range in a line or a label; CIDR, ranges, IPv6; a bad range is a 400', () => {
    expect(run('{a="b"} |= ip("10.0.0.0/8")', line('client=10.1.2.3:443 ok'))).toBeDefined();
    expect(run('{a="b"} |= ip("10.0.0.0/8")', line('client=11.1.2.3 ok'))).toBeUndefined();
    expect(run('{a="b"} != ip("192.168.0.1-192.168.0.9")', line('from 192.168.0.7'))).toBeUndefined();
    expect(run('{a="b"} |= ip("2001:db8::/32")', line('peer [2001:db8::1] up'))).toBeDefined();
    expect(run('{a="b"} | logfmt | addr = ip("10.0.0.1")', line('addr=10.0.0.1'))).toBeDefined();
    expect(run('{a="b"} | logfmt | addr != ip("10.0.0.0/24")', line('addr=10.0.1.1'))).toBeDefined();
    expect(run('{a="b"} | logfmt | addr = ip("10.0.0.0/24")', line('addr=nope'))).toBeUndefined();
    expect(() => compilePipeline(parseLogQuery('{a="b"} |= ip("10.0.0.300")'))).toThrow(/a CIDR range/);
  });

  it('|> keeps a line that fits one of its patterns, !> one that fits none; literals at the ends anchor, captures are not empty', () => {
    expect(run('{a="b"} |> "<_> failed for <_>"', line('login failed for ann'))).toBeDefined();
    expect(run('{a="b"} |> "<_> failed for <_>" or "ok <_>"', line('ok done'))).toBeDefined();
    expect(run('{a="b"} |> "<_> failed for <_>"', line('login ok'))).toBeUndefined();
    expect(run('{a="b"} !> "login <_>"', line('login ok'))).toBeUndefined();
    expect(run('{a="b"} |> "<_> error"', line('an error happened'))).toBeUndefined();
    expect(run('{a="b"} |> "<_> error"', line('an error'))).toBeDefined();
    expect(run('{a="b"} |> "foo"', line('foobar'))).toBeUndefined();
    expect(run('{a="b"} |> "<_>x <_>"', line('x y'))).toBeUndefined();
    expect(() => compilePipeline(parseLogQuery('{a="b"} |> "<name> x"'))).toThrow(/only <_>/);
  });
});

describe('unwrap', () => {
  it('a line without the label has no sample; a value that does not convert is SampleExtractionErr; the label leaves the labels', () => {
    const q = parseLogQL('sum_over_time({a="b"} | logfmt | unwrap duration(d) [1m])') as RangeAggregation;
    const p = compilePipeline(q.log, q.unwrap);
    expect(p(line('x=1 y=2'))).toBeUndefined();
    expect(p(line('d=1m30s y=2'))).toEqual({ line: 'd=1m30s y=2', labels: { service_name: 'api', host: 'h1', level: 'info', y: '2' }, value: 90 });
    expect(p(line('d=soon y=2'))?.labels.__error__).toBe('SampleExtractionErr');
  });
});

describe('what a user can write does not hang or crash', () => {
  it('regexes are RE2: linear in the line, whatever the pattern', () => {
    const long = 'a'.repeat(50_000);
    expect(run('{a="b"} | regexp "(?P<x>.*.*.*)x"', line(long))?.labels.x).toBeUndefined();
    expect(run('{a="b"} |~ "(a+)+$" | line_format "x" |~ "(a|aa)+b"', line('a'.repeat(40) + '!'))).toBeUndefined();
    expect(run('{a="b"} | json | m=~".*.*.*x"', line(JSON.stringify({ m: long })))).toBeUndefined();
  });

  it('a template that fails on a line marks it TemplateFormatErr and keeps it; bad literals are a 400', () => {
    expect(run('{a="b"} | logfmt | line_format "{{ urldecode .q }}"', line('q=100%'))).toMatchObject({ line: 'q=100%', labels: { __error__: 'TemplateFormatErr' } });
    expect(run('{a="b"} | line_format `{{ printf "%300000000s" "x" }}`', line('x'))?.labels.__error__).toBe('TemplateFormatErr');
    expect(run('{a="b"} | line_format `{{ repeat 1000 (repeat 1000 "xy") }}`', line('x'))?.labels.__error__).toBe('TemplateFormatErr');
    expect(run('{a="b"} | line_format `{{ alignLeft 1000000000 "x" }}`', line('x'))?.labels.__error__).toBe('TemplateFormatErr');
    expect(run('{a="b"} | line_format `{{ printf "%.200f" 1.5 }}`', line('x'))?.line).toMatch(/^1\.50*$/);
    expect(run('{a="b"} | line_format `{{ "\x41\t" }}`', line('x'))?.line).toBe('A\t');
    expect(() => compilePipeline(parseLogQuery('{a="b"} | line_format `{{ "\\q" }}`'))).toThrow(/unknown escape/);
  });
});

describe('formats and label stages', () => {
  it('line_format: fields, pipelines, functions, if/else, __line__ and __timestamp__; a missing label is empty', () => {
    const l = line('{"status":"500","path":"/a","user":"Ann"}');
    const f = (t: string): string | undefined => run(`{a="b"} | json | line_format \`${t}\``, l)?.line;
    expect(f('{{.path}} {{ .user | ToLower }} {{ .nope }}|')).toBe('/a ann |');
    expect(f('{{ if eq .status "500" }}ERR{{ else if eq .status "404" }}NF{{ else }}OK{{ end }}')).toBe('ERR');
    expect(f('{{ printf "%s=%05d" .path 42 }} {{ default "anon" .nobody }} {{ Replace .path "/" "_" -1 }}')).toBe('/a=00042 anon _a');
    expect(f('{{ __line__ | len }} {{ __timestamp__ }}')).toBe(`${l.message.length} 2023-11-14 22:13:20.123456789 +0000 UTC`);
    expect(f('{{- .user -}}  !')).toBe('Ann!');
  });

  it('refuses template actions it does not run, rather than printing something else', () => {
    expect(() => compilePipeline(parseLogQuery('{a="b"} | line_format "{{ range .x }}{{ end }}"'))).toThrow(/not supported yet: the template action range/);
    expect(() => compilePipeline(parseLogQuery('{a="b"} | line_format "{{ toJson .x }}"'))).toThrow(/template function toJson/);
    expect(() => compilePipeline(parseLogQuery('{a="b"} | line_format "{{ .x "'))).toThrow(/without }}/);
  });

  it('label_format renames and templates from the labels before the stage; drop and keep by name and by value', () => {
    const l = line('{"a":"1","b":"2"}');
    expect(run('{a="b"} | json | label_format x=a, y="{{.a}}-{{.b}}"', l)?.labels).toMatchObject({ x: '1', y: '1-2', b: '2' });
    expect(run('{a="b"} | json | label_format x=a', l)?.labels.a).toBeUndefined();
    expect(() => compilePipeline(parseLogQuery('{a="b"} | label_format x=a, x=b'))).toThrow(/sets x twice/);
    expect(run('{a="b"} | json | drop a, b="3"', l)?.labels).toEqual({ service_name: 'api', host: 'h1', level: 'info', b: '2' });
    expect(run('{a="b"} | json | keep a, host="h2"', l)?.labels).toEqual({ a: '1' });
    // keep leaves the error labels; a rename from a missing label changes nothing.
    expect(run('{a="b"} | json | keep a', line('not json'))?.labels).toMatchObject({ __error__: 'JSONParserErr' });
    expect(run('{a="b"} | label_format level=nosuch', line('x'))?.labels.level).toBe('info');
  });
});

// The pure part of detected_fields: Loki's type detection (Go's parsers,
// then humanize's bytes) and its json/logfmt field naming.
import { describe, expect, it } from 'vitest';
import { detectFields, fieldType, parseLine, sanitizeKey } from '../../src/loki/detected-fields.js';

describe('fieldType', () => {
  it('int, float, boolean, duration, bytes, string, in Loki\'s order', () => {
    const cases: Array<[string, string]> = [
      ['42', 'int'], ['-7', 'int'], ['+3', 'int'], ['9223372036854775808', 'float'],
      ['1.5', 'float'], ['1e3', 'float'], ['.5', 'float'], ['Inf', 'float'], ['NaN', 'float'], ['0x1p-2', 'float'],
      ['true', 'boolean'], ['F', 'boolean'],
      ['1.5s', 'duration'], ['1h30m', 'duration'], ['250ms', 'duration'], ['10m', 'duration'],
      ['2kb', 'bytes'], ['1.5 MiB', 'bytes'], ['1,000', 'bytes'], ['10k', 'bytes'],
      ['1e400', 'string'], ['GET', 'string'], ['', 'string'], ['ms', 'string'],
    ];
    for (const [v, t] of cases) expect(fieldType(v), v).toBe(t);
  });
});

describe('parseLine', () => {
  const stream = new Set(['service_name', 'level']);
  it('json: nested keys joined with _, sanitized; arrays, nulls and empties skipped; stream labels renamed', () => {
    const { parser, fields } = parseLine('{"a":{"b-c":1,"d":[1]},"9x":"y","level":"info","n":null,"e":"","t":false}', stream);
    expect(parser).toBe('json');
    expect(Object.fromEntries([...fields].map(([k, p]) => [k, p]))).toEqual({
      a_b_c: { value: '1', path: ['a', 'b-c'] },
      _9x: { value: 'y', path: ['9x'] },
      level_extracted: { value: 'info', path: ['level'] },
      t: { value: 'false', path: ['t'] },
    });
  });

  it('logfmt when the line is not a JSON object: keys without a value dropped', () => {
    const { parser, fields } = parseLine('GET /x status=200 dur=3ms level=warn', stream);
    expect(parser).toBe('logfmt');
    expect(Object.fromEntries([...fields].map(([k, p]) => [k, p.value]))).toEqual({ status: '200', dur: '3ms', level_extracted: 'warn' });
    expect(parseLine('just words here', stream).fields.size).toBe(0);
    expect(parseLine('[1,2]', stream).parser).toBe(undefined);
  });

  it('sanitizeKey', () => {
    expect(sanitizeKey(' http.method ')).toBe('http_method');
    expect(sanitizeKey('1st')).toBe('_1st');
    expect(sanitizeKey('é')).toBe('_');
  });
});

describe('detectFields', () => {
  it('the first `limit` names met, newest line first; a type from the newest line; attributes with parsers null', () => {
    const line = (message: string, attributes: Record<string, string> = {}): { streamLabels: Set<string>; attributes: Record<string, string>; message: string } => ({ streamLabels: new Set(['service_name']), attributes, message });
    const lines = [line('{"x":"1s"}', { region: 'eu', 'k8s.pod': 'p' }), line('x=5 y=2'), line('{"x":"abc"}', { region: 'us' })];
    expect(detectFields(lines, 10)).toEqual([
      { label: 'region', type: 'string', cardinality: 2, parsers: null },
      { label: 'x', type: 'duration', cardinality: 3, parsers: ['json', 'logfmt'], jsonPath: ['x'] },
      { label: 'y', type: 'int', cardinality: 1, parsers: ['logfmt'] },
    ]);
    expect(detectFields(lines, 2).map((f) => f.label)).toEqual(['region', 'x']);
  });
});

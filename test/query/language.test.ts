// The search language: what parses, where errors point, the SQL it emits
// (snapshots), and a fuzz check that no user text ever reaches the SQL text.
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/errors.js';
import { compileForRollup, compileQuery } from '../../src/query/language/compile.js';
import { onlyServices, requiredServices } from '../../src/query/language/match.js';
import { parseQuery } from '../../src/query/language/parse.js';

function syntaxPosition(q: string): number | undefined {
  try {
    compileQuery(q);
  } catch (e) {
    if (e instanceof SluiceError && e.code === 'SLUICE_ERR_QUERY_SYNTAX') return e.details?.position as number;
    throw e;
  }
  return undefined;
}

describe('parse', () => {
  it('reads implicit AND, OR, NOT, minus and parentheses with the usual precedence', () => {
    expect(parseQuery('a b OR c')).toMatchObject({ type: 'or', children: [{ type: 'and' }, { type: 'word', value: 'c' }] });
    expect(parseQuery('a AND (b OR c)')).toMatchObject({ type: 'and', children: [{ type: 'word' }, { type: 'or' }] });
    expect(parseQuery('-a NOT b')).toMatchObject({ type: 'and', children: [{ type: 'not' }, { type: 'not' }] });
    expect(parseQuery('')).toEqual({ type: 'all' });
    expect(parseQuery('   ')).toEqual({ type: 'all' });
  });

  it('reads field terms: equality, quotes, wildcards, comparisons, ranges, existence', () => {
    expect(parseQuery('service:api')).toMatchObject({ type: 'field', field: 'service', op: '=', value: 'api', wildcard: false });
    expect(parseQuery('msg.text:"a b \\" c"')).toMatchObject({ type: 'field', field: 'msg.text', value: 'a b " c' });
    expect(parseQuery('host:web-*')).toMatchObject({ type: 'field', value: 'web-*', wildcard: true });
    expect(parseQuery('status:>=500')).toMatchObject({ type: 'field', op: '>=', value: '500' });
    expect(parseQuery('status:500..599')).toMatchObject({ type: 'range', low: '500', high: '599' });
    expect(parseQuery('user.id:*')).toMatchObject({ type: 'exists', field: 'user.id' });
    expect(parseQuery('"connection reset"')).toMatchObject({ type: 'phrase', value: 'connection reset' });
    expect(parseQuery('/err\\/or/')).toMatchObject({ type: 'regex', value: 'err/or' });
    expect(parseQuery('time*')).toMatchObject({ type: 'word', value: 'time', prefix: true });
  });

  it.each([
    ['(a OR b', 0],
    ['a OR', 4],
    ['a)', 1],
    ['"open', 0],
    ['/open', 0],
    ['level:loud', 0],
    ['status:>=abc', 0],
    ['x:', 2],
    ['ti*me', 2],
    ['a AND', 5],
    ['()', 0],
    ['NOT', 0],
    ['OR a', 0],
    ['level:error (', 12],
    ['a OR (', 5],
    ['(', 0],
    ['( ', 0],
  ])('points at the error in %s', (q, position) => {
    expect(syntaxPosition(q)).toBe(position);
  });

  it('names an unclosed parenthesis at the end as such', () => {
    for (const q of ['level:error (', 'a OR (', '(']) expect(() => parseQuery(q)).toThrow(/^unclosed \( \(at position \d+\)$/);
  });
});

describe('requiredServices (the live tail offers a viewer only these services)', () => {
  it('names the services an event must have, and only when the query limits them', () => {
    const of = (q: string) => {
      const r = requiredServices(parseQuery(q));
      return r === undefined ? undefined : [...r].sort();
    };
    expect(of('service:api')).toEqual(['api']);
    expect(of('service:api level:>=error timeout')).toEqual(['api']);
    expect(of('service:a OR service:b')).toEqual(['a', 'b']);
    expect(of('service:a OR (service:b level:error)')).toEqual(['a', 'b']);
    expect(of('service:a service:b')).toEqual([]);
    expect(of('service:a OR level:error')).toBeUndefined();
    expect(of('-service:a')).toBeUndefined();
    expect(of('service:ap*')).toBeUndefined();
    expect(of('host:api')).toBeUndefined();
    expect(of('')).toBeUndefined();
  });

  it('knows when the services alone decide a match, so no filter need run', () => {
    const only = (q: string) => onlyServices(parseQuery(q));
    expect(only('service:api')).toBe(true);
    expect(only('service:a OR service:b')).toBe(true);
    expect(only('service:api level:error')).toBe(false);
    expect(only('service:a OR (service:b level:error)')).toBe(false);
    expect(only('service:ap*')).toBe(false);
    expect(only('-service:a')).toBe(false);
    expect(only('')).toBe(false);
  });
});

describe('compile', () => {
  it.each([
    'timeout',
    'time*',
    '"connection reset"',
    'user-42',
    '"->"',
    '/err(or)?\\d+/',
    'service:api',
    'service:web-*',
    'level:warn',
    'level:>=warn',
    'level:<error',
    'level:info..error',
    'status:500',
    'status:>=500',
    'duration_ms:100..250.5',
    'user.id:*',
    'message:"disk full"',
    'trace_id:4bf92f3577b34da6a3ce929d0e0e4736',
    'span_id:*',
    'source:ingest-*',
    '-service:api NOT level:debug',
    '(timeout OR "connection reset") service:api status:>=500',
  ])('%s', (q) => {
    expect(compileQuery(q)).toMatchSnapshot();
  });

  it('compiles service/level filters for the rollup and refuses the rest', () => {
    expect(compileForRollup('service:api level:>=warn')).toMatchSnapshot();
    expect(compileForRollup('(service:web-* OR service:api) -level:debug')).toMatchSnapshot();
    expect(compileForRollup('service:api timeout')).toBeUndefined();
    expect(compileForRollup('status:500')).toBeUndefined();
    // Only the columns the rollups keep (src/query/columns.ts), and only by equality.
    expect(compileForRollup('host:web-1')).toBeUndefined();
    expect(compileForRollup('trace_id:abc')).toBeUndefined();
    expect(compileForRollup('service:>=1')).toBeUndefined();
  });
});

describe('fuzz: user text never reaches the SQL text', () => {
  // A deterministic generator (no Math.random: a failure must reproduce).
  let seed = 0x5eed;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const ALPHABET = 'abcXYZ019 _-.:*"/\\()\'`;${}[]<>=!@#%^&|~?,\t';
  const marker = () => 'zq' + Array.from({ length: 6 }, () => 'bcdfghjkmnpqrstvwxz'[rand(19)]).join('');
  const noise = (n: number) => Array.from({ length: n }, () => ALPHABET[rand(ALPHABET.length)]).join('');

  const pieces = [
    () => marker(),
    () => `${marker()}*`,
    () => `"${marker()} ${noise(3)} ${marker()}"`,
    () => `/${marker()}${noise(2)}/`,
    () => `${marker()}:${marker()}`,
    () => `${marker()}.${marker()}:>=${rand(1000)}`,
    () => `service:${marker()}*`,
    () => `host:"${noise(4)}${marker()}"`,
    () => `${marker()}:${rand(9)}..${rand(99)}`,
    () => `-${marker()}`,
    () => 'NOT',
    () => 'OR',
    () => 'AND',
    () => '(',
    () => ')',
    () => noise(1 + rand(4)),
  ];

  it('emits only parameters, or a syntax error, for 5000 random queries', () => {
    let compiled = 0;
    for (let i = 0; i < 5000; i++) {
      const q = Array.from({ length: 1 + rand(8) }, () => pieces[rand(pieces.length)]!()).join(' ');
      let out;
      try {
        out = compileQuery(q);
      } catch (e) {
        expect(e, q).toBeInstanceOf(SluiceError);
        expect((e as SluiceError).code, q).toBe('SLUICE_ERR_QUERY_SYNTAX');
        continue;
      }
      compiled++;
      for (const m of q.match(/zq[a-z]{6}/g) ?? []) expect(out.sql, q).not.toContain(m);
      // Outside {name:Type} placeholders the SQL is fixed fragments only.
      const bare = out.sql.replace(/\{q\d+:(String|Float64|UInt8)\}/g, '');
      expect(bare, q).toMatch(/^[A-Za-z0-9_ ()!=<>'.,[\]]*$/);
      expect(bare).not.toMatch(/'[^']+'/); // the only quoted literal is ''
    }
    expect(compiled).toBeGreaterThan(1000);
  });
});

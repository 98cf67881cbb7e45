import { describe, expect, it } from 'vitest';
import { parseLogfmt } from '../../src/ingest/logfmt.js';
import { isRejection, normalizeLine, normalizeObject, type NormalizeContext } from '../../src/ingest/normalize.js';
import type { LogEvent } from '../../src/model/event.js';

const received = 1795320000000000000n;
const ctx: NormalizeContext = {
  receivedNs: received, defaultService: 'svc', defaultHost: 'h0', maxAttributes: 5,
  oldestNs: received - 86_400_000_000_000n, newestNs: received + 86_400_000_000_000n,
};
const ok = (r: ReturnType<typeof normalizeObject>): LogEvent => {
  if (isRejection(r)) throw new Error(r.message);
  return r;
};

describe('normalizeObject', () => {
  it('maps winston/bunyan shapes and keeps the rest as flat attributes', () => {
    const e = ok(normalizeObject({ level: 'info', message: 'hi', timestamp: '2026-11-22T04:00:00Z', meta: { user: { id: 42 } }, tags: ['a'] }, ctx));
    expect(e).toMatchObject({ level: 'info', message: 'hi', service: 'svc', host: 'h0', attributes: { 'meta.user.id': '42', tags: '["a"]' } });
  });

  it('keeps an unknown level word as an attribute and defaults to info', () => {
    const e = ok(normalizeObject({ level: 'chatty', msg: 'x' }, ctx));
    expect(e).toMatchObject({ level: 'info', severity: 9, attributes: { level_original: 'chatty' } });
  });

  it('reads a numeric severity as an OpenTelemetry number', () => {
    expect(ok(normalizeObject({ severity: 21, msg: 'x' }, ctx)).level).toBe('fatal');
  });

  it('uses the fields as the message when there is none', () => {
    expect(ok(normalizeObject({ status: 200 }, ctx)).message).toBe('{"status":"200"}');
  });

  it('clamps times outside the retention or far in the future to the received time', () => {
    const old = ok(normalizeObject({ msg: 'x', time: '2000-01-01T00:00:00Z' }, ctx));
    expect(old.timeNs).toBe(received);
    expect(old.attributes.original_time).toBe('2000-01-01T00:00:00.000000000Z');
    expect(ok(normalizeObject({ msg: 'x', time: '2099-01-01T00:00:00Z' }, ctx)).timeNs).toBe(received);
  });

  it('makes time-ordered UUIDv7 ids from the event time', () => {
    const a = ok(normalizeObject({ msg: 'a', time: '2026-11-22T03:00:00Z' }, ctx));
    const b = ok(normalizeObject({ msg: 'b', time: '2026-11-22T03:00:01Z' }, ctx));
    expect(a.id < b.id).toBe(true);
    expect(parseInt(a.id.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.parse('2026-11-22T03:00:00Z'));
  });

  it('rejects too many attributes', () => {
    const r = normalizeObject({ msg: 'x', a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }, ctx);
    expect(isRejection(r) && r.code).toBe('SLUICE_ERR_TOO_MANY_ATTRIBUTES');
  });
});

describe('normalizeLine', () => {
  it.each([
    ['[warn] disk almost full', 'warn'],
    ['ERROR: boom', 'error'],
    ['2026-11-22 05:00:00,123 INFO dfs.DataNode: started', 'info'],
    ['E1122 05:00:00.000000 1 main.go:10] glog style', 'error'],
    ['all good here', 'info'],
  ])('guesses the level of %s', (line, level) => {
    expect(ok(normalizeLine(line, ctx)).level).toBe(level);
  });

  it('parses logfmt with quotes and escapes', () => {
    expect(parseLogfmt('at=info method=GET path="/a b" fwd="1.2.3.4" dyno=web.1 connect=1ms quiet')).toEqual({
      at: 'info', method: 'GET', path: '/a b', fwd: '1.2.3.4', dyno: 'web.1', connect: '1ms', quiet: 'true',
    });
    expect(parseLogfmt('msg="say \\"hi\\"" level=warn')).toEqual({ msg: 'say "hi"', level: 'warn' });
    expect(parseLogfmt('just a sentence with x=1')).toBeUndefined();
    expect(parseLogfmt('broken="quote level=warn')).toBeUndefined();
  });
});

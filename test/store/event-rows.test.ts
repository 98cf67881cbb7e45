// eventRows writes TabSeparated rows (#17): every string a client can send —
// tabs, newlines, backslashes, quotes, NUL, braces inside attribute keys — must
// reach the store as it was sent, and rowsToJson (the live tail's read-back)
// must read the same bytes back as the published events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type LogEvent, logEventToJson } from '../../src/model/event.js';
import { uuidv7 } from '../../src/model/id.js';
import { nowNs } from '../../src/model/time.js';
import { migrate } from '../../src/store/migrate.js';
import { eventRows, rowsToJson } from '../../src/store/rows.js';
import { openStore, type Store } from '../../src/store/store.js';
import { testEnv } from '../helpers/server.js';

const NASTY = [
  'tab\there', 'new\nline', 'crlf\r\nend', 'back\\slash', 'literal \\N and \\t and \\n', 'end with backslash\\', '\\', "'", "it's", '"double"',
  'NUL\0byte', 'unicode é 日本 🎉', "{'a':'b'}", "{'k':'v','k2':'v2'}", '', ' lead and trail ', 'x\ty\nz\\w\'v\rq\0', '\\\'', "\\'\\'",
];

function events(service: string): LogEvent[] {
  const base = nowNs() - 60_000_000_000n;
  return NASTY.map((message, i) => {
    const t = base + BigInt(i) * 1_000_001n;
    const attributes: Record<string, string> = { plain: 'v', [`k${i} ${NASTY[i]}`]: NASTY[(i + 3) % NASTY.length]!, [NASTY[(i + 5) % NASTY.length]! + `#${i}`]: message };
    return { id: uuidv7(Number(t / 1_000_000n)), timeNs: t, receivedNs: base, service, host: `host ${NASTY[i]}`, level: 'warn', severity: 13, message, attributes, traceId: i % 2 ? '' : `t${NASTY[i]}`, spanId: '', };
  });
}

describe('eventRows', () => {
  it('writes one line of 13 tab-separated fields per event, whatever the text holds', () => {
    const lines = eventRows(events('svc'), "src 'x'\t", 'w').toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(NASTY.length);
    for (const l of lines) expect(l.split('\t')).toHaveLength(13);
  });

  it('writes a request larger than its scratch buffer whole, multi-byte text included, and the next one afresh', () => {
    const base = events('big')[0]!;
    // About 3 MiB of rows: the scratch starts at 1 MiB and must grow.
    const big = Array.from({ length: 4000 }, (_, i) => ({ ...base, message: `${i} ` + '日本語 é 🎉 '.repeat(40) }));
    const rows = eventRows(big, 'test', 'w');
    expect(rows.length).toBeGreaterThan(3 * 2 ** 20);
    expect(rowsToJson(rows).map((e) => e.message)).toEqual(big.map((e) => e.message));
    const small = events('after');
    expect(rowsToJson(eventRows(small, 'test', 'w'))).toEqual(small.map((e) => logEventToJson(e, 'test')));
  });

  it('makes room for a row by its UTF-8 length, not its length in characters', () => {
    // Each message is 3 bytes of UTF-8 a character. Whatever size the
    // scratch has (1 to 16 MiB), one of these fits it counted in characters
    // and not in bytes: the sizes are less than 3× apart.
    for (const chars of [400_000, 700_000, 1_500_000, 3_000_000, 6_000_000]) {
      const huge = { ...events('huge')[0]!, message: '語'.repeat(chars) };
      expect(rowsToJson(eventRows([huge], 'test', 'w'))[0]!.message).toBe(huge.message);
    }
  });

  it('reads back through rowsToJson as the events it was made from', () => {
    const evs = events("svc\t'q'");
    expect(rowsToJson(eventRows(evs, "src\\ 'x'\t", 'w'))).toEqual(evs.map((e) => logEventToJson(e, "src\\ 'x'\t")));
  });
});

describe('eventRows into the embedded store', () => {
  let store: Store;
  beforeAll(async () => {
    const config = loadConfig(testEnv());
    store = await openStore(config, { createDatabase: true });
    await migrate(store, config.retentionDays);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('stores every string exactly as sent, the attribute map included', async () => {
    const evs = events("svc 'nasty'");
    await store.insertEvents(eventRows(evs, 'test', 'w'));
    const rs = await store.query.query({
      query: 'SELECT toString(id) AS id, message, host, service, attributes, trace_id, source FROM logs WHERE service = {s:String} ORDER BY time',
      query_params: { s: "svc 'nasty'" },
      format: 'JSONEachRow',
    });
    const got = await rs.json<{ id: string; message: string; host: string; service: string; attributes: Record<string, string>; trace_id: string; source: string }>();
    expect(got).toEqual(evs.map((e) => ({ id: e.id, message: e.message, host: e.host, service: e.service, attributes: e.attributes, trace_id: e.traceId, source: 'test' })));
  });
});

// The pure parts of the syslog drain: message parsing and stream framing.
import { describe, expect, it } from 'vitest';
import { SyslogFramer } from '../../src/ingest/syslog/framing.js';
import { parseLogplexMessage, parseSyslog } from '../../src/ingest/syslog/parse.js';

describe('parseSyslog', () => {
  it('reads the RFC 5424 examples', () => {
    const m = parseSyslog('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry...');
    expect(m).toMatchObject({ format: '5424', facility: 20, severity: 5, hostname: 'mymachine.example.com', appName: 'evntslog', procId: '', msgId: 'ID47', message: 'An application event log entry...' });
    expect(m.sd).toEqual([{ id: 'exampleSDID@32473', params: [['iut', '3'], ['eventSource', 'Application'], ['eventID', '1011']] }]);
    const bom = parseSyslog("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF'su root' failed\n");
    expect(bom).toMatchObject({ format: '5424', severity: 2, message: "'su root' failed", sd: [] });
  });

  it('reads RFC 3164 with and without HOSTNAME, and the RFC 3339 forward format', () => {
    expect(parseSyslog("<34>Oct 11 22:14:15 mymachine su: 'su root' failed")).toMatchObject({ format: '3164', hostname: 'mymachine', appName: 'su', message: "'su root' failed" });
    expect(parseSyslog('<13>Oct  1 22:14:15 cron[123]: job ran')).toMatchObject({ hostname: '', appName: 'cron', procId: '123', message: 'job ran' });
    expect(parseSyslog('<134>2026-11-22T04:34:58.483536+00:00 vm myapp hello')).toMatchObject({ hostname: 'vm', appName: 'myapp', message: 'hello', timeNs: 1795322098483536000n });
  });

  it('returns raw with a reason for what does not parse', () => {
    expect(parseSyslog('no pri here')).toMatchObject({ format: 'raw', error: expect.stringContaining('<PRI>') });
    expect(parseSyslog('<999>1 x')).toMatchObject({ format: 'raw' });
    expect(parseSyslog('<14>1 2026-01-01T00:00:00Z h a - - [x@1 a="unterminated]')).toMatchObject({ format: 'raw', facility: 1, error: expect.stringContaining('closing quote') });
  });

  it('reads Logplex messages by position (no SD field)', () => {
    expect(parseLogplexMessage('<174>1 2012-07-22T00:06:26+00:00 host erlang console - Hi from erlang\n')).toMatchObject({
      format: 'logplex', appName: 'erlang', procId: 'console', msgId: '', message: 'Hi from erlang',
    });
    expect(parseLogplexMessage('<190>1 2012-07-22T00:06:26+00:00 host app web.1 - [not sd] text')).toMatchObject({ message: '[not sd] text', sd: [] });
  });
});

describe('SyslogFramer', () => {
  it('detects octet counting and LF framing per frame, across chunk boundaries', () => {
    const stream = Buffer.from('82 <134>1 2024-05-01T12:00:00.000Z web01 myapp 4242 REQ [meta@32473 env="test"] hello73 <134>1 2024-05-01T12:00:01.000Z web01 myapp 4242 - - second message here\n<13>Oct 11 22:14:15 h a: lf one\n');
    for (const size of [1, 7, 64, stream.length]) {
      const f = new SyslogFramer(1024);
      const frames = [];
      for (let i = 0; i < stream.length; i += size) frames.push(...f.push(stream.subarray(i, i + size)));
      frames.push(...f.end());
      expect(frames.map((x) => x.data.toString())).toEqual([
        '<134>1 2024-05-01T12:00:00.000Z web01 myapp 4242 REQ [meta@32473 env="test"] hello',
        '<134>1 2024-05-01T12:00:01.000Z web01 myapp 4242 - - second message here\n',
        '<13>Oct 11 22:14:15 h a: lf one',
      ]);
    }
  });

  it('cuts frames at the limit and stays in step', () => {
    const f = new SyslogFramer(300);
    const frames = f.push(Buffer.from(`500 <${'a'.repeat(499)}<1>short line\n${'b'.repeat(400)}\n<2>after\n`));
    expect(frames.map((x) => [x.data.length, x.truncated])).toEqual([[300, 500], [13, undefined], [300, 400], [8, undefined]]);
  });
});

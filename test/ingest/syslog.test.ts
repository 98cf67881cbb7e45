// Syslog listeners over real sockets, fed by real clients: util-linux
// `logger` (TCP and UDP, RFC 5424 and 3164) and syslog-ng forwarding in the
// foreground; TLS with a certificate made here; bad input by hand.
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/errors.js';
import { syslogListenersOf } from '../../src/ingest/syslog/listeners.js';
import { makeToken, searchAll, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { testTimes, patience } from '../helpers/times.js';

const at = testTimes();

let s: TestServer;
let token: string;
let readToken: string;
let ports: { tcp: number; udp: number; tls: number };
let certPem: string;
const HOST = hostname();

beforeAll(async () => {
  const dir = tempDir('sluice-syslog-');
  // A self-signed certificate for the TLS listener, made by the openssl CLI.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  certPem = execFileSync('cat', [join(dir, 'cert.pem')]).toString();
  s = await startServer({
    SLUICE_SYSLOG_TCP_PORT: '0', SLUICE_SYSLOG_UDP_PORT: '0', SLUICE_SYSLOG_TLS_PORT: '0',
    SLUICE_SYSLOG_TLS_CERT: join(dir, 'cert.pem'), SLUICE_SYSLOG_TLS_KEY: join(dir, 'key.pem'),
    SLUICE_SYSLOG_HOST: '127.0.0.1', SLUICE_SYSLOG_TRUSTED: '127.0.0.1/32,::1',
  });
  token = await makeToken(s, 'ingest', 'syslog-sender');
  readToken = await makeToken(s, 'read');
  ports = syslogListenersOf(s.ctx)!.ports as typeof ports;
});
afterAll(async () => s.close());

/** Polls until `service` holds `count` events (or the deadline passes), then returns them. */
async function stored(service: string, count: number, timeoutMs = 20_000): Promise<Array<Record<string, unknown>>> {
  const deadline = Date.now() + patience(timeoutMs);
  for (;;) {
    const events = await searchAll(s.url, readToken, { service, from: '24h' });
    if (events.length >= count || Date.now() > deadline) return events;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

function run(cmd: string, args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
}

function sendTcp(port: number, data: string | Buffer, localAddress?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) }, () => sock.end(data));
    sock.on('error', reject);
    sock.on('close', () => resolve());
  });
}

function sendUdp(port: number, messages: string[], localAddress = '127.0.0.1'): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    sock.on('error', reject);
    sock.bind(0, localAddress, () => {
      let left = messages.length;
      for (const m of messages) sock.send(m, port, '127.0.0.1', () => --left === 0 && sock.close(() => resolve()));
    });
  });
}

const octet = (msg: string) => `${Buffer.byteLength(msg)} ${msg}`;
const sd = (t: string) => `[auth@32473 token="${t}"]`;

describe('setup for new sources', () => {
  it('reports the ports the listeners are bound to, so the web app can show exact config lines', async () => {
    const res = await fetch(`${s.url}/api/v1/setup`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    const body = (await res.json()) as { syslog: Record<string, number> };
    expect(body.syslog).toEqual({ tcp: ports.tcp, udp: ports.udp, tls: ports.tls });
    expect(ports.tcp).toBeGreaterThan(0);
  });
});

describe('logger (util-linux)', () => {
  it('RFC 5424 over TCP, octet counting and LF framing, token in SD', async () => {
    const common = ['--server', '127.0.0.1', '--port', String(ports.tcp), '--tcp', '--rfc5424', '--sd-id', 'auth@32473', '--sd-param', `token="${token}"`];
    expect(await run('logger', [...common, '--octet-count', '-t', 'lg-tcp', '-p', 'local0.warning', '--id=4242', '--msgid', 'REQ', 'octet counted warning'])).toBe(0);
    expect(await run('logger', [...common, '-t', 'lg-tcp', '-p', 'user.err', '--sd-id', 'meta@32473', '--sd-param', 'env="te\\"st"', 'lf framed error'])).toBe(0);
    const events = await stored('lg-tcp', 2);
    expect(events).toHaveLength(2);
    const by = Object.fromEntries(events.map((e) => [e.message, e]));
    expect(by['octet counted warning']).toMatchObject({
      level: 'warn', severity: 13, host: HOST, source: 'syslog-sender',
      attributes: { 'syslog.facility': 'local0', 'syslog.procid': '4242', 'syslog.msgid': 'REQ', 'timeQuality.tzKnown': '1' },
    });
    expect(by['lf framed error']).toMatchObject({ level: 'error', attributes: { 'syslog.facility': 'user', 'meta@32473.env': 'te"st' } });
    for (const e of events) expect(JSON.stringify(e)).not.toContain(token);
  });

  it('RFC 3164 over UDP and TCP from a trusted address, without a token', async () => {
    for (const transport of ['--udp', '--tcp']) {
      const port = transport === '--udp' ? ports.udp : ports.tcp;
      expect(await run('logger', ['--server', '127.0.0.1', '--port', String(port), transport, '--rfc3164', '-t', 'lg-bsd', '-p', 'daemon.notice', `bsd over ${transport.slice(2)}`])).toBe(0);
    }
    expect(await run('logger', ['--server', '127.0.0.1', '--port', String(ports.udp), '--udp', '--rfc5424', '-t', 'lg-bsd', '-p', 'local7.debug', 'rfc5424 over udp'])).toBe(0);
    const events = await stored('lg-bsd', 3);
    expect(events.map((e) => e.message).sort()).toEqual(['bsd over tcp', 'bsd over udp', 'rfc5424 over udp']);
    const by = Object.fromEntries(events.map((e) => [e.message, e]));
    expect(by['bsd over udp']).toMatchObject({ level: 'info', severity: 10, host: HOST, source: 'syslog-trusted', attributes: { 'syslog.facility': 'daemon' } });
    expect(by['rfc5424 over udp']).toMatchObject({ level: 'debug', attributes: { 'syslog.facility': 'local7' } });
    // 3164 has no year or zone: read in local time, so it lands within a minute of now.
    expect(Math.abs(Date.parse(String(by['bsd over tcp']!.time)) - Date.now())).toBeLessThan(60_000);
  });
});

describe('syslog-ng forwarding (foreground, generated config)', () => {
  it('forwards RFC 5424 over TCP with the token in SD, and BSD over UDP from a trusted address', async () => {
    const dir = tempDir('sluice-syslog-ng-');
    // One fetch takes all 50 lines: under faketime (the date check) syslog-ng's
    // stdin reader at times stopped for good between fetches of its default
    // 10 (40 of 50 sent, over TCP and UDP alike; seen with a plain TCP
    // server in Sluice's place too, never without faketime).
    writeFileSync(join(dir, 'syslog-ng.conf'), `@version: 3.38
options { chain_hostnames(no); use_dns(no); stats_freq(0); };
source s_in { stdin(flags(no-parse) log-fetch-limit(100)); };
rewrite r_tcp { set("ng-tcp" value("PROGRAM")); set("${token}" value(".SDATA.auth@32473.token")); };
rewrite r_udp { set("ng-udp" value("PROGRAM")); };
destination d_sluice_tcp { syslog("127.0.0.1" transport("tcp") port(${ports.tcp})); };
destination d_sluice_udp { network("127.0.0.1" transport("udp") port(${ports.udp})); };
log { source(s_in); rewrite(r_tcp); destination(d_sluice_tcp); };
log { source(s_in); rewrite(r_udp); destination(d_sluice_udp); };
`);
    const child = spawn('syslog-ng', ['-F', '-f', join(dir, 'syslog-ng.conf'), `--persist-file=${join(dir, 'persist')}`,
      `--pidfile=${join(dir, 'pid')}`, `--control=${join(dir, 'ctl')}`], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise((r) => child.on('exit', r));
    try {
      const lines = Array.from({ length: 50 }, (_, i) => `syslog-ng line ${i}`);
      child.stdin.write(lines.join('\n') + '\n');
      const tcp = await stored('ng-tcp', 50);
      const udp = await stored('ng-udp', 50);
      expect(tcp.map((e) => e.message).sort()).toEqual([...lines].sort());
      expect(udp.map((e) => e.message).sort()).toEqual([...lines].sort());
      expect(tcp[0]).toMatchObject({ source: 'syslog-sender', host: HOST, level: 'info', attributes: { 'meta.sequenceId': expect.any(String) } });
      expect(udp[0]).toMatchObject({ source: 'syslog-trusted', host: HOST });
      expect(JSON.stringify(tcp)).not.toContain(token);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});

describe('TLS', () => {
  it('takes octet-counted RFC 5424 over TLS with a self-signed certificate', async () => {
    const msgs = [1, 2, 3].map((i) => `<165>1 ${at.iso(i * 1000 + 3)} tls-host tls-app - ID47 ${sd(token)}[exampleSDID@32473 iut="${i}" eventSource="App"] tls event ${i}\n`);
    await new Promise<void>((resolve, reject) => {
      const sock = tlsConnect({ port: ports.tls, host: '127.0.0.1', ca: certPem, servername: 'localhost' }, () => sock.end(msgs.map(octet).join('')));
      sock.on('error', reject);
      sock.on('close', () => resolve());
    });
    const events = await searchAll(s.url, readToken, { service: 'tls-app', from: '1d' }).then(async (e) => (e.length === 3 ? e : stored('tls-app', 3)));
    expect(events.map((e) => e.message).sort()).toEqual(['tls event 1', 'tls event 2', 'tls event 3']);
    expect(events.find((e) => e.message === 'tls event 2')).toMatchObject({
      host: 'tls-host', level: 'info', severity: 10, time: at.rfc(2003),
      attributes: { 'exampleSDID@32473.iut': '2', 'exampleSDID@32473.eventSource': 'App', 'syslog.msgid': 'ID47', 'syslog.facility': 'local4' },
    });
  });
});

describe('bad input', () => {
  it('cuts lines past SLUICE_MAX_LINE_BYTES, stores malformed frames raw, keeps the connection and every valid neighbour', async () => {
    const now = new Date().toISOString();
    const ok = (n: number) => `<134>1 ${now} h bad-in - - ${sd(token)} valid ${n}`;
    const big = 'x'.repeat(1_500_000);
    const justUnder = 'y'.repeat(1_000_000);
    const escapes = `<134>1 ${now} h bad-in - - ${sd(token)}[x@1 a="back\\slash \\n \\] \\\\ \\"q\\"" b=""] unknown escapes`;
    const head = `<134>1 ${now} h bad-in - - ${sd(token)} `;
    const bigOctet = head + 'z'.repeat(1_200_000 - Buffer.byteLength(head));
    const wrongLong = `<134>1 ${now} h bad-in - - ${sd(token)} long count`;
    const stream = [
      octet(ok(1)),
      `<134>1 ${now} h bad-in - - ${sd(token)} ${big}\n`, // LF framed, 1.5 MB
      octet(ok(2)),
      octet(bigOctet), // octet counted, past the limit
      '\n',
      `<134>1 ${now} h bad-in - - ${sd(token)} ${justUnder}\n`,
      'this is not syslog at all\n',
      `<134>1 ${now} h bad-in - - [unterminated token="${token}" broken sd\n`,
      octet(escapes) + '\n',
      `${Buffer.byteLength(wrongLong) + 40} ${wrongLong}\n` + octet(ok(3) + '\n'),
      octet(ok(4)),
    ].join('');
    await sendTcp(ports.tcp, stream);
    const events = await stored('bad-in', 9);
    const msgs = events.map((e) => String(e.message));
    for (const n of [1, 2, 3, 4]) expect(msgs).toContain(`valid ${n}`);
    const lengths = events.map((e) => String(e.message).length).sort((a, b) => b - a);
    expect(lengths[0]).toBeLessThanOrEqual(1024 * 1024);
    const cut = events.filter((e) => (e.attributes as Record<string, string>)['syslog.truncated_from'] !== undefined);
    expect(cut).toHaveLength(2);
    // The LF-framed line's length is known only if its LF came in the same read.
    const from = cut.map((e) => (e.attributes as Record<string, string>)['syslog.truncated_from']);
    expect(from).toContain('1200000');
    expect([String(Buffer.byteLength(head + big)), 'unknown']).toContain(from.find((f) => f !== '1200000'));
    expect(msgs).toContain(justUnder);
    expect(events.find((e) => e.message === 'unknown escapes')).toMatchObject({ attributes: { 'x@1.a': 'back\\slash \\n ] \\ "q"', 'x@1.b': '' } });
    const long = events.find((e) => String(e.message).startsWith('long count'));
    expect(long).toMatchObject({ attributes: { 'syslog.framing_error': expect.stringContaining('runs past the end') } });
    // The malformed frames on a connection that showed a token are kept raw.
    const raw = await stored('unknown', 2, 5000);
    const rawMsgs = raw.filter((e) => (e.attributes as Record<string, string>)['syslog.parse_error'] !== undefined);
    expect(rawMsgs.map((e) => e.message).sort()).toEqual([`<134>1 ${now} h bad-in - - [unterminated token="${token}" broken sd`, 'this is not syslog at all']);
  });

  it('refuses UDP and TCP without a token from an untrusted address, and counts it', async () => {
    const before = await metric('sluice_syslog_refused_total', 'transport="udp",reason="no_token"');
    const beforeBad = await metric('sluice_syslog_refused_total', 'transport="udp",reason="invalid_token"');
    const now = new Date().toISOString();
    await sendUdp(ports.udp, [`<14>1 ${now} h untrusted - - - no token`, `<14>1 ${now} h untrusted - - ${sd('nope')} bad token`, `<14>1 ${now} h untrusted - - ${sd(token)} with token`], '127.0.0.2');
    await sendTcp(ports.tcp, `<14>Nov 22 05:00:00 h untrusted: tcp no token\n<14>1 ${now} h untrusted - - ${sd(token)} tcp with token\n`, '127.0.0.2');
    const events = await stored('untrusted', 2);
    // Wait for the refusals to be counted (the UDP batch is processed as one).
    const deadline = Date.now() + patience(10_000);
    while ((await metric('sluice_syslog_refused_total', 'transport="udp",reason="no_token"')) < before + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(events.map((e) => e.message).sort()).toEqual(['tcp with token', 'with token']);
    expect(await metric('sluice_syslog_refused_total', 'transport="udp",reason="no_token"')).toBe(before + 1);
    expect(await metric('sluice_syslog_refused_total', 'transport="udp",reason="invalid_token"')).toBe(beforeBad + 1);
    expect(await metric('sluice_syslog_refused_total', 'transport="tcp",reason="no_token"')).toBeGreaterThanOrEqual(1);
  });
});

describe('backpressure', () => {
  it('pauses a TCP connection while the batcher is full and stores everything once it has room', async () => {
    const batcher = s.ctx.batcher as { submit: typeof s.ctx.batcher.submit };
    const original = batcher.submit;
    let refusals = 0;
    let sawRefusal!: () => void;
    const refused = new Promise<void>((r) => (sawRefusal = r));
    batcher.submit = () => {
      refusals++;
      sawRefusal();
      return Promise.reject(new SluiceError('SLUICE_ERR_OVERLOADED', undefined, { retryAfter: 1 }));
    };
    const now = new Date().toISOString();
    const lines = Array.from({ length: 2000 }, (_, i) => `<134>1 ${now} h pressure - - ${sd(token)} pressured ${i}\n`).join('');
    try {
      const sent = sendTcp(ports.tcp, lines);
      await refused;
      expect(refusals).toBeGreaterThan(0);
      batcher.submit = original;
      await sent;
    } finally {
      batcher.submit = original;
    }
    const events = await stored('pressure', 2000);
    expect(events).toHaveLength(2000);
    expect(new Set(events.map((e) => e.message)).size).toBe(2000);
  });
});

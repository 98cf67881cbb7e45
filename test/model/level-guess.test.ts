// Level detection on plain lines, checked against the hand-labelled levels
// of real logs in ../shared/datasets/loghub, and on synthetic lines whose
// marker sits behind 8-14 header fields.
import { describe, expect, it } from 'vitest';
import { guessLevel } from '../../src/model/level-guess.js';
import { parseLevel } from '../../src/model/levels.js';
import { dataset } from '../helpers/loghub.js';

// The datasets' Level labels in our canonical levels (Apache's `notice` is
// info, as in the syslog mapping).
const CANON: Record<string, string> = {
  V: 'trace', D: 'debug', I: 'info', W: 'warn', E: 'error', F: 'fatal',
  INFO: 'info', WARN: 'warn', ERROR: 'error', FATAL: 'fatal', notice: 'info', error: 'error', warn: 'warn',
};

// Where a format has no level field, the level is whatever the program
// itself put first in its message: sshd's `error:`/`fatal:`, xinetd's
// `warning:`, an upper-case `ALERT`; otherwise none.
function contentLevel(content: string): string | undefined {
  const first = content.trimStart().split(/\s+/, 1)[0] ?? '';
  const word = /^([A-Za-z]+):$/.exec(first)?.[1] ?? (/^[A-Z]{3,}$/.test(first) ? first : undefined);
  return word === undefined ? undefined : parseLevel(word)?.level;
}

function accuracy(lines: string[], truth: Array<string | undefined>): { share: number; wrong: string } {
  let right = 0;
  const wrong: string[] = [];
  lines.forEach((line, i) => {
    const got = guessLevel(line)?.level;
    if (got === truth[i]) right++;
    else if (wrong.length < 5) wrong.push(`${truth[i]} -> ${got}: ${line.slice(0, 140)}`);
  });
  return { share: right / lines.length, wrong: wrong.join('\n') };
}

describe('guessLevel against hand-labelled logs', () => {
  it.each(['Android', 'Apache', 'HDFS', 'Spark', 'Zookeeper'])('%s: the Level column', (name) => {
    const { lines, rows } = dataset(name);
    expect(lines.length).toBe(rows.length);
    const truth = rows.map((r) => CANON[r.Level!]);
    expect(truth.every((t) => t !== undefined)).toBe(true);
    const { share, wrong } = accuracy(lines, truth);
    expect(share, wrong).toBeGreaterThanOrEqual(0.99);
  });

  it('Linux: its Level column holds the host, so the truth is the message itself', () => {
    const { lines, rows } = dataset('Linux');
    expect(new Set(rows.map((r) => r.Level))).toEqual(new Set(['combo']));
    const truth = rows.map((r) => contentLevel(r.Content!));
    expect(truth.filter((t) => t === undefined).length).toBeGreaterThan(1900);
    const { share, wrong } = accuracy(lines, truth);
    expect(share, wrong).toBeGreaterThanOrEqual(0.99);
  });

  it.each(['OpenSSH', 'HealthApp'])('%s: no Level column; none unless the message starts with one', (name) => {
    const { lines, rows } = dataset(name);
    expect(lines.length).toBe(rows.length);
    expect(rows[0]).not.toHaveProperty('Level');
    const { share, wrong } = accuracy(lines, rows.map((r) => contentLevel(r.Content!)));
    expect(share, wrong).toBeGreaterThanOrEqual(0.99);
  });

  // The Content column is the line without its header: level words in it
  // (Apache's `in error state`, Zookeeper's `error = `) are text.
  it.each(['Android', 'Apache', 'HDFS', 'Spark', 'Zookeeper', 'Linux', 'OpenSSH', 'HealthApp'])('%s: the message text alone is no marker', (name) => {
    const contents = dataset(name).rows.map((r) => r.Content!);
    const { share, wrong } = accuracy(contents, contents.map(contentLevel));
    expect(share, wrong).toBeGreaterThanOrEqual(0.99);
  });
});

// mulberry32, so the synthetic lines are the same on every run.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('guessLevel behind long headers', () => {
  const rnd = prng(16);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const pad = (n: number): string => String(n).padStart(2, '0');

  // Header fields as real systems write them (BGL/Thunderbird, log4j, syslog,
  // Zookeeper, HDFS); each entry is one or more whitespace-separated tokens.
  const fields: Array<() => string> = [
    () => String(int(1_100_000_000, 1_800_000_000)),
    () => `2005.${pad(int(1, 12))}.${pad(int(1, 28))}`,
    () => `2015-${pad(int(1, 12))}-${pad(int(1, 28))}`,
    () => `17/${pad(int(1, 12))}/${pad(int(1, 28))}`,
    () => `08${pad(int(1, 12))}${pad(int(1, 28))}`,
    () => `${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))},${int(100, 999)}`,
    () => `2005-06-03-${pad(int(0, 23))}.${pad(int(0, 59))}.${pad(int(0, 59))}.${int(100000, 999999)}`,
    () => `2024-01-${pad(int(1, 28))}T${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}.${int(100, 999)}Z`,
    () => `${pick(['Jun', 'Dec', 'Nov'])} ${int(1, 28)}`,
    () => `R${pad(int(0, 99))}-M${int(0, 1)}-N${int(0, 9)}-C:J${pad(int(0, 18))}-U${int(0, 11)}`,
    () => `dn${int(1, 400)}`,
    () => `dn${int(1, 400)}/dn${int(1, 400)}`,
    () => `ip-10-0-${int(0, 255)}-${int(0, 255)}.ec2.internal`,
    () => `10.251.${int(0, 255)}.${int(0, 255)}`,
    () => pick(['combo', 'LabSZ', 'tbird', 'gateway']),
    () => pick(['RAS', 'KERNEL', 'APP', 'MMCS', 'LINKCARD']),
    () => pick(['org.apache.hadoop.hdfs.server.datanode.DataNode:', 'dfs.DataNode$PacketResponder:', 'executor.CoarseGrainedExecutorBackend:', 'o.s.b.w.e.tomcat.TomcatWebServer']),
    () => pick(['[main]', `[pool-${int(1, 9)}-thread-${int(1, 99)}]`, `QuorumCnxManager$Listener@${int(100, 999)}`, `[QuorumPeer[myid=${int(1, 5)}]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774]`]),
    () => pick([`sshd[${int(1000, 30000)}]:`, `crond(pam_unix)[${int(1000, 30000)}]:`, `kernel[${int(0, 9)}]:`]),
    () => pick(['-', '|', '---', '::']),
    () => pick([`0x${int(0, 2 ** 31).toString(16)}`, `blk_-${int(1e8, 9e8)}`, `pid=${int(1, 99999)}`, `${int(1, 65535)}`, `#${int(1, 999)}`]),
    () => `[Sun Dec ${pad(int(1, 28))} ${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))} 2005]`,
  ];
  const plainWord = /^[A-Za-z]+$/;

  /** 8-14 header tokens, never two plain words in a row (no header has them). */
  function header(): string[] {
    const want = int(8, 14);
    const tokens: string[] = [];
    while (tokens.length < want) {
      const next = pick(fields)().split(' ');
      if (plainWord.test(next[0]!) && plainWord.test(tokens.at(-1) ?? '')) continue;
      tokens.push(...next);
    }
    return tokens;
  }

  // Marker forms and the level each means. Lower-case ones follow a field,
  // never a plain word (`Connection error:` is text).
  const markers: Array<[() => string, string, boolean]> = [
    [() => 'FATAL', 'fatal', false], [() => 'INFO', 'info', false], [() => 'WARN', 'warn', false],
    [() => 'ERROR', 'error', false], [() => 'WARNING:', 'warn', false], [() => '[ERROR]', 'error', false],
    [() => 'DEBUG', 'debug', false], [() => 'SEVERE', 'error', false], [() => 'WRN', 'warn', false],
    [() => '[error]', 'error', true], [() => '[notice]', 'info', true], [() => '<E>', 'error', true],
    [() => '<crit>', 'fatal', true], [() => 'level=warn', 'warn', false], [() => 'severity=ERROR', 'error', false],
    [() => 'error:', 'error', true], [() => 'warning:', 'warn', true],
    [() => `${int(100, 9999)}  ${int(100, 9999)} W ${pick(['WindowManager', 'PowerManagerService'])}:`, 'warn', false],
    [() => `${int(100, 9999)} ${int(100, 9999)} V ActivityManager:`, 'trace', false],
    [() => `E0614 ${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}.123456 ${int(1, 999)} pod_workers.go:190]`, 'error', false],
  ];

  // Real messages, already without their headers; none starts with a marker.
  const contents = ['Android', 'Apache', 'HDFS', 'Spark', 'Zookeeper', 'Linux', 'OpenSSH', 'HealthApp']
    .flatMap((name) => dataset(name).rows.map((r) => r.Content!))
    .filter((c) => contentLevel(c) === undefined);
  const withWords = contents.filter((c) => /\b(error|warn|warning|info|fatal|debug|notice|crit)\b/i.test(c));

  it('finds the marker after 8-14 header tokens', () => {
    const lines: string[] = [];
    const truth: string[] = [];
    for (let n = 0; n < 3000; n++) {
      const tokens = header();
      const [form, level, lower] = pick(markers);
      if (lower && plainWord.test(tokens.at(-1)!)) tokens.push(pick(fields)());
      lines.push(`${tokens.join(' ')} ${form()} ${pick(contents)}`);
      truth.push(level);
    }
    const { share, wrong } = accuracy(lines, truth);
    expect(share, wrong).toBe(1);
  });

  it('finds none when the header has none, however the text names levels', () => {
    expect(withWords.length).toBeGreaterThan(500);
    const lines = Array.from({ length: 3000 }, () => `${header().join(' ')} ${pick(withWords)}`);
    const { share, wrong } = accuracy(lines, lines.map(() => undefined));
    expect(share, wrong).toBe(1);
  });

  it('reads the BGL header, whose level is its ninth token', () => {
    const bgl = '- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL';
    expect(guessLevel(`${bgl} FATAL data TLB error interrupt`)?.level).toBe('fatal');
    expect(guessLevel(`${bgl} INFO instruction cache parity error corrected`)?.level).toBe('info');
  });
});

describe('guessLevel on single lines', () => {
  it.each([
    ['E0102 12:00:00.000000 1 main.go:1] boom', 'error'],
    ['2026-11-22 ERROR: disk', 'error'],
    ['[warn] low memory', 'warn'],
    ['2024-01-05 12:00:00,123 - app.db - WARNING - pool exhausted', 'warn'],
    ['ts=2024-01-05T12:00:00Z caller=main.go:12 msg="connection error, retrying" level=warn', 'warn'],
    ['2024-01-05T12:00:00.000Z\tinfo\tserver/main.go:12\tlistening', 'info'],
    ['INFO[0000] starting up', 'info'],
    ['WARNING:root:disk almost full', 'warn'],
    ['D/WindowManager( 1702): relayout', 'debug'],
    ['3:04PM FTL cannot open store', 'fatal'],
    ['Jun 14 15:16:01 node kubelet[123]: E0614 15:16:01.123456 123 pod_workers.go:190] Error syncing pod', 'error'],
    ['2024/01/05 12:00:00 [error] 123#0: *1 open() failed', 'error'],
  ])('%s', (line, level) => {
    expect(guessLevel(line)?.level).toBe(level);
  });

  it.each([
    'the error rate is fine',
    'info about nothing',
    '2024-01-05 12:00:00 worker 3 exited with error code 3',
    '2024-01-05 12:00:00 host app[1]: Connection error while reading',
    '2024-01-05 12:00:00 host app[1]: Connection error: reset by peer',
    'Jun 14 15:16:01 combo kernel: CPU: L1 I cache: 16K, L1 D cache: 16K',
    '12:00:00 I/O error on /dev/sda',
    '12:00:00 upload of file (A) failed',
    'Follower sid: 3 : info : org.apache.zookeeper.server.quorum.QuorumPeer$QuorumServer@33557fe4',
    '',
  ])('no marker: %s', (line) => {
    expect(guessLevel(line)).toBeUndefined();
  });

  it('looks no further than the header of a long line', () => {
    expect(guessLevel(`2024-01-05 12:00:00 ${'x'.repeat(5000)} ERROR`)).toBeUndefined();
    expect(guessLevel(`${'1 '.repeat(100)}ERROR`)).toBeUndefined();
  });
});

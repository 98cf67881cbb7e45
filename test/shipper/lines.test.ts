// The line splitter against a plain reference, on random input fed in
// random chunks: whole runs of lines take a fast path (one decode, one
// split), so chunk boundaries, invalid UTF-8, CRLF, multi-byte characters
// and over-long lines must come out exactly as line-by-line splitting does.
import { describe, expect, it } from 'vitest';
import { type Line, LineSplitter } from '../../src/shipper/lines.js';

function reference(input: Buffer, max: number): Line[] {
  const out: Line[] = [];
  let start = 0;
  while (start < input.length) {
    let nl = input.indexOf(0x0a, start);
    const complete = nl !== -1;
    if (!complete) nl = input.length;
    const raw = input.subarray(start, nl);
    const truncated = raw.length > max;
    let buf = truncated ? raw.subarray(0, max) : raw;
    if (buf.length > 0 && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, buf.length - 1);
    let text: string;
    let invalidUtf8 = false;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
    } catch {
      text = new TextDecoder().decode(buf);
      invalidUtf8 = true;
    }
    out.push({ text, truncated, invalidUtf8, joined: false, bytes: raw.length + (complete ? 1 : 0) });
    start = nl + 1;
  }
  return out;
}

// A small deterministic generator (no Math.random: a failure must replay).
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

const PIECES = ['plain words ', 'ünïcødé ', '日本語 ', '🙂', '\r', '{"level":30,"msg":"x"}', 'E0102 boom ', '\t  at f (x.js:1)'];

function input(r: (n: number) => number): Buffer {
  const parts: Buffer[] = [];
  const lines = 1 + r(40);
  for (let i = 0; i < lines; i++) {
    const kind = r(10);
    if (kind === 0) parts.push(Buffer.from([0xff, 0xfe, 0x41, 0xc3])); // invalid UTF-8
    else if (kind === 1) parts.push(Buffer.from('y'.repeat(50 + r(200)))); // may pass the limit
    else for (let j = r(6); j >= 0; j--) parts.push(Buffer.from(PIECES[r(PIECES.length)]!));
    if (r(8) > 0 || i < lines - 1) parts.push(Buffer.from(r(5) === 0 ? '\r\n' : '\n'));
  }
  return Buffer.concat(parts);
}

describe('LineSplitter', () => {
  it('gives the same lines as splitting line by line, for any chunking', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(seed);
      const data = input(r);
      const max = 40 + r(160);
      const s = new LineSplitter(max);
      const got: Line[] = [];
      for (let at = 0; at < data.length; ) {
        const size = r(4) === 0 ? 1 + r(3) : 1 + r(data.length);
        got.push(...s.push(data.subarray(at, at + size)));
        at += size;
      }
      got.push(...s.end());
      expect(got, `seed ${seed}`).toEqual(reference(data, max));
    }
  });

  it('counts the bytes of every line so file offsets add up', () => {
    const data = Buffer.from('a\r\nünï\n\nlast');
    const s = new LineSplitter(1000);
    const lines = [...s.push(data), ...s.end()];
    expect(lines.map((l) => l.text)).toEqual(['a', 'ünï', '', 'last']);
    expect(lines.reduce((n, l) => n + l.bytes, 0)).toBe(data.length);
  });
});

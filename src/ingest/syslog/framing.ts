// RFC 6587 framing of a syslog byte stream (TCP, TLS), detected per frame:
// `LEN SP <…` is octet counting, anything else is one message per LF.
//
// Bound: the framer holds at most `maxFrameBytes` (+ a few header bytes) of
// one frame. A longer frame is cut: its first `maxFrameBytes` bytes come out
// as a frame marked `truncated` (with the declared length when the frame was
// octet-counted) and the rest of it is skipped, so the stream stays in step.

export interface Frame {
  readonly data: Buffer;
  /** Set when the frame was cut at the limit: its length, when known (0 = unknown). */
  readonly truncated?: number;
  /** Why the framing of this frame looks wrong (it is still stored). */
  readonly error?: string;
}

const LF = 10;
const CR = 13;
const NUL = 0;
const SP = 32;
const LT = 60;
const MAX_LEN_DIGITS = 10;

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 48 && c <= 57;
}

/**
 * Where, inside an octet-counted frame, the next frame seems to start
 * (`\nLEN <`): a declared length that is too long swallowed it. -1 if none.
 */
function embeddedFrame(frame: Buffer): number {
  let i = frame.indexOf(LF);
  while (i >= 0 && i < frame.length - 1) {
    let j = i + 1;
    while (j < frame.length && j - i <= MAX_LEN_DIGITS && isDigit(frame[j])) j++;
    if (j > i + 1 && frame[j] === SP && frame[j + 1] === LT) return i + 1;
    i = frame.indexOf(LF, i + 1);
  }
  return -1;
}

export class SyslogFramer {
  readonly #max: number;
  #buf: Buffer = Buffer.alloc(0);
  /** Bytes of an oversized octet-counted frame still to skip. */
  #skip = 0;
  /** Skipping the rest of an oversized LF-framed line. */
  #skipLine = false;

  constructor(maxFrameBytes: number) {
    this.#max = maxFrameBytes;
  }

  /** Bytes held while waiting for the rest of a frame. */
  get pending(): number {
    return this.#buf.length;
  }

  /** Takes the next chunk of the stream; returns the frames it completed. */
  push(chunk: Buffer): Frame[] {
    const b = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: Frame[] = [];
    const i = this.#frames(b, out);
    // Copy the (small) leftover so a big chunk is not kept alive by it.
    this.#buf = i >= b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(i));
    return out;
  }

  /** The stream ended: what is left is the last frame, even without its LF. */
  end(): Frame[] {
    const b = this.#buf;
    this.#buf = Buffer.alloc(0);
    if (this.#skip > 0 || this.#skipLine || b.length === 0) return [];
    let start = 0;
    while (start < b.length && (b[start] === LF || b[start] === CR || b[start] === NUL)) start++;
    if (start >= b.length) return [];
    const m = /^(\d{1,10}) </.exec(b.subarray(start, start + 12).toString('latin1'));
    if (m) {
      const body = b.subarray(start + m[1]!.length + 1);
      return [{ data: body, error: `the stream ended inside an octet-counted frame: ${body.length} of ${m[1]} bytes` }];
    }
    return [{ data: b.subarray(start) }];
  }

  #frames(b: Buffer, out: Frame[]): number {
    let i = 0;
    while (i < b.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, b.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      if (this.#skipLine) {
        const j = b.indexOf(LF, i);
        if (j < 0) return b.length;
        this.#skipLine = false;
        i = j + 1;
        continue;
      }
      const c = b[i];
      if (c === LF || c === CR || c === NUL) {
        i++;
        continue;
      }
      if (isDigit(c)) {
        let j = i;
        while (j < b.length && j - i < MAX_LEN_DIGITS && isDigit(b[j])) j++;
        // Not enough bytes yet to tell octet counting from a line that
        // starts with digits: wait for more.
        if (j + 1 >= b.length && (j === b.length || b[j] === SP)) return i;
        if (b[j] === SP && b[j + 1] === LT) {
          const len = Number(b.toString('latin1', i, j));
          const start = j + 1;
          if (len > this.#max) {
            if (b.length - start < this.#max) return i;
            out.push({ data: b.subarray(start, start + this.#max), truncated: len });
            this.#skip = len - this.#max;
            i = start + this.#max;
            continue;
          }
          if (b.length - start < len) return i;
          const frame = b.subarray(start, start + len);
          const k = embeddedFrame(frame);
          if (k >= 0) {
            out.push({ data: frame.subarray(0, k), error: `the octet count ${len} runs past the end of the message into the next frame` });
            i = start + k;
            continue;
          }
          out.push({ data: frame });
          i = start + len;
          continue;
        }
      }
      const j = b.indexOf(LF, i);
      if (j < 0) {
        if (b.length - i <= this.#max) return i;
        out.push({ data: b.subarray(i, i + this.#max), truncated: 0 });
        this.#skipLine = true;
        return b.length;
      }
      if (j - i > this.#max) {
        out.push({ data: b.subarray(i, i + this.#max), truncated: j - i });
      } else {
        out.push({ data: b.subarray(i, b[j - 1] === CR ? j - 1 : j) });
      }
      i = j + 1;
    }
    return i;
  }
}

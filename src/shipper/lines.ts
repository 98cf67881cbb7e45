// Splits a byte stream into lines. Bounded: a line longer than `maxBytes` is
// cut there and marked, the rest of it is skipped; invalid UTF-8 becomes
// U+FFFD (the decoder's replacement) and is marked, so binary garbage ships
// safely instead of crashing anything.
export interface Line {
  text: string;
  truncated: boolean;
  invalidUtf8: boolean;
  /** Several lines joined into one record (a stack trace): holds newlines. */
  joined: boolean;
  /** Bytes of input this line took, its newline included. */
  bytes: number;
}

const decoder = new TextDecoder('utf-8', { fatal: false });
const strict = new TextDecoder('utf-8', { fatal: true });

function decode(buf: Buffer): { text: string; invalid: boolean } {
  try {
    return { text: strict.decode(buf), invalid: false };
  } catch {
    return { text: decoder.decode(buf), invalid: true };
  }
}

export class LineSplitter {
  #parts: Buffer[] = [];
  #size = 0;
  #skipping = false;
  #consumed = 0;

  constructor(private readonly maxBytes: number) {}

  /** Bytes held for a line not yet complete. */
  get pendingBytes(): number {
    return this.#consumed;
  }

  /** Feeds bytes; returns the complete lines in them. */
  push(chunk: Buffer): Line[] {
    const out: Line[] = [];
    let start = 0;
    // A line begun in an earlier chunk ends at this chunk's first newline.
    if (this.#size > 0 || this.#skipping || this.#consumed > 0) {
      const nl = chunk.indexOf(0x0a);
      if (nl === -1) return this.#rest(chunk, 0, out);
      this.#keep(chunk.subarray(0, nl));
      this.#consumed += nl + 1;
      out.push(this.#take());
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(0x0a);
    if (last >= start) {
      const region = chunk.subarray(start, last + 1);
      if (!this.#whole(region, out)) this.#oneByOne(region, out);
      start = last + 1;
    }
    return this.#rest(chunk, start, out);
  }

  #rest(chunk: Buffer, start: number, out: Line[]): Line[] {
    this.#keep(chunk.subarray(start));
    this.#consumed += chunk.length - start;
    return out;
  }

  /**
   * The fast path for a run of complete lines: one decode and one split
   * instead of a copy and a decode per line. Declines (returns false, having
   * added nothing) when the run is not valid UTF-8 or holds a line past the
   * limit; those go line by line.
   */
  #whole(region: Buffer, out: Line[]): boolean {
    let text: string;
    try {
      text = strict.decode(region);
    } catch {
      return false;
    }
    const ascii = text.length === region.length;
    const parts = text.split('\n');
    parts.pop(); // after the run's last newline
    const lines: Line[] = new Array<Line>(parts.length);
    for (let i = 0; i < parts.length; i++) {
      let t = parts[i]!;
      const bytes = (ascii ? t.length : Buffer.byteLength(t)) + 1;
      if (bytes - 1 > this.maxBytes) return false;
      if (t.charCodeAt(t.length - 1) === 0x0d) t = t.slice(0, -1);
      lines[i] = { text: t, truncated: false, invalidUtf8: false, joined: false, bytes };
    }
    for (const l of lines) out.push(l);
    return true;
  }

  #oneByOne(region: Buffer, out: Line[]): void {
    let start = 0;
    for (;;) {
      const nl = region.indexOf(0x0a, start);
      if (nl === -1) return;
      this.#keep(region.subarray(start, nl));
      this.#consumed += nl - start + 1;
      out.push(this.#take());
      start = nl + 1;
    }
  }

  /** The unterminated last line, at EOF. */
  end(): Line[] {
    return this.#size > 0 || this.#skipping ? [this.#take()] : [];
  }

  #keep(part: Buffer): void {
    if (this.#skipping || part.length === 0) return;
    const room = this.maxBytes - this.#size;
    if (part.length > room) {
      this.#parts.push(Buffer.from(part.subarray(0, room)));
      this.#size += room;
      this.#skipping = true;
      return;
    }
    // Copy: the chunk's buffer is reused by the stream.
    this.#parts.push(Buffer.from(part));
    this.#size += part.length;
  }

  #take(): Line {
    let buf = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#size);
    if (buf.length > 0 && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, buf.length - 1);
    const truncated = this.#skipping;
    const bytes = this.#consumed;
    this.#parts = [];
    this.#size = 0;
    this.#skipping = false;
    this.#consumed = 0;
    const { text, invalid } = decode(buf);
    return { text, truncated, invalidUtf8: invalid, joined: false, bytes };
  }
}

// Continuation lines of a multi-line record: indented lines and the
// `at …` / `Caused by` / `... N more` lines of stack traces.
const CONTINUATION = /^(?:[ \t]+\S|at |Caused by|\.\.\. \d+ more|Traceback|\s*File ")/;

/**
 * Joins multi-line records (stack traces) into one. A record ends when a
 * line that does not continue it arrives, or after `maxWaitMs` of quiet (the
 * caller calls `flush`), or when it grows past `maxLines`.
 */
export class MultilineJoiner {
  #pending: Line | undefined;
  #lines = 0;

  constructor(
    private readonly start: RegExp | undefined,
    private readonly maxLines = 500,
    private readonly maxBytes = 1024 * 1024,
  ) {}

  /** Whether `line` continues the record in progress. */
  #continues(line: Line): boolean {
    if (this.start) return !this.start.test(line.text);
    return CONTINUATION.test(line.text);
  }

  /** Takes a line; returns the record it completed, if any (at most one: no array per line). */
  push(line: Line): Line | undefined {
    if (this.#pending && this.#continues(line) && this.#lines < this.maxLines && this.#pending.text.length + line.text.length < this.maxBytes) {
      this.#pending = {
        text: this.#pending.text + '\n' + line.text,
        truncated: this.#pending.truncated || line.truncated,
        invalidUtf8: this.#pending.invalidUtf8 || line.invalidUtf8,
        joined: true,
        bytes: this.#pending.bytes + line.bytes,
      };
      this.#lines++;
      return undefined;
    }
    const done = this.#pending;
    this.#pending = line;
    this.#lines = 1;
    return done;
  }

  /** The record in progress, ended now (quiet period or EOF). */
  flush(): Line | undefined {
    const p = this.#pending;
    this.#pending = undefined;
    this.#lines = 0;
    return p;
  }

  get holding(): boolean {
    return this.#pending !== undefined;
  }

  /** Input bytes of the record being held. */
  get heldBytes(): number {
    return this.#pending?.bytes ?? 0;
  }
}

// LogQL's logfmt parser, lenient as Loki's (go-logfmt's decoder): pairs
// split by spaces or tabs, `key=value`, `key="quoted \"value\""`, a bare
// `key` (an empty value), and what is neither skipped — or, with --strict,
// the first such token ends the line's parsing with an error. (Ingest's
// parser, src/ingest/logfmt.ts, is strict on purpose: it decides whether a
// line is logfmt at all.)

export interface LogfmtResult {
  readonly fields: Array<[key: string, value: string]>;
  /** The first token that is not logfmt, when there is one. */
  readonly error: string | undefined;
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t';

export function parseLogfmtLenient(line: string, strict: boolean): LogfmtResult {
  const fields: Array<[string, string]> = [];
  const n = line.length;
  let i = 0;
  const skipToken = (): void => {
    // A quoted run is one token, spaces and all.
    if (line[i] === '"') {
      i++;
      while (i < n && line[i] !== '"') i += line[i] === '\\' ? 2 : 1;
      i++;
    }
    while (i < n && !isSpace(line[i])) i++;
  };
  while (i < n) {
    while (isSpace(line[i])) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && line[i] !== '=' && !isSpace(line[i]) && line[i] !== '"') i++;
    const key = line.slice(start, i);
    if (key === '' || line[i] === '"') {
      const bad = `unexpected ${JSON.stringify(line[i] ?? '')} at ${i}`;
      if (strict) return { fields, error: bad };
      i = start;
      skipToken();
      continue;
    }
    if (line[i] !== '=') {
      fields.push([key, '']);
      continue;
    }
    i++;
    if (line[i] !== '"') {
      const v = i;
      while (i < n && !isSpace(line[i])) i++;
      fields.push([key, line.slice(v, i)]);
      continue;
    }
    i++;
    let value = '';
    let closed = false;
    while (i < n) {
      const c = line[i]!;
      if (c === '\\' && i + 1 < n) {
        const e = line[i + 1]!;
        value += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
        i += 2;
        continue;
      }
      i++;
      if (c === '"') {
        closed = true;
        break;
      }
      value += c;
    }
    if (!closed && strict) return { fields, error: `an unterminated quote in the value of ${key}` };
    fields.push([key, value]);
  }
  return { fields, error: undefined };
}

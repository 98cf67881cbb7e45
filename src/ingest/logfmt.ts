// logfmt (key=value key2="quoted value" flag) as written by logrus, go-kit,
// Heroku's router and many others.

/**
 * Parses a logfmt line; undefined when the line is not logfmt. A bare key
 * (`flag`) reads as `flag=true`, unless `bareKeys: false`: Loki's logfmt
 * parser drops keys without a value (Sluice's detected_fields follows it).
 */
export function parseLogfmt(line: string, opts: { bareKeys?: boolean; minPairs?: number } = {}): Record<string, string> | undefined {
  const bareKeys = opts.bareKeys ?? true;
  const minPairs = opts.minPairs ?? 2;
  // Most plain text has no '=' at all: it cannot hold a pair. Scanning it
  // word by word as bare keys was a third of decoding a Loki push of plain
  // lines (bench/syslog profile, #17).
  if (minPairs > 0 && line.indexOf('=') === -1) return undefined;
  const out: Record<string, string> = {};
  let i = 0;
  let pairs = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && line.charCodeAt(i) === SPACE) i++;
    if (i >= n) break;
    const keyStart = i;
    let c = line.charCodeAt(i);
    while (i < n && c !== EQUALS && c !== SPACE && c !== QUOTE) c = line.charCodeAt(++i);
    const key = line.slice(keyStart, i);
    if (key.length === 0) return undefined;
    if (i >= n || c !== EQUALS) {
      if (i < n && c === QUOTE) return undefined;
      if (bareKeys) out[key] = 'true';
      continue;
    }
    i++; // '='
    let value = '';
    if (line.charCodeAt(i) === QUOTE) {
      i++;
      let closed = false;
      // Runs between escapes are sliced whole, not added a character at a time.
      let run = i;
      while (i < n) {
        const q = line.charCodeAt(i);
        if (q === BACKSLASH && i + 1 < n) {
          const next = line[i + 1]!;
          value += line.slice(run, i) + (next === 'n' ? '\n' : next === 't' ? '\t' : next);
          i += 2;
          run = i;
          continue;
        }
        if (q === QUOTE) {
          value += line.slice(run, i);
          closed = true;
          i++;
          break;
        }
        i++;
      }
      if (!closed || (i < n && line.charCodeAt(i) !== SPACE)) return undefined;
    } else {
      const start = i;
      while (i < n && line.charCodeAt(i) !== SPACE) i++;
      value = line.slice(start, i);
      if (value.includes('"')) return undefined;
    }
    out[key] = value;
    pairs++;
  }
  // One stray `a=b` inside a sentence is not logfmt: ingest asks for two
  // real pairs; LogQL's parser, asked for by the user, for one.
  return pairs >= minPairs ? out : undefined;
}

const SPACE = 32;
const EQUALS = 61;
const QUOTE = 34;
const BACKSLASH = 92;

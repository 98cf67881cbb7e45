// logfmt (key=value key2="quoted value" flag) as written by logrus, go-kit,
// Heroku's router and many others.

/**
 * Parses a logfmt line; undefined when the line is not logfmt. A bare key
 * (`flag`) reads as `flag=true`, unless `bareKeys: false`: Loki's logfmt
 * parser drops keys without a value (Sluice's detected_fields follows it).
 */
export function parseLogfmt(line: string, opts: { bareKeys?: boolean; minPairs?: number } = {}): Record<string, string> | undefined {
  const bareKeys = opts.bareKeys ?? true;
  const out: Record<string, string> = {};
  let i = 0;
  let pairs = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && line[i] === ' ') i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n && line[i] !== '=' && line[i] !== ' ' && line[i] !== '"') i++;
    const key = line.slice(keyStart, i);
    if (key.length === 0) return undefined;
    if (line[i] !== '=') {
      if (line[i] === '"') return undefined;
      if (bareKeys) out[key] = 'true';
      continue;
    }
    i++; // '='
    let value = '';
    if (line[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = line[i]!;
        if (c === '\\' && i + 1 < n) {
          const next = line[i + 1]!;
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
          i += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        value += c;
        i++;
      }
      if (!closed || (i < n && line[i] !== ' ')) return undefined;
    } else {
      const start = i;
      while (i < n && line[i] !== ' ') i++;
      value = line.slice(start, i);
      if (value.includes('"')) return undefined;
    }
    out[key] = value;
    pairs++;
  }
  // One stray `a=b` inside a sentence is not logfmt: ingest asks for two
  // real pairs; LogQL's parser, asked for by the user, for one.
  return pairs >= (opts.minPairs ?? 2) ? out : undefined;
}

// Loki stream labels in protobuf pushes come as Prometheus selector text:
// {app="demo", level="info"}. Values are Go-quoted ("…", '…' or `…`).

const NAME = /[A-Za-z_][A-Za-z0-9_.]*/y;
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", '`': '`', '0': '\0' };

/** The label set of a selector, or an error message. */
export function parseLabels(s: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  let i = 0;
  const skip = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n')) i++;
  };
  skip();
  if (s[i] !== '{') return 'labels must start with {';
  i++;
  skip();
  while (s[i] !== '}') {
    NAME.lastIndex = i;
    const m = NAME.exec(s);
    if (!m) return `a label name was expected at offset ${i}`;
    const name = m[0];
    i += name.length;
    skip();
    if (s[i] !== '=') return `= was expected after label ${name}`;
    i++;
    skip();
    const quote = s[i];
    if (quote !== '"' && quote !== "'" && quote !== '`') return `the value of label ${name} must be quoted`;
    i++;
    let value = '';
    for (;;) {
      if (i >= s.length) return `the value of label ${name} is not closed`;
      const c = s[i]!;
      if (c === quote) break;
      if (c === '\\' && quote !== '`') {
        const e = ESCAPES[s[i + 1] ?? ''];
        if (e === undefined) return `unknown escape in the value of label ${name}`;
        value += e;
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++;
    out[name] = value;
    skip();
    if (s[i] === ',') {
      i++;
      skip();
    } else if (s[i] !== '}') return `, or } was expected after label ${name}`;
  }
  i++;
  skip();
  if (i !== s.length) return 'text after the closing }';
  return out;
}

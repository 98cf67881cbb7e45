// The loghub samples in ../shared/datasets/loghub: each system's raw lines
// and its hand-parsed CSV (content, level, event id and template).
import { readFileSync } from 'node:fs';

const DATA = new URL('../../../shared/datasets/loghub/', import.meta.url);

export const LOGHUB_SYSTEMS = ['Android', 'Apache', 'HDFS', 'HealthApp', 'Linux', 'OpenSSH', 'Spark', 'Zookeeper'] as const;

/** RFC 4180: quoted fields may hold commas, doubled quotes and newlines. */
function parseCsv(text: string): Array<Record<string, string>> {
  const rows: string[][] = [];
  let row: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cur);
      cur = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cur);
      rows.push(row);
      row = [];
      cur = '';
    } else cur += c;
  }
  if (cur !== '' || row.length > 0) rows.push([...row, cur]);
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])));
}

export function dataset(name: string): { lines: string[]; rows: Array<Record<string, string>> } {
  const lines = readFileSync(new URL(`${name}/${name}_2k.log`, DATA), 'utf8').split('\n').filter((l) => l.length > 0);
  const rows = parseCsv(readFileSync(new URL(`${name}/${name}_2k.log_structured.csv`, DATA), 'utf8'));
  return { lines, rows };
}


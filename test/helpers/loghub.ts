// The loghub samples in ../shared/datasets/loghub: each system's raw lines
// and its hand-parsed CSV (content, level, event id and template).
import { readFileSync } from 'node:fs';
import { parseCsv } from '../../bench/lib/csv.mjs';

const DATA = new URL('../../../shared/datasets/loghub/', import.meta.url);

export const LOGHUB_SYSTEMS = ['Android', 'Apache', 'HDFS', 'HealthApp', 'Linux', 'OpenSSH', 'Spark', 'Zookeeper'] as const;

export function dataset(name: string): { lines: string[]; rows: Array<Record<string, string>> } {
  const lines = readFileSync(new URL(`${name}/${name}_2k.log`, DATA), 'utf8').split('\n').filter((l) => l.length > 0);
  const rows = parseCsv(readFileSync(new URL(`${name}/${name}_2k.log_structured.csv`, DATA), 'utf8'));
  return { lines, rows };
}


// Level detection on plain lines, checked against the hand-labelled levels
// of real logs in ../shared/datasets/loghub.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { guessLevel } from '../../src/model/level-guess.js';

const DATA = new URL('../../../shared/datasets/loghub/', import.meta.url);

// The datasets' labels in our canonical levels.
const CANON: Record<string, string> = {
  V: 'trace', D: 'debug', I: 'info', W: 'warn', E: 'error', F: 'fatal',
  INFO: 'info', WARN: 'warn', ERROR: 'error', notice: 'info', error: 'error',
};

function csvFields(row: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < row.length; i++) {
    const c = row[i]!;
    if (quoted) {
      if (c === '"' && row[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function csvLevels(name: string): string[] {
  const text = readFileSync(new URL(`${name}/${name}_2k.log_structured.csv`, DATA), 'utf8');
  const [header, ...rows] = text.trim().split('\n');
  const col = header!.split(',').indexOf('Level');
  return rows.map((r) => csvFields(r)[col]!);
}

describe('guessLevel against hand-labelled logs', () => {
  it.each(['Android', 'Apache', 'HDFS', 'Spark', 'Zookeeper'])('%s', (name) => {
    const lines = readFileSync(new URL(`${name}/${name}_2k.log`, DATA), 'utf8').split('\n').filter((l) => l.length > 0);
    const labels = csvLevels(name);
    expect(lines.length).toBe(labels.length);
    let right = 0;
    const wrong: string[] = [];
    lines.forEach((line, i) => {
      const got = guessLevel(line)?.level;
      if (got === CANON[labels[i]!]) right++;
      else if (wrong.length < 3) wrong.push(`${labels[i]} -> ${got}: ${line.slice(0, 100)}`);
    });
    expect(right / lines.length, wrong.join('\n')).toBeGreaterThanOrEqual(0.99);
  });

  it.each([
    ['E0102 12:00:00.000000 1 main.go:1] boom', 'error'],
    ['2026-11-22 ERROR: disk', 'error'],
    ['[warn] low memory', 'warn'],
    ['the error rate is fine', undefined],
    ['info about nothing', undefined],
  ])('%s', (line, level) => {
    expect(guessLevel(line)?.level).toBe(level);
  });
});

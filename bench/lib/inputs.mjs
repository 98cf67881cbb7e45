// What the benchmarks generate their inputs from: a seeded PRNG, so a run's
// inputs are the same every time (and in its baseline child), and the
// loghub sample logs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from './csv.mjs';

export const LOGHUB = '/work/shared/datasets/loghub';

/** mulberry32: a small seeded PRNG. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Each loghub system's `<name>_2k.log` lines as they are (the files' `\r` kept), empty ones left out: [name, lines][]; none if the dataset is missing. */
export function loghubSystems() {
  if (!existsSync(LOGHUB)) return [];
  const systems = [];
  for (const name of readdirSync(LOGHUB).sort()) {
    const file = join(LOGHUB, name, `${name}_2k.log`);
    if (existsSync(file)) systems.push([name, readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0)]);
  }
  return systems;
}

/** All loghub lines, trailing white space trimmed, blank ones left out. */
export function loghubLines() {
  const lines = [];
  for (const [, raw] of loghubSystems()) {
    for (const line of raw) {
      const t = line.trimEnd();
      if (t.length > 0) lines.push(t);
    }
  }
  return lines;
}

/** A loghub system's hand-parsed `<name>_2k.log_structured.csv` as objects by column, with its raw lines. */
export function loghubStructured(name) {
  const rows = parseCsv(readFileSync(join(LOGHUB, name, `${name}_2k.log_structured.csv`), 'utf8'));
  const lines = readFileSync(join(LOGHUB, name, `${name}_2k.log`), 'utf8').split('\n').filter((l) => l.length > 0);
  return { rows, lines };
}

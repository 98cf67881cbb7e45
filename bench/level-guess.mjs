#!/usr/bin/env node
// bench/level-guess: ns per line of `guessLevel` (dist/model/level-guess.js)
// on the raw loghub lines of each system and on synthetic lines whose level
// sits behind a 9-13 token header, against two baselines measured in the
// same run on the same lines: a plain regex scan for an upper-case level
// word in the first 400 characters (what one would write instead, and wrong
// on `Connection ERROR`-style text), and `split(/\s+/, 9)` of the first 200
// characters (the tokenising the eight-token guess did before).
//
//   npm run build && node bench/level-guess.mjs          # writes docs/BENCHMARKS.md
//   BENCH_RUNS=3 BENCH_WRITE=0 node bench/level-guess.mjs   # quick look
//
// Settings (environment):
//   BENCH_RUNS     repetitions; medians are quoted                          7
//   BENCH_MS       time spent on each implementation and input per run      300
//   BENCH_WRITE    1 = regenerate the section in docs/BENCHMARKS.md         1
//   BENCH_COMPARE  path of another build of level-guess.js to time as well
//                  (e.g. an older commit's, compiled to a temp dir)         unset
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LOGHUB, dist, flag, intro, loghubSystems, machine, median, option, prng, stamp, table, writeSection } from './lib.mjs';

const RUNS = option('RUNS', 7);
const MS = option('MS', 300);
const WRITE = flag('WRITE', true);
const COMPARE = process.env.BENCH_COMPARE;

const { guessLevel } = await import(dist('model/level-guess.js'));
const compare = COMPARE ? (await import(pathToFileURL(resolve(COMPARE)).href)).guessLevel : undefined;

const REGEX = /\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|FATAL|CRITICAL)\b/;
const impls = [
  ['guessLevel', (line) => guessLevel(line)],
  ...(compare ? [['BENCH_COMPARE', (line) => compare(line)]] : []),
  ['regex scan', (line) => REGEX.exec(line.slice(0, 400))],
  ['split(/\\s+/, 9)', (line) => line.slice(0, 200).split(/\s+/, 9)],
];

function inputs() {
  const sets = loghubSystems();
  const all = sets.flatMap(([, lines]) => lines);
  if (all.length === 0) throw new Error(`no *_2k.log lines under ${LOGHUB}`);
  // BGL/Thunderbird-shaped headers in front of the loghub lines' tails.
  const rnd = prng(16);
  const n = (lo, hi) => lo + Math.floor(rnd() * (hi - lo));
  const levels = ['INFO', 'FATAL', 'WARNING', 'ERROR', 'SEVERE'];
  const long = all.slice(0, 4000).map((line) => {
    const node = `R${n(10, 99)}-M${n(0, 2)}-N${n(0, 9)}-C:J${n(10, 18)}-U${n(0, 11)}`;
    const head = ['-', String(n(1.1e9, 1.8e9)), `2005.06.${n(10, 28)}`, node, `2005-06-03-15.42.${n(10, 59)}.${n(1e5, 1e6)}`, node, 'RAS', 'KERNEL'];
    head.push(...['APP', 'dfs.DataNode$PacketResponder:', `[pool-1-thread-${n(1, 9)}]`, `0x${n(0, 1e6).toString(16)}`, '-'].slice(0, n(1, 6)));
    return `${head.join(' ')} ${levels[n(0, levels.length)]} ${line.split(' ').slice(6).join(' ')}`;
  });
  sets.push(['long headers (synthetic)', long]);
  sets.push(['all of the above', [...all, ...long]]);
  return sets;
}

/** ns per line of `fn` over `lines`, looping for about MS milliseconds. */
function time(fn, lines) {
  let sink = 0;
  let loops = 0;
  const start = process.hrtime.bigint();
  const stop = start + BigInt(MS) * 1_000_000n;
  let now = start;
  while (now < stop) {
    for (let i = 0; i < lines.length; i++) if (fn(lines[i]) !== undefined) sink++;
    loops++;
    now = process.hrtime.bigint();
  }
  if (sink < 0) console.log(sink);
  return Number(now - start) / (loops * lines.length);
}

function main() {
  const sets = inputs();
  const results = new Map(); // `${set}\0${impl}` -> ns per line, one a run
  for (const [, lines] of sets) for (const [, fn] of impls) time(fn, lines.slice(0, 500)); // warm up
  for (let run = 0; run < RUNS; run++) {
    for (const [set, lines] of sets) {
      // Alternate the order so drift within a run falls on every column.
      const order = run % 2 ? [...impls].reverse() : impls;
      for (const [name, fn] of order) {
        const key = `${set}\0${name}`;
        results.set(key, [...(results.get(key) ?? []), time(fn, lines)]);
      }
    }
    console.error(`[bench:level-guess] run ${run + 1}/${RUNS}`);
  }
  const ns = (set, name) => median(results.get(`${set}\0${name}`));
  const L = intro(
    '## Level guess: ns per plain-text line',
    `Measured ${stamp()} UTC: \`guessLevel\` on the raw lines of each loghub system (2,000 each) and on 4,000 synthetic lines with a BGL-style header of 9-13 tokens before the level, against a plain regex scan for an upper-case level word in the first 400 characters and against \`split(/\\s+/, 9)\` of the first 200 characters, in the same process; median of ${RUNS} runs of about ${MS} ms per cell. Reproduce with:`,
    [`npm run build && BENCH_RUNS=${RUNS} BENCH_MS=${MS} node bench/level-guess.mjs`],
    `**Machine:** ${machine()}. Shared and noisy.`,
  );
  L.push(
    ...table(
      ['lines', ...impls.map(([name]) => name), 'guessLevel / regex'],
      `l${'r'.repeat(impls.length)}r`,
      sets.map(([set]) => [set, ...impls.map(([name]) => `${ns(set, name).toFixed(0)} ns`), (ns(set, 'guessLevel') / ns(set, 'regex scan')).toFixed(2)]),
    ),
  );
  const section = L.join('\n');
  console.log(section);
  if (WRITE) writeSection('level-guess', 'bench/level-guess.mjs', section);
}

main();

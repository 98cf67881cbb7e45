// `sluice patterns [--since 1h] [QUERY]`: the loudest patterns of a range,
// as a table (or JSON), through the API.
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { callApi, serverTarget } from './client.js';

const USAGE = `usage: sluice patterns [--since 1h] [--until now] [--limit 20] [--json] [QUERY]
  the loudest message patterns of the events QUERY matches (the search language)
options: --url URL (or SLUICE_URL), --token READ_TOKEN (or SLUICE_TOKEN)`;

interface PatternOut {
  id: string;
  template: string;
  count: number;
  levels: Record<string, number>;
  counts: number[];
}

const BARS = '▁▂▃▄▅▆▇█';

/** A sparkline of counts per step, one character each. */
export function sparkline(counts: readonly number[]): string {
  const max = Math.max(0, ...counts);
  return counts.map((c) => (c === 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.floor((c / max) * (BARS.length - 1)))]!)).join('');
}

export async function patternsCommand(config: Config, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      since: { type: 'string', default: '1h' },
      until: { type: 'string' },
      limit: { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      url: { type: 'string' },
      token: { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const qs = new URLSearchParams({ from: values.since, limit: values.limit });
  if (values.until) qs.set('to', values.until);
  if (positionals.length > 0) qs.set('q', positionals.join(' '));
  const res = await callApi<{ total: number; unmined: number; step: string; patterns: PatternOut[] }>(serverTarget(config, values), 'GET', `/api/v1/patterns?${qs}`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(res)}\n`);
    return 0;
  }
  const width = String(Math.max(0, ...res.patterns.map((p) => p.count))).length;
  process.stdout.write(`${'COUNT'.padStart(width)}  ${'ID'.padEnd(16)}  ${'LEVELS'.padEnd(24)}  ${`PER ${res.step}`.padEnd(res.patterns[0]?.counts.length ?? 0)}  TEMPLATE\n`);
  for (const p of res.patterns) {
    const levels = Object.entries(p.levels).sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l}:${n}`).join(' ');
    process.stdout.write(`${String(p.count).padStart(width)}  ${p.id}  ${levels.padEnd(24)}  ${sparkline(p.counts)}  ${p.template}\n`);
  }
  process.stdout.write(`${res.total} events, ${res.patterns.length} patterns shown${res.unmined ? `, ${res.unmined} events without a pattern` : ''}\n`);
  return 0;
}

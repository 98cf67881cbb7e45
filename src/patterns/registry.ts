// Pattern ids to templates, for the `pattern:<id>` search term. An id is a
// hash of its template (./miner.ts), so it cannot be read back: every
// template a process lists is kept here and in the store's `patterns`
// table, and a query naming an id this process has not seen loads the
// table first (`knowPatternsOf`). Templates are short and their number is
// bounded by what users list; the map holds at most MAX_KNOWN, oldest
// dropped first (still in the store, so loaded again when named).
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import { formatClickHouse } from '../model/time.js';
import { WILDCARD } from './mask.js';
import { escapeRegex } from './miner.js';

const MAX_KNOWN = 100_000;
const known = new Map<string, string>();

/** The template of a pattern id this process knows, or undefined. */
export function templateOf(id: string): string | undefined {
  return known.get(id);
}

function keep(id: string, template: string): boolean {
  if (known.get(id) === template) return false;
  if (known.size >= MAX_KNOWN) known.delete(known.keys().next().value!);
  known.set(id, template);
  return true;
}

/** Keeps listed patterns, writing the ones new to this process to the store (in the background: a failed write is forgotten here, so the next listing writes it again). */
export function rememberTemplates(ctx: AppContext, patterns: ReadonlyArray<{ id: string; template: string }>, log?: FastifyBaseLogger): void {
  const fresh = patterns.filter((p) => keep(p.id, p.template));
  if (fresh.length === 0) return;
  const seenAt = formatClickHouse(ctx.clock.nowNs()).slice(0, 23);
  const body = Buffer.from(fresh.map((p) => JSON.stringify({ id: p.id, template: p.template, seen_at: seenAt })).join('\n') + '\n');
  ctx.store.insertRows('patterns', body, undefined, 'control').catch((e: unknown) => {
    for (const p of fresh) known.delete(p.id);
    log?.warn({ err: e }, 'could not record pattern templates; they are looked up again when named');
  });
}

const PATTERN_TERM = /\bpattern:"?([0-9a-f]{16})\b/g;

/** Makes sure the pattern ids a query names are known, loading them from the store if not. */
export async function knowPatternsOf(ctx: AppContext, q: string | undefined): Promise<void> {
  if (!q || !q.includes('pattern:')) return;
  const missing = [...q.matchAll(PATTERN_TERM)].map((m) => m[1]!).filter((id) => !known.has(id));
  if (missing.length === 0) return;
  const rs = await ctx.store.query.query({
    query: 'SELECT id, argMax(template, seen_at) AS template FROM patterns WHERE id IN {ids:Array(String)} GROUP BY id',
    query_params: { ids: missing },
    format: 'JSONEachRow',
  });
  for (const r of await rs.json<{ id: string; template: string }>()) keep(r.id, r.template);
}

/**
 * A regex (RE2 and JavaScript alike) for the messages a template covers:
 * its tokens in order, separated by white space, each `<*>` standing for a
 * run of non-space characters (a whole token: at least one).
 */
export function templateRegex(template: string): string {
  const tokens = template.split(' ').filter((t) => t !== '');
  const body = tokens.map((t) => (t === WILDCARD ? '\\S+' : t.split(WILDCARD).map(escapeRegex).join('\\S*'))).join('\\s+');
  return `^\\s*${body}\\s*$`;
}

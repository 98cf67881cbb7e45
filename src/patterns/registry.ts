// Pattern ids to templates, for the `pattern:<id>` search term. An id is a
// hash of its template (./miner.ts), so it cannot be read back: every
// template a process lists is kept here and in the store's `patterns`
// table, and a query naming an id this process has not seen loads the
// table first (`knowPatternsOf`). The map holds at most MAX_KNOWN_CHARS of
// templates, oldest dropped first (they are in the store, and loaded again
// when named). A template whose write failed stays known here and is
// written again with the next listing.
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import { formatClickHouse } from '../model/time.js';
import { SPACE, WILDCARD } from './mask.js';
import { tokenFits } from './miner.js';

const MAX_KNOWN_CHARS = 32 * 1024 * 1024;
const known = new Map<string, string>();
let knownChars = 0;
// Known here, not yet in the store (a write failed or is under way).
const unwritten = new Set<string>();

/** The template of a pattern id this process knows, or undefined. */
export function templateOf(id: string): string | undefined {
  return known.get(id);
}

function keep(id: string, template: string): boolean {
  if (known.get(id) === template) return false;
  known.set(id, template);
  knownChars += template.length;
  while (knownChars > MAX_KNOWN_CHARS && known.size > 1) {
    const [oldId, oldTemplate] = known.entries().next().value!;
    if (unwritten.has(oldId)) break;
    known.delete(oldId);
    knownChars -= oldTemplate.length;
  }
  return true;
}

/** Keeps listed patterns and writes the ones the store may lack (in the background; what fails is written with the next listing). */
export function rememberTemplates(ctx: AppContext, patterns: ReadonlyArray<{ id: string; template: string }>, log?: FastifyBaseLogger): void {
  for (const p of patterns) if (keep(p.id, p.template)) unwritten.add(p.id);
  const batch = [...unwritten].flatMap((id) => {
    const template = known.get(id);
    return template === undefined ? [] : [{ id, template }];
  });
  if (batch.length === 0) return;
  for (const p of batch) unwritten.delete(p.id);
  const seenAt = formatClickHouse(ctx.clock.nowNs()).slice(0, 23);
  const body = Buffer.from(batch.map((p) => JSON.stringify({ id: p.id, template: p.template, seen_at: seenAt })).join('\n') + '\n');
  ctx.store.insertRows('patterns', body, undefined, 'control').catch((e: unknown) => {
    for (const p of batch) unwritten.add(p.id);
    log?.warn({ err: e }, 'could not record pattern templates; they are written again with the next listing');
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

/** The same test as templateRegex in JavaScript, token by token and linear (a regex of `\S*`s backtracks). */
export function templateMatcher(template: string): (message: string) => boolean {
  const want = template.split(' ').filter((t) => t !== '');
  return (message) => {
    const got = message.split(SPACE).filter((t) => t !== '');
    if (got.length !== want.length) return false;
    for (let i = 0; i < want.length; i++) {
      const w = want[i]!;
      if (w === WILDCARD ? got[i] === '' : !tokenFits(w, got[i]!)) return false;
    }
    return true;
  };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A regex (RE2; the store's) for the messages a template covers:
 * its tokens in order, separated by white space, each `<*>` standing for a
 * run of non-space characters (a whole token: at least one).
 */
export function templateRegex(template: string): string {
  const tokens = template.split(' ').filter((t) => t !== '');
  const body = tokens.map((t) => (t === WILDCARD ? '\\S+' : t.split(WILDCARD).map(escapeRegex).join('\\S*'))).join('\\s+');
  return `^\\s*${body}\\s*$`;
}

// Online pattern mining over masked tokens (./mask.ts): lines of one shape
// share a template, `Invalid user <*> from <*>`.
//
// Like Drain, messages are kept apart by token count and first token, and
// a line joins a template that takes it as it is. Unlike Drain, two lines
// that differ in a plain word are not merged because most of their other
// words agree: `updateClipping isOverlap:false` and `…:true`, `cupsd
// startup succeeded` and `… shutdown …`, `Failed password for …` and
// `Failed none for …` are different events, and Drain's similarity
// threshold is what makes it merge them (its worst systems on Loghub).
// Here a position becomes a variable only when it has taken `distinctValues`
// different words (4 by default) among templates that agree everywhere else
// (user names, hosts, app names do; `true`/`false`, `In`/`Out` do not), or
// when masking already made it one. A `<*>` may stand for an empty segment
// too, so `(<*>)` takes `()`.
//
// When a template gains a variable, the templates it now covers merge into
// it; their lines belong to it from then on (`resolve`). The cap on
// templates bounds memory: once it is reached, lines of a shape not yet known
// are counted in `overflow` and given no pattern.
import { createHash } from 'node:crypto';
import { WILDCARD, maskedTokens } from './mask.js';

export interface MinerOptions {
  /** Templates kept at most; lines of new shapes past it are counted in `overflow`. */
  maxTemplates?: number;
  /** Different words a position takes (everything else equal) before it is a variable. */
  distinctValues?: number;
  /** Share of positions that must agree for two templates to be compared at all. */
  similarity?: number;
}

export class Template {
  /** Set when this template merged into a more general one. */
  mergedInto: Template | undefined;
  count = 0;
  constructor(readonly tokens: string[]) {}

  /** The template this one ended up in. */
  resolve(): Template {
    return this.mergedInto ? this.mergedInto.resolve() : this;
  }

  get text(): string {
    return this.tokens.join(' ');
  }
}

/** A stable id for a template: the same shape has the same id in every process and after a restart. */
export function patternId(template: string): string {
  return createHash('sha256').update(template).digest('hex').slice(0, 16);
}

/**
 * Whether a template token takes a masked token: equal, or equal with each
 * `<*>` standing for any run (empty too). A glob with `*` only: the first
 * and last literal pieces are anchored, the ones between found left to
 * right, leftmost first — linear, where a regex of `.*`s backtracks
 * (`<*>=<*>=…=end` against a run of `=` took seconds).
 */
export function tokenFits(template: string, token: string): boolean {
  if (template === token || template === WILDCARD) return true;
  if (!template.includes(WILDCARD)) return false;
  return globFits(template.split(WILDCARD), token);
}

/** `pieces` are the literal parts between wildcards; a wildcard sits between each two. */
function globFits(pieces: readonly string[], s: string): boolean {
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  if (s.length < first.length + last.length || !s.startsWith(first) || !s.endsWith(last)) return false;
  let at = first.length;
  const end = s.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const found = s.indexOf(pieces[i]!, at);
    if (found < 0 || found + pieces[i]!.length > end) return false;
    at = found + pieces[i]!.length;
  }
  return true;
}


function fits(template: readonly string[], tokens: readonly string[]): boolean {
  for (let i = 0; i < tokens.length; i++) if (!tokenFits(template[i]!, tokens[i]!)) return false;
  return true;
}

export class PatternMiner {
  readonly #max: number;
  readonly #distinct: number;
  readonly #similarity: number;
  // Templates by token count and first token (`<*>` when that is variable).
  readonly #leaves = new Map<string, Template[]>();
  // Masked shape → the template it went to: most lines repeat a shape.
  readonly #shapes = new Map<string, Template>();
  #templates = 0;
  /** Lines of new shapes turned away because the cap was reached. */
  overflow = 0;

  constructor(options: MinerOptions = {}) {
    this.#max = options.maxTemplates ?? 10_000;
    this.#distinct = options.distinctValues ?? 4;
    this.#similarity = options.similarity ?? 0.5;
  }

  /** Adds a message `weight` times (a shape counted in the store); its template, or undefined past the cap. */
  add(message: string, weight = 1): Template | undefined {
    return this.addTokens(maskedTokens(message), weight);
  }

  addTokens(tokens: string[], weight = 1): Template | undefined {
    const shape = tokens.join(' ');
    const known = this.#shapes.get(shape);
    if (known) {
      const t = known.resolve();
      t.count += weight;
      return t;
    }
    const leaf = this.#leaf(tokens);
    for (const t of leaf) {
      if (fits(t.tokens, tokens)) {
        this.#remember(shape, t);
        t.count += weight;
        return t;
      }
    }
    if (this.#templates >= this.#max) {
      this.overflow += weight;
      return undefined;
    }
    const created = new Template(tokens.slice());
    created.count = weight;
    this.#templates++;
    this.#generalize(created, leaf);
    // A template with variables (from masking or from merging) takes in
    // the ones it covers.
    if (created.tokens.some((t) => t.includes(WILDCARD))) {
      for (const t of leaf.slice()) if (fits(created.tokens, t.tokens)) this.#merge(t, created, leaf);
    }
    leaf.push(created);
    this.#remember(shape, created);
    return created;
  }

  /** The live templates (not merged into another), loudest first. */
  templates(): Template[] {
    const out: Template[] = [];
    for (const leaf of this.#leaves.values()) out.push(...leaf);
    return out.sort((a, b) => b.count - a.count || (a.text < b.text ? -1 : 1));
  }

  #leaf(tokens: readonly string[]): Template[] {
    const first = tokens.find((t) => !t.includes(WILDCARD)) ?? WILDCARD;
    const key = `${tokens.length}\u0000${first}`;
    let leaf = this.#leaves.get(key);
    if (!leaf) this.#leaves.set(key, (leaf = []));
    return leaf;
  }

  #remember(shape: string, t: Template): void {
    // A cache: most lines repeat a shape; a flood of one-off shapes must
    // not grow it without bound.
    if (this.#shapes.size >= this.#max * 8) this.#shapes.clear();
    this.#shapes.set(shape, t);
  }

  /** Makes `created` a variable where enough templates that agree with it elsewhere differ, merging them in. */
  #generalize(created: Template, leaf: Template[]): void {
    const tokens = created.tokens;
    const tried = new Set<string>();
    for (const other of leaf) {
      const differ: number[] = [];
      for (let i = 0; i < tokens.length; i++) if (other.tokens[i] !== tokens[i]) differ.push(i);
      if (differ.length === 0 || 1 - differ.length / tokens.length < this.#similarity) continue;
      const key = differ.join(',');
      if (tried.has(key)) continue;
      tried.add(key);
      const at = new Set(differ);
      const siblings = leaf.filter((t) => t.tokens.every((tok, i) => at.has(i) || tokenFits(tok, tokens[i]!)));
      const values = new Set(siblings.map((t) => differ.map((i) => t.tokens[i]).join('\u0000')));
      if (values.size + 1 < this.#distinct) continue;
      for (const i of differ) tokens[i] = WILDCARD;
      for (const t of siblings) for (let i = 0; i < tokens.length; i++) if (!tokenFits(tokens[i]!, t.tokens[i]!)) tokens[i] = WILDCARD;
      for (const t of siblings) this.#merge(t, created, leaf);
      return;
    }
  }

  #merge(from: Template, into: Template, leaf: Template[]): void {
    from.mergedInto = into;
    into.count += from.count;
    leaf.splice(leaf.indexOf(from), 1);
    this.#templates--;
  }
}

/**
 * Mines shapes counted in the store (each weighted by its count) and hands
 * each template the items whose shapes ended in it: templates merge as
 * shapes arrive, so an item's template is known only after the last one.
 * Items past the miner's cap are in no group.
 */
export function mineShapes<T>(items: Iterable<T>, shapeOf: (item: T) => string, weightOf: (item: T) => number): Map<Template, T[]> {
  const miner = new PatternMiner();
  const assigned: Array<[Template, T]> = [];
  for (const item of items) {
    const t = miner.add(shapeOf(item), weightOf(item));
    if (t) assigned.push([t, item]);
  }
  const groups = new Map<Template, T[]>();
  for (const [t0, item] of assigned) {
    const t = t0.resolve();
    const list = groups.get(t);
    if (list) list.push(item);
    else groups.set(t, [item]);
  }
  return groups;
}

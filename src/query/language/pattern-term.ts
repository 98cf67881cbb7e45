// `pattern:<id>`: the events whose message fits a pattern's template (see
// src/patterns/). The id must be one listed by GET /api/v1/patterns (here or
// in another process: the API loads ids it has not seen before compiling).
import { templateMatcher, templateOf, templateRegex } from '../../patterns/registry.js';
import { type CompareOp, syntaxError } from './parse.js';

export const PATTERN_FIELD = 'pattern';

function templateFor(op: CompareOp, id: string, wildcard: boolean, pos: number): string {
  if (op !== '=' || wildcard) throw syntaxError('pattern takes one pattern id, as pattern:<id>', pos);
  const template = templateOf(id);
  if (template === undefined) throw syntaxError(`unknown pattern ${JSON.stringify(id)}: pattern ids come from GET /api/v1/patterns (sluice patterns)`, pos);
  return template;
}

/** The RE2 regex (for SQL) of a `pattern:` term's messages; a syntax error (400) for an unknown id. */
export function patternRegex(op: CompareOp, id: string, wildcard: boolean, pos: number): string {
  return templateRegex(templateFor(op, id, wildcard, pos));
}

/** The same as a predicate on messages, for the tail (linear: no regex). */
export function patternMatcher(op: CompareOp, id: string, wildcard: boolean, pos: number): (message: string) => boolean {
  return templateMatcher(templateFor(op, id, wildcard, pos));
}

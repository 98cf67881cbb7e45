// `pattern:<id>`: the events whose message fits a pattern's template (see
// src/patterns/). The id must be one listed by GET /api/v1/patterns (here or
// in another process: the API loads ids it has not seen before compiling).
import { templateOf, templateRegex } from '../../patterns/registry.js';
import { type CompareOp, syntaxError } from './parse.js';

export const PATTERN_FIELD = 'pattern';

/** The regex for a `pattern:` term's messages; a syntax error (400) for an unknown id. */
export function patternRegex(op: CompareOp, id: string, wildcard: boolean, pos: number): string {
  if (op !== '=' || wildcard) throw syntaxError('pattern takes one pattern id, as pattern:<id>', pos);
  const template = templateOf(id);
  if (template === undefined) throw syntaxError(`unknown pattern ${JSON.stringify(id)}: pattern ids come from GET /api/v1/patterns (sluice patterns)`, pos);
  return templateRegex(template);
}

// Counts for a `new_pattern` alert rule (src/alerts/rule.ts): per message
// pattern, the events of the rule's query received in the window, for the
// patterns with none in the lookback before it. One scan of the lookback
// (window included) grouped by shape, as GET /api/v1/patterns does, then
// the miner: a pattern is new when none of its shapes had an event before
// the window. A new user name in an old shape is the old pattern, not a
// new one. The group's labels are the pattern's id and template, so the
// notice says which shape appeared; samples and the search link select the
// pattern's events.
import type { AppContext } from '../context.js';
import { formatClickHouse } from '../model/time.js';
import { type GroupCount, groupKey } from '../alerts/evaluate.js';
import { DEFAULT_LOOKBACK, ms, type RuleSpec } from '../alerts/rule.js';
import { compileQuery } from '../query/language/compile.js';
import { readCompactRows } from '../query/read.js';
import { SQL_DIGIT_SEGMENT } from './mask.js';
import { mineShapes, patternId, type Template } from './miner.js';
import { rememberTemplates } from './registry.js';
import { MAX_SHAPES } from './routes.js';

const nsText = (t: number): string => formatClickHouse(BigInt(t) * 1_000_000n);

export async function newPatternCounts(ctx: AppContext, rule: RuleSpec, now: number): Promise<Map<string, GroupCount>> {
  const q = compileQuery(rule.query, 'q');
  const windowStart = now - ms(rule.window);
  const params = {
    ...q.params, rx: SQL_DIGIT_SEGMENT, shapes: MAX_SHAPES,
    // The lookback is before the window: a pattern is new when none of its
    // events came in (windowStart - lookback, windowStart].
    from: nsText(windowStart - ms(rule.lookback ?? DEFAULT_LOOKBACK)), w: nsText(windowStart), to: nsText(now),
  };
  const rows = await readCompactRows<[shape: string, fresh: string | number, before: string | number]>(
    ctx,
    [
      "SELECT replaceRegexpAll(message, {rx:String}, '<*>') AS shape,",
      'countIf(received_at > {w:DateTime64(9)}) AS fresh, countIf(received_at <= {w:DateTime64(9)}) AS before',
      'FROM logs',
      'WHERE received_at > {from:DateTime64(9)} AND received_at <= {to:DateTime64(9)} AND', q.sql,
      'GROUP BY shape ORDER BY fresh + before DESC, shape LIMIT {shapes:UInt32}',
    ].join('\n'),
    params,
    ctx.store.alerts,
  );
  const tally = new Map<Template, { fresh: number; before: number }>();
  for (const [t, shapes] of mineShapes(rows, (row) => row[0], (row) => Number(row[1]) + Number(row[2]))) {
    tally.set(t, { fresh: shapes.reduce((n, row) => n + Number(row[1]), 0), before: shapes.reduce((n, row) => n + Number(row[2]), 0) });
  }
  const out = new Map<string, GroupCount>();
  const fresh: Array<{ id: string; template: string }> = [];
  for (const [t, c] of tally) {
    if (c.before > 0 || c.fresh === 0) continue;
    const labels = { pattern: patternId(t.text), template: t.text };
    out.set(groupKey(labels), { labels, count: c.fresh });
    fresh.push({ id: labels.pattern, template: labels.template });
  }
  // The notice's search link names the pattern by id: resolvable anywhere.
  rememberTemplates(ctx, fresh);
  return out;
}

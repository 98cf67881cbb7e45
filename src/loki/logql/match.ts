// A LogQL log query (./parse.ts) as a predicate on stored events, for the
// live tail: the same labels and filters as the SQL of ./evaluate.ts, in
// JavaScript, with the pipeline's matchers (./pipeline.ts): regexes are RE2
// in JavaScript (re2js), linear time whatever the pattern (the tail runs on
// the ingest path), and a bad one is a 400.
import { LABEL_COLUMNS } from '../labels.js';
import type { EventJson } from '../../model/event.js';
import type { LineFilter, LogQuery, Matcher } from './parse.js';
import { lineTest, valueMatcher } from './pipeline.js';

type Predicate = (e: EventJson) => boolean;

function reader(name: string): (e: EventJson) => string {
  switch (LABEL_COLUMNS.get(name)) {
    case 'service':
      return (e) => e.service;
    case 'level':
      return (e) => e.level;
    case 'host':
      return (e) => e.host;
    default:
      return (e) => e.attributes[name] ?? '';
  }
}

function matcher(m: Matcher): Predicate {
  const read = reader(m.name);
  const test = valueMatcher(m);
  return (e) => test(read(e));
}

function filter(f: LineFilter): Predicate {
  const test = lineTest(f);
  return (e) => test(e.message);
}

export function logMatcher(log: LogQuery): Predicate {
  const all = [...log.matchers.map(matcher), ...log.filters.map(filter)];
  return (e) => all.every((p) => p(e));
}

/** The services a query is limited to (a `service_name="x"`-style matcher), if any: the hub offers it no others. */
export function servicesOf(log: LogQuery): ReadonlySet<string> | undefined {
  const m = log.matchers.find((x) => x.op === '=' && LABEL_COLUMNS.get(x.name) === 'service');
  return m ? new Set([m.value]) : undefined;
}

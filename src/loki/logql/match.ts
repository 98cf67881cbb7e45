// A LogQL log query (./parse.ts) as a predicate on stored events, for the
// live tail: the same labels and filters as the SQL of ./evaluate.ts, in
// JavaScript. Regexes go through the search language's liveRegex: RE2 in
// JavaScript (re2js), linear time whatever the pattern
// (the tail runs on the ingest path), and a bad one is a 400.
import { LABEL_COLUMNS } from '../labels.js';
import type { EventJson } from '../../model/event.js';
import { type LiveRegex, liveRegex } from '../../query/language/match.js';
import type { LineFilter, LogQuery, Matcher } from './parse.js';

type Predicate = (e: EventJson) => boolean;

/** A label regex matches the whole value, as in Loki; RE2 keeps a leading `(?i)` meaning the rest. */
function anchored(pattern: string): LiveRegex {
  return liveRegex(`^(?:${pattern})$`, 0);
}

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
  switch (m.op) {
    case '=':
      return (e) => read(e) === m.value;
    case '!=':
      return (e) => read(e) !== m.value;
    case '=~': {
      const re = anchored(m.value);
      return (e) => re.test(read(e));
    }
    case '!~': {
      const re = anchored(m.value);
      return (e) => !re.test(read(e));
    }
  }
}

function filter(f: LineFilter): Predicate {
  if (f.op === '|=' || f.op === '!=') {
    const has = (e: EventJson): boolean => f.values.some((v) => e.message.includes(v));
    return f.op === '|=' ? has : (e) => !has(e);
  }
  const res = f.values.map((v) => liveRegex(v, 0));
  const has = (e: EventJson): boolean => res.some((re) => re.test(e.message));
  return f.op === '|~' ? has : (e) => !has(e);
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

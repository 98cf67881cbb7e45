// The Go text/template subset of LogQL's line_format and label_format:
// `{{.label}}`, pipelines (`{{ .a | ToUpper }}`), `if`/`else if`/`else`,
// literals, and the functions Loki's templates are mostly written with
// (Loki's own and the common sprig ones). A missing label is "" (Loki sets
// missingkey=zero). Anything else is refused when the query is parsed: a
// 400 naming it, never a line printed differently from Loki.
import { goUnquote, logqlError } from './parse.js';

type Value = string | number | boolean;
/** What a template sees: the labels, the line and the entry's time. */
export interface TemplateInput {
  readonly label: (name: string) => string;
  readonly line: string;
  readonly ns: string;
}

type Operand =
  | { kind: 'field'; name: string }
  | { kind: 'literal'; value: Value }
  | { kind: 'call'; fn: string; args: Operand[] }
  | { kind: 'pipe'; commands: Operand[] };
type Node = { kind: 'text'; text: string } | { kind: 'print'; expr: Operand } | { kind: 'if'; branches: Array<{ cond: Operand | undefined; body: Node[] }> };

const str = (v: Value): string => (typeof v === 'string' ? v : String(v));
const num = (v: Value): number => (typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : Number.parseFloat(v) || 0);
const truthy = (v: Value): boolean => (typeof v === 'string' ? v !== '' : typeof v === 'number' ? v !== 0 : v);
const cmp = (a: Value, b: Value): number => (typeof a === 'number' || typeof b === 'number' ? num(a) - num(b) : str(a) < str(b) ? -1 : str(a) > str(b) ? 1 : 0);

/** Go's time.Time printed by fmt: `2006-01-02 15:04:05.999999999 +0000 UTC`. */
function goTime(ns: string): string {
  const n = BigInt(ns);
  const iso = new Date(Number(n / 1_000_000n)).toISOString();
  const frac = (n % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? '.' + frac : ''} +0000 UTC`;
}

/** A template's output and any one step of it stay under this; past it, the line is marked TemplateFormatErr. */
export const MAX_TEMPLATE_OUTPUT = 64 * 1024;

/** A runtime failure of a template: the line keeps its text and gets Loki's TemplateFormatErr. */
export class TemplateError extends Error {}

function bounded(n: number, what: string): number {
  if (!Number.isFinite(n) || n > MAX_TEMPLATE_OUTPUT) throw new TemplateError(`${what} ${n} is over ${MAX_TEMPLATE_OUTPUT}`);
  return n;
}

/** printf's verbs that Loki templates use: %s %v %d %f %.Nf %q %x %%, with widths. */
function printf(format: string, args: Value[]): string {
  let i = 0;
  return format.replace(/%([-0 +]*)(\d*)(?:\.(\d+))?([svdfqxX%])/g, (_m, flags: string, width: string, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    if (a === undefined) return `%!${verb}(MISSING)`;
    let out: string;
    switch (verb) {
      case 'd':
        out = String(Math.trunc(num(a)));
        break;
      case 'f':
        out = num(a).toFixed(Math.min(100, prec === undefined ? 6 : Number(prec)));
        break;
      case 'q':
        out = JSON.stringify(str(a));
        break;
      case 'x':
      case 'X':
        out = typeof a === 'number' ? Math.trunc(a).toString(16) : Buffer.from(str(a)).toString('hex');
        if (verb === 'X') out = out.toUpperCase();
        break;
      default:
        out = str(a);
    }
    const w = bounded(Number(width || 0), 'a printf width');
    if (out.length < w) out = flags.includes('-') ? out.padEnd(w) : out.padStart(w, flags.includes('0') && verb !== 's' ? '0' : ' ');
    return out;
  });
}

const FUNCTIONS: Readonly<Record<string, (...a: Value[]) => Value>> = {
  ToLower: (s) => str(s!).toLowerCase(), ToUpper: (s) => str(s!).toUpperCase(), lower: (s) => str(s!).toLowerCase(), upper: (s) => str(s!).toUpperCase(),
  title: (s) => str(s!).replace(/\b\w/g, (c) => c.toUpperCase()), Title: (s) => str(s!).replace(/\b\w/g, (c) => c.toUpperCase()),
  // Go's strings.Replace(s, old, new, n), n < 0 for all; sprig's replace old new s.
  Replace: (s, o, n, k) => {
    let left = num(k ?? -1);
    return str(s!).split(str(o!)).reduce((acc, part, idx) => (idx === 0 ? part : acc + (left-- !== 0 ? str(n!) : str(o!)) + part), '');
  },
  replace: (o, n, s) => str(s!).replaceAll(str(o!), str(n!)),
  Trim: (s, cut) => trimSet(str(s!), str(cut!), true, true), TrimLeft: (s, cut) => trimSet(str(s!), str(cut!), true, false), TrimRight: (s, cut) => trimSet(str(s!), str(cut!), false, true),
  TrimSpace: (s) => str(s!).trim(), trim: (s) => str(s!).trim(), trimAll: (cut, s) => trimSet(str(s!), str(cut!), true, true),
  TrimPrefix: (s, p) => (str(s!).startsWith(str(p!)) ? str(s!).slice(str(p!).length) : str(s!)),
  TrimSuffix: (s, p) => (str(s!).endsWith(str(p!)) ? str(s!).slice(0, str(s!).length - str(p!).length) : str(s!)),
  trimPrefix: (p, s) => (str(s!).startsWith(str(p!)) ? str(s!).slice(str(p!).length) : str(s!)),
  trimSuffix: (p, s) => (str(s!).endsWith(str(p!)) ? str(s!).slice(0, str(s!).length - str(p!).length) : str(s!)),
  contains: (sub, s) => str(s!).includes(str(sub!)), hasPrefix: (p, s) => str(s!).startsWith(str(p!)), hasSuffix: (p, s) => str(s!).endsWith(str(p!)),
  default: (d, given) => (given === undefined || !truthy(given) ? d! : given),
  substr: (a, b, s) => str(s!).slice(num(a!), num(b!) < 0 ? undefined : num(b!)),
  trunc: (n, s) => (num(n!) >= 0 ? str(s!).slice(0, num(n!)) : str(s!).slice(num(n!))),
  repeat: (n, s) => str(s!).repeat(Math.max(0, Math.floor(bounded(num(n!) * Math.max(1, str(s!).length), 'a repeat of')) / Math.max(1, str(s!).length))),
  alignLeft: (n, s) => str(s!).slice(0, bounded(num(n!), 'alignLeft')).padEnd(num(n!)), alignRight: (n, s) => str(s!).slice(-bounded(num(n!), 'alignRight')).padStart(num(n!)),
  printf: (f, ...args) => printf(str(f!), args),
  len: (s) => str(s!).length,
  int: (v) => Math.trunc(num(v!)), float64: (v) => num(v!),
  add: (a, b) => Math.trunc(num(a!)) + Math.trunc(num(b!)), sub: (a, b) => Math.trunc(num(a!)) - Math.trunc(num(b!)), mul: (a, b) => Math.trunc(num(a!)) * Math.trunc(num(b!)),
  div: (a, b) => Math.trunc(Math.trunc(num(a!)) / Math.trunc(num(b!))), mod: (a, b) => Math.trunc(num(a!)) % Math.trunc(num(b!)),
  addf: (a, b) => num(a!) + num(b!), subf: (a, b) => num(a!) - num(b!), mulf: (a, b) => num(a!) * num(b!), divf: (a, b) => num(a!) / num(b!),
  eq: (a, ...bs) => bs.some((b) => cmp(a!, b) === 0), ne: (a, b) => cmp(a!, b!) !== 0, lt: (a, b) => cmp(a!, b!) < 0, le: (a, b) => cmp(a!, b!) <= 0, gt: (a, b) => cmp(a!, b!) > 0, ge: (a, b) => cmp(a!, b!) >= 0,
  not: (a) => !truthy(a!),
  urlencode: (s) => encodeURIComponent(str(s!)),
  urldecode: (s) => {
    try {
      return decodeURIComponent(str(s!));
    } catch {
      throw new TemplateError(`urldecode: ${JSON.stringify(str(s!).slice(0, 40))} is not URL-encoded`);
    }
  },
  b64enc: (s) => Buffer.from(str(s!)).toString('base64'), b64dec: (s) => Buffer.from(str(s!), 'base64').toString(),
};

function trimSet(s: string, cut: string, left: boolean, right: boolean): string {
  let a = 0;
  let b = s.length;
  while (left && a < b && cut.includes(s[a]!)) a++;
  while (right && b > a && cut.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/** Splits an action's text into tokens: strings, raw strings, numbers, fields, names, `|`, parentheses. */
function tokens(action: string): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|[-+]?\d+(?:\.\d+)?|\.[A-Za-z_][\w]*|\.|[A-Za-z_][\w]*|\||\(|\))/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(action))) {
    out.push(m[1]!);
    at = re.lastIndex;
  }
  if (action.slice(at).trim() !== '') throw logqlError(`not supported yet: the template text ${JSON.stringify(action.slice(at).trim().slice(0, 30))}`);
  return out;
}

class TemplateParser {
  private i = 0;
  constructor(private readonly toks: string[]) {}

  pipeline(): Operand {
    const commands = [this.command()];
    while (this.toks[this.i] === '|') {
      this.i++;
      commands.push(this.command());
    }
    return commands.length === 1 ? commands[0]! : { kind: 'pipe', commands };
  }

  command(): Operand {
    const first = this.toks[this.i];
    if (first === undefined || first === '|' || first === ')') throw logqlError('a template action is empty');
    if (/^[A-Za-z_]\w*$/.test(first) && !['true', 'false'].includes(first)) {
      this.i++;
      if (first !== '__line__' && first !== '__timestamp__' && !(first in FUNCTIONS) && first !== 'and' && first !== 'or') throw logqlError(`not supported yet: the template function ${first}`);
      const args: Operand[] = [];
      while (this.i < this.toks.length && this.toks[this.i] !== '|' && this.toks[this.i] !== ')') args.push(this.operand());
      return { kind: 'call', fn: first, args };
    }
    return this.operand();
  }

  operand(): Operand {
    const t = this.toks[this.i++]!;
    if (t === '(') {
      const inner = this.pipeline();
      if (this.toks[this.i++] !== ')') throw logqlError('a template has an unclosed (');
      return inner;
    }
    if (t.startsWith('"') || t.startsWith('`')) return { kind: 'literal', value: goUnquote(t, 0) };
    if (t === 'true' || t === 'false') return { kind: 'literal', value: t === 'true' };
    if (/^[-+]?\d/.test(t)) return { kind: 'literal', value: Number(t) };
    if (t.startsWith('.') && t.length > 1) return { kind: 'field', name: t.slice(1) };
    if (t === '__line__' || t === '__timestamp__') return { kind: 'call', fn: t, args: [] };
    throw logqlError(`not supported yet: ${JSON.stringify(t)} in a template`);
  }

  done(): void {
    if (this.i !== this.toks.length) throw logqlError(`not supported yet: ${JSON.stringify(this.toks.slice(this.i).join(' '))} in a template`);
  }
}

function parseAction(text: string): Operand {
  const p = new TemplateParser(tokens(text));
  const e = p.pipeline();
  p.done();
  return e;
}

function parseTemplate(src: string): Node[] {
  const root: Node[] = [];
  // The open ifs, innermost last: where text and actions go.
  const stack: Array<{ node: Extract<Node, { kind: 'if' }> }> = [];
  const target = (): Node[] => (stack.length === 0 ? root : stack[stack.length - 1]!.node.branches.at(-1)!.body);
  let rest = src;
  let trimNext = false;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    let text = open < 0 ? rest : rest.slice(0, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) target().push({ kind: 'text', text });
      break;
    }
    const close = rest.indexOf('}}', open + 2);
    if (close < 0) throw logqlError('a template has {{ without }}');
    let action = rest.slice(open + 2, close);
    if (action.startsWith('-') && /^-\s/.test(action)) {
      text = text.replace(/\s+$/, '');
      action = action.slice(1);
    }
    if (/\s-$/.test(action)) {
      trimNext = true;
      action = action.slice(0, -1);
    }
    if (text) target().push({ kind: 'text', text });
    rest = rest.slice(close + 2);
    const a = action.trim();
    if (a.startsWith('/*')) continue;
    const keyword = /^(if|else if|else|end|range|with|define|template|block)\b\s*/.exec(a);
    if (!keyword) {
      target().push({ kind: 'print', expr: parseAction(a) });
      continue;
    }
    const body = a.slice(keyword[0].length);
    switch (keyword[1]) {
      case 'if': {
        const node: Extract<Node, { kind: 'if' }> = { kind: 'if', branches: [{ cond: parseAction(body), body: [] }] };
        target().push(node);
        stack.push({ node });
        break;
      }
      case 'else if':
      case 'else': {
        const top = stack.at(-1);
        if (!top || top.node.branches.at(-1)!.cond === undefined) throw logqlError('a template has an else without its if');
        top.node.branches.push({ cond: keyword[1] === 'else' ? undefined : parseAction(body), body: [] });
        break;
      }
      case 'end':
        if (!stack.pop()) throw logqlError('a template has an end without its if');
        break;
      default:
        throw logqlError(`not supported yet: the template action ${keyword[1]}`);
    }
  }
  if (stack.length > 0) throw logqlError('a template has an if without its end');
  return root;
}

function evalOperand(o: Operand, input: TemplateInput, piped?: Value): Value {
  switch (o.kind) {
    case 'field':
      return input.label(o.name);
    case 'literal':
      return o.value;
    case 'pipe': {
      let v: Value | undefined;
      for (const c of o.commands) v = evalOperand(c, input, v);
      return v!;
    }
    case 'call': {
      if (o.fn === '__line__') return input.line;
      if (o.fn === '__timestamp__') return goTime(input.ns);
      if (o.fn === 'and' || o.fn === 'or') {
        // Go's and/or: the first falsy (and) or truthy (or) argument, else the last.
        const args = [...o.args.map((a) => () => evalOperand(a, input)), ...(piped === undefined ? [] : [() => piped])];
        let last: Value = '';
        for (const a of args) {
          last = a();
          if (truthy(last) === (o.fn === 'or')) return last;
        }
        return last;
      }
      const args = o.args.map((a) => evalOperand(a, input));
      if (piped !== undefined) args.push(piped);
      return FUNCTIONS[o.fn]!(...args);
    }
  }
}

function render(nodes: Node[], input: TemplateInput): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'print') out += str(evalOperand(n.expr, input));
    else {
      const branch = n.branches.find((b) => b.cond === undefined || truthy(evalOperand(b.cond, input)));
      if (branch) out += render(branch.body, input);
    }
    bounded(out.length, 'the output of');
  }
  return out;
}

/**
 * A template compiled once per query; a 400 for what it does not support.
 * Running it throws a TemplateError for what fails on one line (a bad
 * urldecode, an output over MAX_TEMPLATE_OUTPUT): the pipeline marks that
 * line, as Loki does, and goes on.
 */
export function compileTemplate(src: string): (input: TemplateInput) => string {
  const nodes = parseTemplate(src);
  return (input) => {
    try {
      return render(nodes, input);
    } catch (e) {
      throw e instanceof TemplateError ? e : new TemplateError((e as Error).message);
    }
  };
}

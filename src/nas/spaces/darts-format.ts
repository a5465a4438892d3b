/**
 * DARTS genotypes as the DARTS code prints them (the Python repr of its Genotype namedtuple):
 *   Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...], normal_concat=range(2, 6),
 *            reduce=[('max_pool_3x3', 0), ...], reduce_concat=range(2, 6))
 * The parser also takes what genotypes.py files contain: concat as [2, 3, 4, 5], positional fields,
 * double quotes, newlines, trailing commas and # comments.
 */
import { SearchSpaceError } from './common.js';
import { type Genotype, validateGenotype } from './darts.js';

export interface FormatGenotypeOptions {
  /** 'range' (default): contiguous concat lists print as range(a, b), as DARTS logs show; 'list': [2, 3, 4, 5] */
  concat?: 'range' | 'list';
}

/** The Python repr of the genotype. */
export function formatGenotype(genotype: Genotype, opts: FormatGenotypeOptions = {}): string {
  const g = validateGenotype(genotype);
  const genes = (list: Genotype['normal']): string => `[${list.map(([op, i]) => `('${op}', ${i})`).join(', ')}]`;
  const concat = (c: number[]): string => {
    const contiguous = c.every((v, i) => v === c[0] + i);
    return opts.concat !== 'list' && contiguous ? `range(${c[0]}, ${c[0] + c.length})` : `[${c.join(', ')}]`;
  };
  return `Genotype(normal=${genes(g.normal)}, normal_concat=${concat(g.normal_concat)}, reduce=${genes(g.reduce)}, reduce_concat=${concat(g.reduce_concat)})`;
}

type Tok = { kind: 'ident' | 'int' | 'str' | 'punct' | 'end'; text: string; at: number };

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  const re = /\s+|#[^\n]*|([A-Za-z_][A-Za-z0-9_]*)|(-?[0-9]+)|'([^'\n]*)'|"([^"\n]*)"|([()[\],=])/y;
  let at = 0;
  while (at < src.length) {
    re.lastIndex = at;
    const m = re.exec(src);
    if (!m) throw new SearchSpaceError(`bad DARTS genotype string: unexpected character ${JSON.stringify(src[at])} at ${at}: …${src.slice(Math.max(0, at - 20), at + 20)}…`);
    if (m[1] !== undefined) toks.push({ kind: 'ident', text: m[1], at });
    else if (m[2] !== undefined) toks.push({ kind: 'int', text: m[2], at });
    else if (m[3] !== undefined || m[4] !== undefined) toks.push({ kind: 'str', text: m[3] ?? m[4], at });
    else if (m[5] !== undefined) toks.push({ kind: 'punct', text: m[5], at });
    at = re.lastIndex;
  }
  toks.push({ kind: 'end', text: '<end>', at: src.length });
  return toks;
}

const FIELDS = ['normal', 'normal_concat', 'reduce', 'reduce_concat'] as const;

/** Parses the Python repr (or a genotypes.py literal) back into a checked Genotype. */
export function parseGenotype(src: string): Genotype {
  if (typeof src !== 'string') throw new SearchSpaceError(`bad DARTS genotype string: expected a string, got ${typeof src}`);
  const toks = tokenize(src);
  let p = 0;
  const peek = (): Tok => toks[p];
  const fail = (what: string): never => {
    const t = peek();
    throw new SearchSpaceError(`bad DARTS genotype string: expected ${what} at ${t.at}, found ${t.kind === 'end' ? 'the end' : JSON.stringify(t.text)}: …${src.slice(Math.max(0, t.at - 20), t.at + 20)}…`);
  };
  const take = (text: string): void => {
    if (peek().text !== text || peek().kind === 'str') fail(`"${text}"`);
    p++;
  };
  const maybe = (text: string): boolean => {
    if (peek().text === text && peek().kind === 'punct') {
      p++;
      return true;
    }
    return false;
  };
  const int = (): number => {
    if (peek().kind !== 'int') fail('an integer');
    return Number(toks[p++].text);
  };
  /** `[ item, ... ]` or `( item, ... )`, trailing comma allowed */
  const seq = <T>(item: () => T): T[] => {
    const open = peek().text;
    if (peek().kind !== 'punct' || (open !== '[' && open !== '(')) fail('"[" or "("');
    p++;
    const close = open === '[' ? ']' : ')';
    const out: T[] = [];
    while (!maybe(close)) {
      out.push(item());
      if (!maybe(',')) {
        take(close);
        break;
      }
    }
    return out;
  };
  const gene = (): [unknown, number] => {
    const pair = seq<unknown>(() => (peek().kind === 'str' ? toks[p++].text : int()));
    if (pair.length !== 2) fail(`a gene ('op', input); that one had ${pair.length} entries, ending`);
    return [pair[0], pair[1] as number];
  };
  const concat = (): number[] => {
    if (peek().kind === 'ident' && peek().text === 'range') {
      p++;
      const args = seq(int);
      if (args.length < 1 || args.length > 2) fail('range(stop) or range(start, stop), ending');
      const [a, b] = args.length === 1 ? [0, args[0]] : args;
      return Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);
    }
    return seq(int);
  };

  if (peek().kind !== 'ident' || peek().text !== 'Genotype') fail('"Genotype("');
  p++;
  take('(');
  const fields: Record<string, unknown> = {};
  let positional = 0;
  while (!maybe(')')) {
    let name: string;
    if (peek().kind === 'ident' && toks[p + 1]?.text === '=') {
      name = toks[p].text;
      p += 2;
      if (!(FIELDS as readonly string[]).includes(name)) {
        p -= 2;
        fail(`one of ${FIELDS.join(', ')}`);
      }
    } else {
      if (positional >= FIELDS.length) fail('")"');
      name = FIELDS[positional];
    }
    positional++;
    if (name in fields) fail(`a field other than ${name} (given twice)`);
    fields[name] = name.endsWith('_concat') ? concat() : seq(gene);
    if (!maybe(',')) {
      take(')');
      break;
    }
  }
  if (peek().kind !== 'end') fail('the end');
  for (const f of FIELDS) if (!(f in fields)) throw new SearchSpaceError(`bad DARTS genotype string: field ${f} missing in ${src}`);
  return validateGenotype(fields);
}

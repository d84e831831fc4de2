import { ArcaError } from '../errors/index.ts';

/**
 * A parser for the subset of HCL (v1) that Vault policies use:
 *
 *   # comment            // comment            /* comment *\/
 *   path "secret/*" { capabilities = ["read", "list"] }
 *   name = "ops"
 *   allowed_parameters = { "ttl" = ["1h"], "*" = [] }
 *
 * Values: double-quoted strings, numbers, true/false, lists `[...]`, objects `{...}`.
 * Not supported (rejected with a line number): heredocs, interpolation is kept literally.
 * Output: the top-level body as a list of items, so repeated `path "x" {}` blocks are kept apart.
 */

export type HclValue = string | number | boolean | HclValue[] | HclObject;
export interface HclObject {
  [key: string]: HclValue;
}

export interface HclItem {
  key: string;
  labels: string[];
  value: HclValue;
  line: number;
}

type TokKind = 'string' | 'ident' | 'number' | 'punct' | 'eof';
interface Token {
  kind: TokKind;
  text: string;
  line: number;
}

/** Nesting limit: policy documents are shallow, and deep input must not overflow the stack. */
const MAX_DEPTH = 32;

function syntaxError(line: number, what: string): ArcaError {
  return new ArcaError('ERR_INVALID_REQUEST', `failed to parse policy: line ${line}: ${what}`);
}

function tokenize(src: string): Token[] {
  const toks: Token[] = [];
  let i = 0;
  let line = 1;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\uFEFF') {
      i++;
    } else if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw syntaxError(line, 'unterminated /* comment');
      for (let j = i; j < end; j++) if (src[j] === '\n') line++;
      i = end + 2;
    } else if (c === '"') {
      const start = line;
      let out = '';
      i++;
      for (;;) {
        if (i >= n) throw syntaxError(start, 'unterminated string');
        const d = src[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\n') throw syntaxError(line, 'newline in string');
        if (d === '\\') {
          const e = src[i + 1];
          const simple: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', '/': '/' };
          if (e !== undefined && simple[e] !== undefined) {
            out += simple[e];
            i += 2;
          } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
            out += String.fromCharCode(Number.parseInt(src.slice(i + 2, i + 6), 16));
            i += 6;
          } else {
            throw syntaxError(line, 'invalid escape in string');
          }
          continue;
        }
        out += d;
        i++;
      }
      toks.push({ kind: 'string', text: out, line: start });
    } else if (c === '<' && src[i + 1] === '<') {
      throw syntaxError(line, 'heredoc strings are not supported; use a quoted string');
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_.-]/.test(src[j]!)) j++;
      toks.push({ kind: 'ident', text: src.slice(i, j), line });
      i = j;
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(src.slice(i, i + 64));
      if (!m) throw syntaxError(line, `unexpected character ${JSON.stringify(c)}`);
      toks.push({ kind: 'number', text: m[0], line });
      i += m[0].length;
    } else if ('{}[]=,:'.includes(c)) {
      toks.push({ kind: 'punct', text: c, line });
      i++;
    } else {
      throw syntaxError(line, `unexpected character ${JSON.stringify(c)}`);
    }
  }
  toks.push({ kind: 'eof', text: '', line });
  return toks;
}

class Parser {
  #pos = 0;
  constructor(private readonly toks: Token[]) {}

  peek(): Token {
    return this.toks[this.#pos]!;
  }
  next(): Token {
    const t = this.toks[this.#pos]!;
    if (t.kind !== 'eof') this.#pos++;
    return t;
  }
  isPunct(text: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === text;
  }
  expectPunct(text: string): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.text !== text) throw syntaxError(t.line, `expected "${text}", found ${describe(t)}`);
  }

  /** body := item* until `}` (nested) or end of input (top level). */
  body(depth: number, nested: boolean): HclItem[] {
    if (depth > MAX_DEPTH) throw syntaxError(this.peek().line, 'nesting too deep');
    const items: HclItem[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') {
        if (nested) throw syntaxError(t.line, 'unexpected end of input: missing "}"');
        return items;
      }
      if (nested && t.kind === 'punct' && t.text === '}') return items;
      if (t.kind === 'punct' && t.text === ',') {
        this.next();
        continue;
      }
      items.push(this.item(depth));
    }
  }

  item(depth: number): HclItem {
    const keyTok = this.next();
    if (keyTok.kind !== 'ident' && keyTok.kind !== 'string') {
      throw syntaxError(keyTok.line, `expected a key, found ${describe(keyTok)}`);
    }
    const labels: string[] = [];
    while (this.peek().kind === 'string') labels.push(this.next().text);
    if (this.isPunct('=') || this.isPunct(':')) {
      this.next();
      return { key: keyTok.text, labels, value: this.value(depth + 1), line: keyTok.line };
    }
    if (this.isPunct('{')) {
      return { key: keyTok.text, labels, value: this.object(depth + 1), line: keyTok.line };
    }
    const t = this.peek();
    throw syntaxError(t.line, `expected "=" or "{" after "${keyTok.text}", found ${describe(t)}`);
  }

  object(depth: number): HclObject {
    const open = this.peek();
    this.expectPunct('{');
    const items = this.body(depth, true);
    this.expectPunct('}');
    const out: HclObject = Object.create(null) as HclObject;
    for (const it of items) {
      // Blocks with labels inside objects nest: `a "b" { }` becomes a.b.
      let value: HclValue = it.value;
      for (let k = it.labels.length - 1; k >= 0; k--) {
        const wrapped: HclObject = Object.create(null) as HclObject;
        wrapped[it.labels[k]!] = value;
        value = wrapped;
      }
      // Labelled blocks of one key merge (`factor "a" {}` + `factor "b" {}`); a repeated label is a duplicate.
      const prev = Object.hasOwn(out, it.key) ? out[it.key] : undefined;
      if (prev !== undefined && it.labels.length > 0 && isObject(prev) && isObject(value) && !Object.keys(value).some((k) => Object.hasOwn(prev, k))) {
        Object.assign(prev, value);
        continue;
      }
      if (prev !== undefined) throw syntaxError(it.line, `duplicate key "${it.key}" in block opened on line ${open.line}`);
      out[it.key] = value;
    }
    return out;
  }

  value(depth: number): HclValue {
    if (depth > MAX_DEPTH) throw syntaxError(this.peek().line, 'nesting too deep');
    const t = this.peek();
    if (t.kind === 'string') return this.next().text;
    if (t.kind === 'number') return Number(this.next().text);
    if (t.kind === 'ident' && (t.text === 'true' || t.text === 'false')) return this.next().text === 'true';
    if (t.kind === 'punct' && t.text === '{') return this.object(depth);
    if (t.kind === 'punct' && t.text === '[') {
      this.next();
      const list: HclValue[] = [];
      for (;;) {
        if (this.isPunct(']')) {
          this.next();
          return list;
        }
        list.push(this.value(depth + 1));
        if (this.isPunct(',')) this.next();
        else if (!this.isPunct(']')) throw syntaxError(this.peek().line, `expected "," or "]", found ${describe(this.peek())}`);
      }
    }
    throw syntaxError(t.line, `expected a value, found ${describe(t)}`);
  }
}

function isObject(v: HclValue): v is HclObject {
  return typeof v === 'object' && !Array.isArray(v);
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of input';
  if (t.kind === 'string') return 'a string';
  return `"${t.text.slice(0, 32)}"`;
}

/** Parses HCL-subset text into top-level items. Throws ArcaError ERR_INVALID_REQUEST naming the line. */
export function parseHcl(text: string): HclItem[] {
  const p = new Parser(tokenize(text));
  return p.body(0, false);
}

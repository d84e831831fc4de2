/**
 * Strict, logic-less templates: Mustache syntax, parsed by the `mustache` package, evaluated here.
 *
 * Why our own evaluator over mustache's tokens: mustache.js resolves names with `in` (so
 * `{{constructor}}` reaches Object.prototype and calls it), renders a missing name as an empty
 * string, HTML-escapes `{{x}}` and supports partials. A secrets file wants the opposite: only own
 * properties of the secret's JSON data, a missing name is an error (ERR_RENDER_FIELD_MISSING,
 * naming the tag), no escaping (`{{x}}` and `{{{x}}}` both write the value as is), no partials,
 * no functions — nothing in a template or in secret data can run code.
 *
 * Supported: `{{name}}`, `{{a.b}}`, `{{.}}`, `{{{name}}}`, `{{&name}}`, sections `{{#x}}…{{/x}}`
 * (object → its scope, list → once per item, true/non-empty scalar → once, false/null/0/""/[] →
 * skipped), inverted sections `{{^x}}…{{/x}}`, comments `{{! … }}`, delimiter changes `{{=<% %>=}}`.
 */
import Mustache from 'mustache';
import { ArcaError } from '../errors/index.ts';
import { scalarText } from './formats.ts';

/** Templates are config, not data: anything larger is a mistake (and would be parsed every load). */
export const MAX_TEMPLATE_BYTES = 64 * 1024;

// mustache caches every parsed template in a global map by default; the agent parses each once.
Mustache.templateCache = undefined;

type Token = readonly [string, string, number, number, Token[]?];

export interface CompiledTemplate {
  readonly tokens: readonly Token[];
}

/** Parses and checks a template once (at config load); throws ERR_RENDER_TEMPLATE_INVALID. */
export function compileTemplate(text: string): CompiledTemplate {
  if (typeof text !== 'string') throw new ArcaError('ERR_RENDER_TEMPLATE_INVALID', 'template must be a string');
  if (Buffer.byteLength(text) > MAX_TEMPLATE_BYTES) throw new ArcaError('ERR_RENDER_TEMPLATE_INVALID', `template is larger than ${MAX_TEMPLATE_BYTES} bytes`);
  let tokens: unknown[];
  try {
    tokens = Mustache.parse(text);
  } catch (err) {
    throw new ArcaError('ERR_RENDER_TEMPLATE_INVALID', `template does not parse: ${(err as Error).message}`);
  }
  checkTokens(tokens as Token[]);
  return Object.freeze({ tokens: tokens as Token[] });
}

function checkTokens(tokens: readonly Token[]): void {
  for (const t of tokens) {
    const [type, value, start] = t;
    if (type === '>') throw new ArcaError('ERR_RENDER_TEMPLATE_INVALID', `template uses a partial ({{> ${value}}}) at offset ${start}; partials are not supported`);
    if (type === '#' || type === '^') checkTokens(t[4] ?? []);
  }
}

/** Renders with `view` as the root scope; throws ERR_RENDER_FIELD_MISSING for any unknown name. */
export function renderTemplate(t: CompiledTemplate, view: Readonly<Record<string, unknown>>): string {
  const out: string[] = [];
  run(t.tokens, [view], out);
  return out.join('');
}

function run(tokens: readonly Token[], stack: unknown[], out: string[]): void {
  for (const t of tokens) {
    const [type, name] = t;
    switch (type) {
      case 'text':
        out.push(name);
        break;
      case 'name':
      case '&': {
        const v = lookup(stack, name);
        if (v !== null) out.push(scalarText(v));
        break;
      }
      case '#': {
        const v = lookup(stack, name);
        const inner = t[4] ?? [];
        if (Array.isArray(v)) for (const item of v) run(inner, [...stack, item], out);
        else if (v !== null && typeof v === 'object') run(inner, [...stack, v], out);
        else if (v) run(inner, stack, out);
        break;
      }
      case '^': {
        const v = lookup(stack, name);
        if (!v || (Array.isArray(v) && v.length === 0)) run(t[4] ?? [], stack, out);
        break;
      }
      default:
        break; // '!' comments and '=' delimiter changes produce nothing
    }
  }
}

function isScope(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Mustache name resolution restricted to own properties: the first segment in the nearest scope. */
function lookup(stack: readonly unknown[], name: string): unknown {
  if (name === '.') return stack[stack.length - 1];
  const parts = name.split('.');
  const head = parts[0]!;
  for (let i = stack.length - 1; i >= 0; i--) {
    const scope = stack[i];
    if (!isScope(scope) || !Object.hasOwn(scope, head)) continue;
    let v: unknown = scope[head];
    for (const p of parts.slice(1)) {
      if (!isScope(v) || !Object.hasOwn(v, p)) throw missing(name);
      v = v[p];
    }
    return v === undefined ? null : v;
  }
  throw missing(name);
}

function missing(name: string): ArcaError {
  return new ArcaError('ERR_RENDER_FIELD_MISSING', `template names "${name}", which is not in the secret`);
}

import { ArcaError } from '../errors/index.ts';
import { type Fields, FORMATS, type Format, formatEnv, formatJson, formatProperties, formatRaw, formatYaml } from './formats.ts';
import { type CompiledTemplate, compileTemplate, renderTemplate } from './template.ts';

/** What to write for one secret: a format (optionally narrowed to one field) or a template. */
export interface RenderSpec {
  /** Default: `raw` when `field` is set, else `json`. Not allowed together with `template`. */
  format?: Format | undefined;
  /** raw: the field to write; other formats: write only this field. */
  field?: string | undefined;
  /** Mustache text (strict); the view is `{ data, metadata, secrets: { <alias>: { data, metadata } } }`. */
  template?: string | undefined;
}

/**
 * A KV v2 read: `data` is the secret's fields; `metadata` is exposed to templates only. `secrets`
 * (templates only) holds further secrets by alias, for one file rendered from several secrets:
 * `{{secrets.db.data.password}}`, or `{{#secrets.db}}{{data.user}}{{/secrets.db}}`.
 */
export interface SecretInput {
  data: Readonly<Record<string, unknown>>;
  metadata?: Readonly<Record<string, unknown>> | undefined;
  secrets?: Readonly<Record<string, Omit<SecretInput, 'secrets'>>> | undefined;
}

/** An alias in `secrets`: a plain name, so `secrets.<alias>.data.<field>` reads unambiguously. */
export const SECRET_ALIAS = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;

function secretsView(s: SecretInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [alias, x] of Object.entries(s.secrets ?? {})) out[alias] = { data: x.data, metadata: x.metadata ?? {} };
  return out;
}

/** A validated spec with its template parsed once; `render` may be called for every refresh. */
export interface Renderer {
  readonly format: Format | 'template';
  render(secret: SecretInput): Uint8Array;
}

/**
 * Validates a spec (format name, field/format/template combination, template syntax) and returns
 * its renderer. Throws ERR_RENDER_INVALID / ERR_RENDER_TEMPLATE_INVALID; call it when the config
 * is loaded so a bad spec fails before anything is fetched.
 */
export function prepareRender(spec: RenderSpec): Renderer {
  const { format, field, template } = spec;
  if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) {
    throw new ArcaError('ERR_RENDER_INVALID', `format must be one of ${FORMATS.join(', ')}`);
  }
  if (field !== undefined && (typeof field !== 'string' || field === '')) throw new ArcaError('ERR_RENDER_INVALID', 'field must be a non-empty string');
  if (template !== undefined) {
    if (format !== undefined) throw new ArcaError('ERR_RENDER_INVALID', 'give either a format or a template, not both');
    if (field !== undefined) throw new ArcaError('ERR_RENDER_INVALID', 'a template names its fields itself; drop the field (#FIELD)');
    const t: CompiledTemplate = compileTemplate(template);
    return Object.freeze({
      format: 'template' as const,
      render: (s: SecretInput) => encode(renderTemplate(t, { data: s.data, metadata: s.metadata ?? {}, secrets: secretsView(s) })),
    });
  }
  const f: Format = format ?? (field === undefined ? 'json' : 'raw');
  return Object.freeze({ format: f, render: (s: SecretInput) => encode(renderFormat(f, s.data, field)) });
}

/** One-shot form of prepareRender(spec).render(secret). */
export function renderSecret(spec: RenderSpec, secret: SecretInput): Uint8Array {
  return prepareRender(spec).render(secret);
}

function renderFormat(f: Format, data: Fields, field: string | undefined): string {
  if (f === 'raw') return formatRaw(data, field);
  let fields = data;
  if (field !== undefined) {
    if (!Object.hasOwn(data, field)) throw new ArcaError('ERR_RENDER_FIELD_MISSING', `field "${field}" is not in the secret`);
    fields = { [field]: data[field] };
  }
  switch (f) {
    case 'env':
      return formatEnv(fields);
    case 'json':
      return formatJson(fields);
    case 'yaml':
      return formatYaml(fields);
    case 'properties':
      return formatProperties(fields);
  }
}

function encode(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

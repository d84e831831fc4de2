/**
 * The secret renderer shared by the agent (files in pods) and the CSI provider (mounted files):
 * turns one KV v2 secret into the bytes of one file. Pure: no I/O, no logging, no network.
 *
 * API (stable):
 * - `prepareRender(spec) → Renderer` validates a spec once (throws coded ArcaErrors) and returns
 *   `render(secret) → Uint8Array`, for repeated renders (templates are parsed once).
 * - `renderSecret(spec, secret) → Uint8Array` is the one-shot form.
 * - `parseFormat(s)` / `FORMATS`, `compileTemplate(text)` to validate inputs at config time.
 *
 * Spec: `{ format?, field?, template? }`.
 * - `raw`: one field's value as is (strings verbatim, other JSON values as JSON); `field` may be
 *   omitted only when the secret has exactly one field.
 * - `env`: `KEY='value'` lines, POSIX-shell single-quoted (safe to `.`/`source`); every key must be
 *   a shell variable name; NUL bytes are refused.
 * - `json`: pretty JSON with sorted keys. `yaml`: `key: value` lines, strings quoted whenever a
 *   YAML 1.1/1.2 reader could read them as something else, nested values in flow (JSON) style.
 * - `properties`: java.util.Properties `store` escaping, ASCII output (`\uXXXX` beyond).
 * - With `field`, env/json/yaml/properties write only that field. Default format: `raw` with a
 *   field, else `json`.
 * - `template`: Mustache syntax, strict (a missing name is ERR_RENDER_FIELD_MISSING), no HTML
 *   escaping, no partials, no code; the view is `{ data: <fields>, metadata: <KV metadata> }`,
 *   e.g. `postgres://{{data.user}}:{{data.password}}@db/app`. See template.ts.
 * - Several secrets in one file: the caller passes the others as `secret.secrets` by alias
 *   (SECRET_ALIAS), and the template reads `{{secrets.<alias>.data.<field>}}` (or opens the scope:
 *   `{{#secrets.cache}}{{data.host}}{{/secrets.cache}}`); a missing alias is ERR_RENDER_FIELD_MISSING.
 *
 * Output is deterministic (keys sorted) so callers can compare bytes to skip unchanged writes.
 * Errors: ERR_RENDER_INVALID, ERR_RENDER_TEMPLATE_INVALID, ERR_RENDER_FIELD_MISSING — messages name
 * fields and template tags, never a value.
 */
import { ArcaError } from '../errors/index.ts';
import { FORMATS, type Format } from './formats.ts';

export { FORMATS, type Format, isEnvName, scalarText, shellQuote } from './formats.ts';
export { type RenderSpec, type Renderer, type SecretInput, prepareRender, renderSecret, SECRET_ALIAS } from './render.ts';
export { type CompiledTemplate, compileTemplate, MAX_TEMPLATE_BYTES, renderTemplate } from './template.ts';

/** Checks a format name from a flag or config; throws ERR_RENDER_INVALID naming the choices. */
export function parseFormat(s: string): Format {
  if ((FORMATS as readonly string[]).includes(s)) return s as Format;
  throw new ArcaError('ERR_RENDER_INVALID', `format must be one of ${FORMATS.join(', ')}`);
}

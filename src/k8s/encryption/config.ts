/**
 * EncryptionConfiguration (apiserver.config.k8s.io/v1): strict decoding of YAML or JSON exactly as
 * kube-apiserver does (unknown or duplicate fields are errors, kind/apiVersion must be registered),
 * then the v1 defaults (kms apiVersion v1, timeout 3s, cachesize 1000 for v1 only).
 */
import { parseDocument } from 'yaml';
import { ArcaError, isArcaError } from '../../errors/index.ts';
import { parseDuration } from '../../units/index.ts';

export interface KeyConfig {
  name: string;
  secret: string;
}

export interface KmsConfig {
  apiVersion: string;
  name: string;
  endpoint: string;
  /** undefined = not set (v2) */
  cachesize?: number;
  timeoutMs: number;
}

export interface ProviderConfig {
  aesgcm?: { keys: KeyConfig[] };
  aescbc?: { keys: KeyConfig[] };
  secretbox?: { keys: KeyConfig[] };
  identity?: Record<string, never>;
  kms?: KmsConfig;
}

export interface ResourceConfig {
  resources: string[];
  providers: ProviderConfig[];
}

export interface EncryptionConfiguration {
  kind: string;
  apiVersion: string;
  resources: ResourceConfig[];
}

const KNOWN_GVK = new Set(['apiserver.config.k8s.io/v1|EncryptionConfiguration', 'v1|EncryptionConfig']);

function parseError(msg: string): ArcaError {
  return new ArcaError('ERR_ENCCONFIG_PARSE', msg);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function fields(v: unknown, path: string, allowed: readonly string[]): Obj {
  if (!isObj(v)) throw parseError(`${path || 'config'}: expected an object`);
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw parseError(`strict decoding error: unknown field "${path ? `${path}.` : ''}${k}"`);
  }
  return v;
}

function str(v: unknown, path: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw parseError(`${path}: expected a string`);
  return v;
}

function list<T>(v: unknown, path: string, item: (x: unknown, p: string) => T): T[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw parseError(`${path}: expected a list`);
  return v.map((x, i) => item(x, `${path}[${i}]`));
}

function keysOf(v: unknown, path: string): { keys: KeyConfig[] } | undefined {
  if (v === null || v === undefined) return undefined;
  const o = fields(v, path, ['keys']);
  return {
    keys: list(o['keys'], `${path}.keys`, (k, p) => {
      const ko = fields(k, p, ['name', 'secret']);
      return { name: str(ko['name'], `${p}.name`), secret: str(ko['secret'], `${p}.secret`) };
    }),
  };
}

function kmsOf(v: unknown, path: string): KmsConfig | undefined {
  if (v === null || v === undefined) return undefined;
  const o = fields(v, path, ['apiVersion', 'name', 'endpoint', 'cachesize', 'timeout']);
  const apiVersion = str(o['apiVersion'], `${path}.apiVersion`) || 'v1';
  const k: KmsConfig = {
    apiVersion,
    name: str(o['name'], `${path}.name`),
    endpoint: str(o['endpoint'], `${path}.endpoint`),
    timeoutMs: 3000,
  };
  const cs = o['cachesize'];
  if (cs !== undefined && cs !== null) {
    if (typeof cs !== 'number' || !Number.isInteger(cs) || cs < -(2 ** 31) || cs >= 2 ** 31) {
      throw parseError(`${path}.cachesize: expected a 32-bit integer`);
    }
    k.cachesize = cs;
  } else if (apiVersion === 'v1') {
    k.cachesize = 1000;
  }
  const t = o['timeout'];
  if (t !== undefined && t !== null) {
    if (typeof t !== 'string') throw parseError(`${path}.timeout: expected a duration such as "3s"`);
    // Go's time.ParseDuration (metav1.Duration): no plain numbers, no days; a negative value is
    // parsed here and reported by validate() as not positive, as the apiserver does.
    try {
      k.timeoutMs = parseDuration(t, { field: `${path}.timeout`, unit: 'ms', allowNegative: true, plainNumber: false, days: false });
    } catch (err) {
      if (isArcaError(err)) throw parseError(err.message);
      throw err;
    }
  }
  return k;
}

function providerOf(v: unknown, path: string): ProviderConfig {
  const o = fields(v, path, ['aesgcm', 'aescbc', 'secretbox', 'identity', 'kms']);
  const p: ProviderConfig = {};
  const gcm = keysOf(o['aesgcm'], `${path}.aesgcm`);
  if (gcm) p.aesgcm = gcm;
  const cbc = keysOf(o['aescbc'], `${path}.aescbc`);
  if (cbc) p.aescbc = cbc;
  const sb = keysOf(o['secretbox'], `${path}.secretbox`);
  if (sb) p.secretbox = sb;
  if (o['identity'] !== undefined && o['identity'] !== null) {
    fields(o['identity'], `${path}.identity`, []);
    p.identity = {};
  }
  const kms = kmsOf(o['kms'], `${path}.kms`);
  if (kms) p.kms = kms;
  return p;
}

/** Parses (no validation) and applies defaults. Throws ERR_ENCCONFIG_PARSE. */
export function parseEncryptionConfig(text: string): EncryptionConfiguration {
  if (text.length === 0) throw parseError('encryption provider config file is empty');
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) throw parseError(`cannot parse: ${doc.errors[0]!.message.split('\n')[0]}`);
  let raw: unknown;
  try {
    // toJS resolves aliases: an unresolved one, or an alias bomb past maxAliasCount, throws here.
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw parseError(`cannot parse: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isObj(raw)) throw parseError('expected an EncryptionConfiguration object');
  const kind = raw['kind'];
  const apiVersion = raw['apiVersion'];
  if (typeof kind !== 'string' || kind === '') throw parseError("Object 'Kind' is missing");
  if (typeof apiVersion !== 'string' || apiVersion === '') throw parseError("Object 'apiVersion' is missing");
  if (!KNOWN_GVK.has(`${apiVersion}|${kind}`)) {
    throw parseError(`no kind "${kind}" is registered for version "${apiVersion}": use apiserver.config.k8s.io/v1 EncryptionConfiguration`);
  }
  const o = fields(raw, '', ['kind', 'apiVersion', 'resources']);
  return {
    kind,
    apiVersion,
    resources: list(o['resources'], 'resources', (r, p) => {
      const ro = fields(r, p, ['resources', 'providers']);
      return {
        resources: list(ro['resources'], `${p}.resources`, (s, sp) => str(s, sp)),
        providers: list(ro['providers'], `${p}.providers`, providerOf),
      };
    }),
  };
}

/**
 * ACL policy store (`sys/policies/acl/*`, legacy `sys/policy/*`) and the authorizer the core uses.
 * Policies are stored inside the barrier at `sys/policy/<name>` as their original text; compiled
 * ACLs are cached per policy set and dropped on any policy change.
 */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { type EngineRouter, ignoredFieldsResponse, parseFields } from '../../engines/index.ts';
import { Acl, DEFAULT_POLICY_NAME, DEFAULT_POLICY_TEXT, parsePolicy, type Policy } from '../../policy/index.ts';
import { StorageView, type Storage } from '../../storage/index.ts';
import type { Authorizer } from '../authz.ts';
import type { SystemExtension } from './system.ts';

const WriteFields = z.object({ policy: z.string().optional(), rules: z.string().optional() });

const enc = new TextEncoder();
const dec = new TextDecoder();

export class PolicyStore implements SystemExtension {
  readonly #s: () => Storage;
  #cache = new Map<string, Acl>();
  /** One Authorizer per cached Acl: the core keys per-authorizer state (its `can` function) on it. */
  readonly #authorizers = new WeakMap<Acl, Authorizer>();

  /** `storage` resolves the barrier lazily (the store outlives seal/unseal cycles). */
  constructor(storage: () => Storage) {
    this.#s = () => new StorageView(storage(), 'sys/policy/');
  }

  async #text(name: string): Promise<string | undefined> {
    if (name === DEFAULT_POLICY_NAME) {
      const b = await this.#s().get(name);
      return b ? dec.decode(b) : DEFAULT_POLICY_TEXT;
    }
    const b = await this.#s().get(name);
    return b ? dec.decode(b) : undefined;
  }

  /** Drops compiled ACLs (another replica may have changed policies). */
  invalidate(): void {
    this.#cache.clear();
  }

  async names(): Promise<string[]> {
    const stored = await this.#s().list('');
    return [...new Set([DEFAULT_POLICY_NAME, ...stored, 'root'])].sort();
  }

  async authorizer(policies: string[]): Promise<Authorizer> {
    const key = [...new Set(policies)].sort().join(',');
    let acl = this.#cache.get(key);
    if (!acl) {
      const docs: Policy[] = [];
      for (const n of policies) {
        const t = await this.#text(n);
        if (t !== undefined) docs.push(parsePolicy(n, t));
      }
      acl = new Acl(docs);
      if (this.#cache.size > 1000) this.#cache.clear();
      this.#cache.set(key, acl);
    }
    let az = this.#authorizers.get(acl);
    if (!az) {
      const a = acl;
      az = { capabilities: (path) => a.capabilities(path), isRootPath: (path) => a.isRootPath(path), allows: (path, op, data) => a.allows(path, op, data) };
      if (a.hasControlGroups) az.controlGroup = (path, op) => a.controlGroup(path, op);
      this.#authorizers.set(acl, az);
    }
    return az;
  }

  register(router: EngineRouter): void {
    const list = async () => ({ data: { keys: await this.names(), policies: await this.names() } });
    const read = (field: 'policy' | 'rules') => async (_r: unknown, p: Record<string, string>) => {
      const name = p['name']!.toLowerCase();
      if (name === 'root') return { data: { name, [field]: '' } };
      const t = await this.#text(name);
      if (t === undefined) throw new ArcaError('ERR_NOT_FOUND', '');
      return { data: { name, [field]: t } };
    };
    // Both paths take `policy` (Vault's current name) or the legacy `rules`; null counts as absent.
    const write = async (r: { data: Record<string, unknown> }, p: Record<string, string>) => {
      const name = p['name']!.toLowerCase();
      const f = parseFields(WriteFields, r.data);
      const text = f.policy ?? f.rules ?? '';
      if (text === '') throw new ArcaError('ERR_INVALID_REQUEST', "'policy' parameter not supplied or empty", { details: { field: 'policy' } });
      parsePolicy(name, text); // validates; throws ERR_INVALID_REQUEST with the reason
      await this.#s().put(name, enc.encode(text));
      this.#cache.clear();
      return ignoredFieldsResponse(WriteFields, r.data);
    };
    const del = async (_r: unknown, p: Record<string, string>) => {
      const name = p['name']!.toLowerCase();
      if (name === 'root' || name === DEFAULT_POLICY_NAME) throw new ArcaError('ERR_INVALID_REQUEST', `cannot delete "${name}" policy`);
      await this.#s().delete(name);
      this.#cache.clear();
      return undefined;
    };
    router
      .add('policies/acl', { list, read: list })
      .add('policies/acl/:name', { read: read('policy'), update: write, delete: del })
      .add('policy', { read: list, list })
      .add('policy/:name', { read: read('rules'), update: write, delete: del });
  }
}

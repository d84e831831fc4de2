/**
 * Effective etcd settings (control-plane-hardening.md §1.5): flag, else ETCD_<UPPER_SNAKE> env, else
 * default; with --config-file every other flag and env var is ignored and the YAML keys apply.
 */
import { parse } from 'yaml';
import type { Flags } from './flags.ts';
import { type Obj, obj } from './manifest.ts';

const TRANSPORT_KEYS = ['cert-file', 'key-file', 'client-cert-auth', 'trusted-ca-file', 'auto-tls'];

function yamlKey(flag: string): string[] {
  if (flag.startsWith('peer-') && TRANSPORT_KEYS.includes(flag.slice(5))) return ['peer-transport-security', flag.slice(5)];
  if (TRANSPORT_KEYS.includes(flag)) return ['client-transport-security', flag];
  return [flag];
}

export class EtcdSettings {
  private readonly yaml: Obj | undefined;
  constructor(
    private readonly flags: Flags,
    private readonly env: Map<string, string>,
    /** text of the --config-file, when there is one and it could be read */
    configText?: string,
    private readonly configName?: string,
  ) {
    if (configText !== undefined) {
      try {
        this.yaml = obj(parse(configText));
      } catch {
        this.yaml = {};
      }
    }
  }

  get usesConfigFile(): boolean {
    return this.yaml !== undefined;
  }

  private lookup(name: string): [string | undefined, string] {
    if (this.yaml) {
      const path = yamlKey(name);
      let cur: unknown = this.yaml;
      for (const p of path) cur = obj(cur)[p];
      const v = Array.isArray(cur) ? cur.join(',') : cur === undefined || cur === null ? undefined : String(cur);
      return [v, `${this.configName ?? 'etcd config file'}: ${path.join('.')}${v === undefined ? ' absent' : `=${v}`}`];
    }
    if (this.flags.has(name)) return [this.flags.get(name), this.flags.ev(name)];
    const envName = `ETCD_${name.toUpperCase().replace(/-/g, '_')}`;
    const e = this.env.get(envName);
    if (e !== undefined) return [e, `${this.flags.source}: env ${envName}=${e}`];
    return [undefined, this.flags.ev(name)];
  }

  get(name: string): string | undefined {
    return this.lookup(name)[0];
  }
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
  bool(name: string, dflt: boolean): boolean {
    const v = this.get(name);
    if (v === undefined) return dflt;
    return ['1', 't', 'T', 'true', 'TRUE', 'True', ''].includes(v);
  }
  list(name: string): string[] {
    return (this.get(name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  }
  ev(name: string): string {
    return this.lookup(name)[1];
  }
}

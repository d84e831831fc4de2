import { z } from 'zod';
import type { HsmEcKeys } from '../../keys/index.ts';
import type { Logger } from '../../log/index.ts';
import type { Storage } from '../../storage/index.ts';
import { vBool, vDurationIn, vStringList } from '../fields.ts';
import type { SanSet, Subject } from './build.ts';
import { MAX_TTL_SECONDS } from './roles.ts';
import { CaCache, getJson, URLS_KEY, type UrlsConfig } from './store.ts';

export interface PkiState {
  storage: Storage;
  /** Where new CA keys go: the barrier (PKCS#8) or the HSM (non-extractable P-256). */
  keyStorage: 'barrier' | 'hsm';
  hsm: HsmEcKeys | undefined;
  ca: CaCache;
  /** Milliseconds since the epoch. */
  now: () => number;
  log: Logger;
}

export function newState(storage: Storage, now: () => number, log: Logger, keyStorage: 'barrier' | 'hsm' = 'barrier', hsm?: HsmEcKeys): PkiState {
  return { storage, ca: new CaCache(hsm), now, log, keyStorage, hsm };
}

export async function loadUrls(s: PkiState): Promise<UrlsConfig | undefined> {
  return getJson<UrlsConfig>(s.storage, URLS_KEY);
}

/** Subject and SAN fields shared by root/generate, intermediate/generate and sign-intermediate. */
export const subjectFields = {
  common_name: z.string().max(1024).optional(),
  alt_names: vStringList.optional(),
  ip_sans: vStringList.optional(),
  uri_sans: vStringList.optional(),
  organization: vStringList.optional(),
  ou: vStringList.optional(),
  exclude_cn_from_sans: vBool.optional(),
};

export const ttlField = vDurationIn({ max: MAX_TTL_SECONDS });

export interface SubjectInput {
  common_name?: string | undefined;
  alt_names?: string[] | undefined;
  ip_sans?: string[] | undefined;
  uri_sans?: string[] | undefined;
  organization?: string[] | undefined;
  ou?: string[] | undefined;
  exclude_cn_from_sans?: boolean | undefined;
}

/** Vault puts the CN into the DNS (or email) SANs unless exclude_cn_from_sans; only a hostname-shaped CN goes in. */
export function subjectAndSans(b: SubjectInput, isHostname: (n: string) => boolean, extraOrg: string[] = [], extraOu: string[] = []): { subject: Subject; sans: SanSet } {
  const cn = b.common_name ?? '';
  const alt = b.alt_names ?? [];
  const dns = alt.filter((n) => !n.includes('@'));
  const emails = alt.filter((n) => n.includes('@'));
  if (cn && !b.exclude_cn_from_sans) {
    if (cn.includes('@')) {
      if (!emails.includes(cn)) emails.unshift(cn);
    } else if (isHostname(cn) && !dns.some((d) => d.toLowerCase() === cn.toLowerCase())) {
      dns.unshift(cn);
    }
  }
  return {
    subject: { commonName: cn, organization: [...extraOrg, ...(b.organization ?? [])], ou: [...extraOu, ...(b.ou ?? [])] },
    sans: { dns, emails, ips: b.ip_sans ?? [], uris: b.uri_sans ?? [] },
  };
}

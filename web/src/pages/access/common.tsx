// Small pieces shared by the Access sections.
import { ApiError } from '../../api/client.ts';

export interface TokenInfo {
  accessor?: string;
  display_name?: string;
  policies?: string[];
  entity_id?: string;
  ttl?: number;
  expire_time?: string | null;
  creation_time?: number;
  path?: string;
  meta?: Record<string, string> | null;
  renewable?: boolean;
}

export function isForbidden(err: unknown): boolean {
  return err instanceof ApiError && err.status === 403 && err.code === 'ERR_PERMISSION_DENIED';
}

export function Tags({ items, empty = 'none' }: { items: readonly string[] | null | undefined; empty?: string }) {
  if (!items || items.length === 0) return <span className="muted">{empty}</span>;
  return (
    <span className="tags">
      {items.map((p) => (
        <span key={p} className="badge neutral">
          {p}
        </span>
      ))}
    </span>
  );
}

export function TokenFacts({ t }: { t: TokenInfo }) {
  return (
    <dl className="facts">
      <dt>Name</dt>
      <dd>{t.display_name || '—'}</dd>
      <dt>Accessor</dt>
      <dd>
        <code>{t.accessor ?? '—'}</code>
      </dd>
      <dt>Policies</dt>
      <dd>
        <Tags items={t.policies} />
      </dd>
      <dt>Entity</dt>
      <dd>{t.entity_id ? <code>{t.entity_id}</code> : <span className="muted">none</span>}</dd>
      <dt>Created by</dt>
      <dd>{t.path ? <code>{t.path}</code> : '—'}</dd>
      <dt>Expires</dt>
      <dd>{t.expire_time ? new Date(t.expire_time).toLocaleString() : t.ttl ? `in ${t.ttl} s` : 'never'}</dd>
    </dl>
  );
}

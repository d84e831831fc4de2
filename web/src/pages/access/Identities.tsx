// Identities: entities (with their aliases, policies and groups) and groups (with policies and
// members), by name. Read-only here: writes stay with the CLI/API, where they are reviewed.
import { useState } from 'react';
import { api, encodePath } from '../../api/client.ts';
import { Async, useAsync } from '../../components/async.tsx';
import { Tags } from './common.tsx';

interface Entity {
  id: string;
  name: string;
  policies?: string[];
  disabled?: boolean;
  aliases?: { id: string; name: string; mount_path?: string; mount_type?: string }[];
  group_ids?: string[];
}
interface Group {
  id: string;
  name: string;
  type?: string;
  policies?: string[];
  member_entity_ids?: string[];
}

function Expandable({ label, children }: { label: string; children: () => React.ReactNode }) {
  const [open, setOpen] = useState(false);
  return (
    <li>
      <button type="button" className="linkish" aria-expanded={open} onClick={() => setOpen(!open)}>
        {label}
      </button>
      {open ? <div className="card">{children()}</div> : null}
    </li>
  );
}

function EntityDetails({ name, groupNames }: { name: string; groupNames: Map<string, string> }) {
  const s = useAsync(async () => (await api.read<Entity>(`identity/entity/name/${encodePath(name)}`)).data!, [name]);
  return (
    <Async state={s} label="Loading the entity…">
      {(e) => (
        <dl className="facts">
          <dt>ID</dt>
          <dd>
            <code>{e.id}</code> {e.disabled ? <span className="badge bad">disabled</span> : null}
          </dd>
          <dt>Policies</dt>
          <dd>
            <Tags items={e.policies} />
          </dd>
          <dt>Aliases</dt>
          <dd>
            <Tags items={e.aliases?.map((a) => `${a.mount_path ?? a.mount_type ?? '?'}${a.name}`)} />
          </dd>
          <dt>Groups</dt>
          <dd>
            <Tags items={e.group_ids?.map((g) => groupNames.get(g) ?? g)} />
          </dd>
        </dl>
      )}
    </Async>
  );
}

function GroupDetails({ name, entityNames }: { name: string; entityNames: Map<string, string> }) {
  const s = useAsync(async () => (await api.read<Group>(`identity/group/name/${encodePath(name)}`)).data!, [name]);
  return (
    <Async state={s} label="Loading the group…">
      {(g) => (
        <dl className="facts">
          <dt>ID</dt>
          <dd>
            <code>{g.id}</code> <span className="badge neutral">{g.type ?? 'internal'}</span>
          </dd>
          <dt>Policies</dt>
          <dd>
            <Tags items={g.policies} />
          </dd>
          <dt>Members</dt>
          <dd>
            <Tags items={g.member_entity_ids?.map((id) => entityNames.get(id) ?? id)} />
          </dd>
        </dl>
      )}
    </Async>
  );
}

/** id → name for both kinds, so details show names rather than ids. */
async function directory(): Promise<{ entities: string[]; groups: string[]; entityNames: Map<string, string>; groupNames: Map<string, string> }> {
  const [entities, groups] = await Promise.all([api.list('identity/entity/name'), api.list('identity/group/name')]);
  const entityNames = new Map<string, string>();
  const groupNames = new Map<string, string>();
  await Promise.all([
    ...entities.map(async (n) => {
      const e = (await api.read<Entity>(`identity/entity/name/${encodePath(n)}`)).data;
      if (e) entityNames.set(e.id, n);
    }),
    ...groups.map(async (n) => {
      const g = (await api.read<Group>(`identity/group/name/${encodePath(n)}`)).data;
      if (g) groupNames.set(g.id, n);
    }),
  ]);
  return { entities, groups, entityNames, groupNames };
}

export function Identities() {
  const s = useAsync(() => directory(), []);
  return (
    <Async state={s} label="Loading identities…">
      {(d) => (
        <div className="grid">
          <section aria-labelledby="ent-h" className="card">
            <h2 id="ent-h">Entities ({d.entities.length})</h2>
            {d.entities.length === 0 ? <p className="muted">No entity yet: one is created at a person’s first login.</p> : null}
            <ul className="plain">
              {d.entities.map((n) => (
                <Expandable key={n} label={n}>
                  {() => <EntityDetails name={n} groupNames={d.groupNames} />}
                </Expandable>
              ))}
            </ul>
          </section>
          <section aria-labelledby="grp-h" className="card">
            <h2 id="grp-h">Groups ({d.groups.length})</h2>
            {d.groups.length === 0 ? <p className="muted">No group.</p> : null}
            <ul className="plain">
              {d.groups.map((n) => (
                <Expandable key={n} label={n}>
                  {() => <GroupDetails name={n} entityNames={d.entityNames} />}
                </Expandable>
              ))}
            </ul>
          </section>
        </div>
      )}
    </Async>
  );
}

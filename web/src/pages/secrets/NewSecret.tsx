// "New secret" in a folder: a path below it and the first version's values (cas 0: never overwrites).
import { useState } from 'react';
import { Field } from '../../components/ui.tsx';
import { navigate } from '../../router.ts';
import { KvEditor, row } from './Editor.tsx';
import { secretsTo, writeValues } from './kv.ts';

export function NewSecret({ mount, folder, onCancel }: { mount: string; folder: string; onCancel: () => void }) {
  const [name, setName] = useState('');
  const [rows, setRows] = useState(() => [row()]);
  const save = async (data: Record<string, string>) => {
    const rel = name.trim().replace(/^\/+/, '');
    if (!rel || rel.endsWith('/')) throw new Error('Give the secret a path that does not end with "/" (e.g. app/db).');
    await writeValues(mount, folder + rel, data, 0);
    navigate(secretsTo(mount + folder + rel));
  };
  return (
    <section aria-labelledby="new-h">
      <h2 id="new-h">New secret</h2>
      <KvEditor rows={rows} setRows={setRows} saveLabel="Create secret" onSave={save} onCancel={onCancel}>
        <Field label="Path" hint={`Below ${mount}${folder}; folders are made by slashes (app/db).`}>
          {(id) => <input id={id} value={name} autoComplete="off" spellCheck={false} onChange={(e) => setName(e.target.value)} />}
        </Field>
      </KvEditor>
    </section>
  );
}

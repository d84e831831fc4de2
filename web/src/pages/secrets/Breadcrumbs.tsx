// Where we are in a mount's tree: each folder above is a link, the last part is the current page.
import { Link } from '../../components/ui.tsx';
import { secretsTo } from './kv.ts';

export function Breadcrumbs({ mount, rest }: { mount: string; rest: string }) {
  const parts = rest.split('/').filter(Boolean);
  const crumbs = [{ label: mount, to: secretsTo(mount) }];
  let acc = '';
  parts.forEach((p, i) => {
    const folder = i < parts.length - 1 || rest.endsWith('/');
    acc += folder ? `${p}/` : p;
    crumbs.push({ label: folder ? `${p}/` : p, to: secretsTo(mount + acc) });
  });
  return (
    <nav aria-label="Breadcrumb" className="crumbs">
      <ol>
        <li>
          <Link to="secrets">Mounts</Link>
        </li>
        {crumbs.map((c, i) =>
          i === crumbs.length - 1 ? (
            <li key={c.to} aria-current="page">
              {c.label}
            </li>
          ) : (
            <li key={c.to}>
              <Link to={c.to}>{c.label}</Link>
            </li>
          ),
        )}
      </ol>
    </nav>
  );
}

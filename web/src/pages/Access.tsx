// Access: policies (edit with the server's validation), tokens, identities and auth methods. Each
// section is its own route (access/policies[/name], access/tokens, ...), so links and reloads work.
import { Link, Page } from '../components/ui.tsx';
import { useRoute } from '../router.ts';
import { AuthMethods } from './access/AuthMethods.tsx';
import { Identities } from './access/Identities.tsx';
import { Policies } from './access/Policies.tsx';
import { Tokens } from './access/Tokens.tsx';
import './access/access.css';

const SECTIONS = [
  { path: 'policies', label: 'Policies' },
  { path: 'tokens', label: 'Tokens' },
  { path: 'identities', label: 'Identities' },
  { path: 'auth', label: 'Auth methods' },
] as const;

export function Access() {
  const route = useRoute();
  const [, section = 'policies', ...rest] = route.path.split('/');
  return (
    <Page title="Access">
      <nav aria-label="Access sections" className="subnav">
        <ul>
          {SECTIONS.map((s) => (
            <li key={s.path}>
              <SectionLink to={`access/${s.path}`} current={s.path === section}>
                {s.label}
              </SectionLink>
            </li>
          ))}
        </ul>
      </nav>
      {section === 'tokens' ? <Tokens /> : section === 'identities' ? <Identities /> : section === 'auth' ? <AuthMethods /> : <Policies name={rest.length ? rest.join('/') : undefined} />}
    </Page>
  );
}

function SectionLink({ to, current, children }: { to: string; current: boolean; children: React.ReactNode }) {
  return current ? (
    <a href={`/ui/${to}`} aria-current="page" onClick={(e) => e.preventDefault()}>
      {children}
    </a>
  ) : (
    <Link to={to}>{children}</Link>
  );
}

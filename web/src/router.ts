// Client-side routes are real paths under /ui/ (the server answers index.html for each), so a
// reload or a shared link opens the same page. navigate() pushes history; useRoute() re-renders.
import { useEffect, useState } from 'react';

export const BASE = '/ui/';

export interface Route {
  /** Path below /ui/, without a leading slash: "secrets/secret/app/db". */
  path: string;
  query: URLSearchParams;
}

function current(): Route {
  const p = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '';
  return { path: decodeURIComponent(p), query: new URLSearchParams(location.search) };
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => {
  for (const l of listeners) l();
});

/** Goes to a UI path ("keys/k8s-kek", "secrets?q=db"). */
export function navigate(to: string, replace = false): void {
  const url = BASE + to.replace(/^\/+/, '');
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  for (const l of listeners) l();
}

export function useRoute(): Route {
  const [r, setR] = useState(current);
  useEffect(() => {
    const l = () => setR(current());
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return r;
}

/** The href for a UI path, for <a> elements (so middle-click and copy-link work). */
export function href(to: string): string {
  return BASE + to.replace(/^\/+/, '');
}

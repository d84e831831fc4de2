// Loading and error states for every server call: a page renders <Async> around what it fetched, so
// a slow, sealed, unreachable or refusing server always says so in words.
import { type DependencyList, type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/client.ts';

export type AsyncState<T> =
  | { status: 'loading'; data?: undefined; error?: undefined }
  | { status: 'error'; data?: undefined; error: unknown }
  | { status: 'ok'; data: T; error?: undefined };

/** Runs `fn` when `deps` change; `reload()` runs it again. Stale answers are dropped. */
export function useAsync<T>(fn: (signal: AbortSignal) => Promise<T>, deps: DependencyList): AsyncState<T> & { reload: () => void } {
  const [state, setState] = useState<AsyncState<T>>({ status: 'loading' });
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  // biome-ignore lint/correctness/useExhaustiveDependencies: deps are the caller's, plus reload ticks
  useEffect(() => {
    const ac = new AbortController();
    setState({ status: 'loading' });
    fnRef.current(ac.signal).then(
      (data) => !ac.signal.aborted && setState({ status: 'ok', data }),
      (error: unknown) => !ac.signal.aborted && setState({ status: 'error', error }),
    );
    return () => ac.abort();
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Words for an error, for people: what happened and what to do. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.unreachable) return err.message;
    if (err.sealed) return 'The Arca server is sealed: unseal it (arca operator unseal) and reload.';
    // Only a policy refusal is "permission denied"; other 403s (wrong password, refused MFA code,
    // invalid token) say what they are themselves.
    if (err.code === 'ERR_PERMISSION_DENIED' || (err.status === 403 && !err.code.startsWith('ERR_'))) {
      return `Permission denied: ${err.message || 'your token’s policies do not allow this.'}`;
    }
    return err.message || `Request failed (${err.status}).`;
  }
  return err instanceof Error ? err.message : String(err);
}

export function ErrorBanner({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <div className="banner error" role="alert">
      <span>{describeError(error)}</span>
      {code && code !== 'NETWORK' ? <code className="code">{code}</code> : null}
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      {label}
    </p>
  );
}

/** Renders children(data) once loaded; a loading line or an error banner with Retry before that. */
export function Async<T>({ state, children, label }: { state: AsyncState<T> & { reload?: () => void }; children: (data: T) => ReactNode; label?: string }) {
  if (state.status === 'loading') return <Loading {...(label ? { label } : {})} />;
  if (state.status === 'error') return <ErrorBanner error={state.error} {...(state.reload ? { onRetry: state.reload } : {})} />;
  return <>{children(state.data)}</>;
}

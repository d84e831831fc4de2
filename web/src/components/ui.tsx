// Small shared building blocks: links that route client-side, page frames, confirmations.
import { type MouseEvent, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { href, navigate } from '../router.ts';
import { ErrorBanner } from './async.tsx';

export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={href(to)} onClick={onClick} {...(className ? { className } : {})}>
      {children}
    </a>
  );
}

/** A table's header row: one column header (`scope="col"`) per label. */
export function TableHead({ cols }: { cols: readonly ReactNode[] }) {
  return (
    <thead>
      <tr>
        {cols.map((c, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the columns of a header are fixed and never reorder
          <th key={i} scope="col">
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}

export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Arca`;
  }, [title]);
  return (
    <section className="page" aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title">{title}</h1>
        {actions ? <div className="actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

/**
 * A button that asks before doing something destructive, in a modal <dialog> (focus is trapped and
 * Escape cancels, by the browser). `onConfirm` errors are shown in the dialog.
 */
export function ConfirmButton(props: {
  label: string;
  title: string;
  body: ReactNode;
  confirmLabel?: string;
  danger?: boolean;
  onConfirm: () => Promise<void>;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const id = useId();
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm();
      ref.current?.close();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className={props.danger ? 'danger' : undefined} onClick={() => ref.current?.showModal()}>
        {props.label}
      </button>
      <dialog ref={ref} aria-labelledby={`${id}-t`} onClose={() => setError(null)}>
        <h2 id={`${id}-t`}>{props.title}</h2>
        <div>{props.body}</div>
        {error ? <ErrorBanner error={error} /> : null}
        <div className="actions">
          <button type="button" onClick={() => ref.current?.close()}>
            Cancel
          </button>
          <button type="button" className={props.danger ? 'danger' : 'primary'} disabled={busy} onClick={run}>
            {props.confirmLabel ?? props.label}
          </button>
        </div>
      </dialog>
    </>
  );
}

/** A labelled form field: the label is always visible and tied to the input. */
export function Field({ label, children, hint }: { label: string; hint?: string; children: (id: string) => ReactNode }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id)}
      {hint ? <small>{hint}</small> : null}
    </div>
  );
}

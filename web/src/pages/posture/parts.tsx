// Small shared pieces of the Posture page: a badge that says its meaning in words (never colour
// alone), a verdict line, and the section frame that shows a report's own load error.
import type { ReactNode } from 'react';
import { ErrorBanner } from '../../components/async.tsx';
import type { Tone, Verdict } from './derive.ts';
import { formatTime } from './derive.ts';
import type { Got } from './load.ts';

export function Badge({ tone, children }: { tone: Tone; children: ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}

const TONE_WORD: Record<Tone, string> = { bad: 'Problem', warn: 'Warning', ok: 'OK', neutral: 'Unknown' };
const BANNER: Record<Tone, string> = { bad: 'error', warn: 'warn', ok: 'ok', neutral: 'neutral' };

export function VerdictLine({ v, headline }: { v: Verdict; headline?: boolean }) {
  return (
    <p className={`banner ${BANNER[v.tone]} verdict${headline ? ' headline' : ''}`}>
      <Badge tone={v.tone}>{TONE_WORD[v.tone]}</Badge>
      <span>{v.text}</span>
    </p>
  );
}

/** A titled card for one report; absent and failed reads say so inside the card. */
export function ReportCard<T>(props: {
  id: string;
  title: string;
  got: Got<T>;
  absent: ReactNode;
  children: (value: T) => ReactNode;
}) {
  const { got } = props;
  return (
    <section className="card posture-card" aria-labelledby={props.id}>
      <h3 id={props.id}>
        {props.title}
        {got.state === 'ok' && got.createdTime ? <small className="muted"> · reported {formatTime(got.createdTime)} (version {got.version})</small> : null}
      </h3>
      {got.state === 'absent' ? <div className="muted">{props.absent}</div> : null}
      {got.state === 'error' ? <ErrorBanner error={got.error} /> : null}
      {got.state === 'ok' ? props.children(got.value) : null}
    </section>
  );
}

/** The commands that produce each report (docs/operations.md §3), shown where one is missing. */
export function Command({ children }: { children: string }) {
  return (
    <pre className="posture-cmd">
      <code>{children}</code>
    </pre>
  );
}

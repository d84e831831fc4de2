// The chain's verification status as an auditor reads it: verified, not proven yet, or tampered.
import { useState } from 'react';
import { ErrorBanner } from '../../components/async.tsx';
import { checkpoint, type Verification } from './api.ts';

export function VerificationBadge({ v, device, onSigned }: { v: Verification; device: string; onSigned: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const sign = async () => {
    setBusy(true);
    setError(null);
    try {
      await checkpoint();
      onSigned();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const counts = `${v.entries} entries, ${v.checkpoints} signed checkpoints${v.chain_restarts ? `, ${v.chain_restarts} declared chain restarts` : ''}`;
  return (
    <div className="card verification" role="status" aria-label="Chain verification">
      {v.status === 'verified' ? (
        <p>
          <span className="badge ok">Verified</span> Every entry of <code>{device}</code> is hash-chained and covered by a signed checkpoint ({counts}).
        </p>
      ) : v.status === 'unproven' ? (
        <p>
          <span className="badge warn">Not proven yet</span> The chain of <code>{device}</code> is intact, but the last {v.unsigned_entries ?? 0} entries come after the last signed checkpoint ({counts}).{' '}
          <button type="button" disabled={busy} onClick={() => void sign()}>
            Sign now
          </button>
        </p>
      ) : v.status === 'tampered' ? (
        <p>
          <span className="badge bad">Tampered</span> The log of <code>{device}</code> fails verification at line {v.problem?.line ?? '?'}
          {v.problem?.seq !== undefined ? ` (seq ${v.problem.seq})` : ''}: {v.problem?.reason ?? 'unknown problem'}. Check it with <code>arca audit verify</code>.
        </p>
      ) : (
        <p>
          <span className="badge neutral">Not checked</span> The file is too large to verify here: run <code>arca audit verify</code> on it.
        </p>
      )}
      {error ? <ErrorBanner error={error} /> : null}
    </div>
  );
}

/**
 * `arca kms rotate`: KEK rotation as a resumable state machine. Steps, each recorded in the state
 * file before the next starts:
 *   rotate-key   rotate the transit key (fromVersion is saved BEFORE the call, so a crash right after
 *                it is recognised on resume by latest > fromVersion and the key is not rotated twice)
 *   wait-plugins every KMS plugin socket reports the new version's key_id in Status
 *   rewrite      `etcd rewrite` of every stale object (CAS per key, paced, its own page-level resume)
 *   verify       `etcd scan` over the covered resources: zero stale, plaintext and undecryptable;
 *                otherwise the step goes back to rewrite
 *   retire       (only with --retire, only after the proof) min_decryption_version = new version
 * A failure throws RotateStepError naming the step; the state stays at that step.
 */
import { type RotationState, STEPS, type StepName, writeRotationState } from './state.ts';

export interface KeyInfo {
  latest: number;
  minDecryption: number;
  /** version → key_id (transit version id) */
  versionIds: Record<string, string>;
}

export interface RewriteResult {
  scanned: number;
  rewritten: number;
  failed: number;
  undecryptable: number;
  [k: string]: number | string | undefined;
}

export interface ScanCounts {
  total: number;
  plaintext: number;
  current: number;
  stale: number;
  undecryptable: number;
}

/** What the machine drives; the CLI wires real clients, nothing here does I/O itself. */
export interface RotateDeps {
  readKey(): Promise<KeyInfo>;
  rotateKey(): Promise<void>;
  setMinDecryption(version: number): Promise<void>;
  /** sockets and the key_id each reports now (errors as a reason string) */
  pluginKeyIds(): Promise<{ socket: string; keyId?: string; error?: string }[]>;
  rewrite(resume: boolean): Promise<RewriteResult>;
  scan(): Promise<ScanCounts>;
  log(line: string): void;
  sleep(ms: number): Promise<void>;
}

export interface RotateOptions {
  stateFile: string;
  retire: boolean;
  /** how long to wait for plugins to report the new key_id */
  pluginWaitMs: number;
  pollMs: number;
  now?: () => number;
}

export class RotateStepError extends Error {
  constructor(
    readonly step: StepName,
    readonly reason: string,
  ) {
    super(`step ${step} failed: ${reason}`);
  }
}

const TOTAL = STEPS.length - 1;
const label = (s: StepName) => `[${STEPS.indexOf(s) + 1}/${TOTAL}] ${s}`;

export async function runRotation(state: RotationState, deps: RotateDeps, o: RotateOptions): Promise<RotationState> {
  const save = async (next: Partial<RotationState>) => {
    Object.assign(state, next);
    await writeRotationState(o.stateFile, state);
  };
  const now = o.now ?? Date.now;
  while (state.step !== 'done') {
    const step = state.step;
    try {
      switch (step) {
        case 'rotate-key':
          await rotateKey(state, deps, save);
          break;
        case 'wait-plugins':
          await waitPlugins(state, deps, o, now, save);
          break;
        case 'rewrite': {
          deps.log(`${label(step)}: re-encrypting stale objects (resumable per page)`);
          const r = await deps.rewrite(true);
          deps.log(`${label(step)}: rewrote ${r.rewritten} of ${r.scanned} (undecryptable ${r.undecryptable}, failed ${r.failed})`);
          const counts: Record<string, number> = {};
          for (const [k, v] of Object.entries(r)) if (typeof v === 'number') counts[k] = v;
          if (r.undecryptable > 0) throw new RotateStepError(step, `${r.undecryptable} values no configured provider can decrypt; see arca etcd scan`);
          if (r.failed > 0) throw new RotateStepError(step, `${r.failed} values kept changing under concurrent writes`);
          await save({ step: 'verify', rewrite: counts });
          break;
        }
        case 'verify': {
          deps.log(`${label(step)}: scanning covered resources`);
          const c = await deps.scan();
          deps.log(`${label(step)}: ${c.total} values: ${c.current} current, ${c.stale} stale, ${c.plaintext} plaintext, ${c.undecryptable} undecryptable`);
          if (c.stale || c.plaintext || c.undecryptable) {
            // a writer may have used the old key_id before every apiserver saw the rotation: rewrite again
            await save({ step: 'rewrite' });
            throw new RotateStepError(step, `${c.stale} stale, ${c.plaintext} plaintext, ${c.undecryptable} undecryptable values remain; the old version stays decryptable`);
          }
          await save({ step: state.retired || !o.retire ? 'done' : 'retire', proof: c });
          if (!o.retire) deps.log(`${label(step)}: proof recorded; v${state.fromVersion} stays decryptable (run again with --resume --retire to retire it)`);
          break;
        }
        case 'retire': {
          if (!state.proof || state.proof.stale || state.proof.plaintext || state.proof.undecryptable || !state.toVersion) {
            await save({ step: 'verify' });
            throw new RotateStepError(step, 'no scan proof of zero stale and zero plaintext values; verify first');
          }
          const k = await deps.readKey();
          if (k.latest !== state.toVersion) {
            throw new RotateStepError(step, `the key was rotated again meanwhile (latest v${k.latest}, proof is for v${state.toVersion}); run a new rotation`);
          }
          if (k.minDecryption < state.toVersion) await deps.setMinDecryption(state.toVersion);
          deps.log(`${label(step)}: min_decryption_version = ${state.toVersion}; versions below can no longer decrypt`);
          await save({ step: 'done', retired: true });
          break;
        }
      }
    } catch (err) {
      if (err instanceof RotateStepError) throw err;
      const e = err as { code?: string; message?: string };
      throw new RotateStepError(step, `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`);
    }
  }
  deps.log(`done: key v${state.fromVersion} → v${state.toVersion}${state.retired ? ', old versions retired' : ''}`);
  return state;
}

async function rotateKey(state: RotationState, deps: RotateDeps, save: (s: Partial<RotationState>) => Promise<void>): Promise<void> {
  if (state.fromVersion === undefined) {
    const before = await deps.readKey();
    await save({ fromVersion: before.latest });
  }
  let k = await deps.readKey();
  if (k.latest > state.fromVersion!) deps.log(`${label('rotate-key')}: already rotated to v${k.latest} (resumed)`);
  else {
    await deps.rotateKey();
    k = await deps.readKey();
    if (k.latest <= state.fromVersion!) throw new RotateStepError('rotate-key', 'the server did not create a new version');
    deps.log(`${label('rotate-key')}: v${state.fromVersion} → v${k.latest}`);
  }
  const newKeyId = k.versionIds[String(k.latest)];
  if (!newKeyId) throw new RotateStepError('rotate-key', `the server lists no version id for v${k.latest}`);
  await save({ step: 'wait-plugins', toVersion: k.latest, newKeyId });
}

async function waitPlugins(state: RotationState, deps: RotateDeps, o: RotateOptions, now: () => number, save: (s: Partial<RotationState>) => Promise<void>): Promise<void> {
  const deadline = now() + o.pluginWaitMs;
  let last = '';
  for (;;) {
    const st = await deps.pluginKeyIds();
    const behind = st.filter((p) => p.keyId !== state.newKeyId);
    const line = behind.map((p) => `${p.socket}: ${p.error ?? `key_id ${p.keyId}`}`).join('; ');
    if (!behind.length) {
      deps.log(`${label('wait-plugins')}: ${st.length} plugin(s) report the new key_id`);
      await save({ step: 'rewrite' });
      return;
    }
    if (line !== last) deps.log(`${label('wait-plugins')}: waiting for ${line}`);
    last = line;
    if (now() >= deadline) throw new RotateStepError('wait-plugins', `still not on the new key_id after ${Math.round(o.pluginWaitMs / 1000)} s: ${line}`);
    await deps.sleep(o.pollMs);
  }
}

/** The plan printed by --dry-run. */
export function plan(key: KeyInfo, plugins: { socket: string; keyId?: string; error?: string }[], covered: string[], counts: ScanCounts, retire: boolean): string[] {
  return [
    `${label('rotate-key')}: rotate the transit key: v${key.latest} → v${key.latest + 1} (min_decryption_version now ${key.minDecryption})`,
    `${label('wait-plugins')}: wait until ${plugins.length} plugin(s) report the new key_id (now: ${plugins.map((p) => `${p.socket} ${p.error ?? p.keyId}`).join(', ') || 'none'})`,
    `${label('rewrite')}: rewrite stale objects of [${covered.join(', ')}] (${counts.total} values now: ${counts.current} current, ${counts.stale} stale, ${counts.plaintext} plaintext)`,
    `${label('verify')}: etcd scan must show zero stale, plaintext and undecryptable values`,
    retire ? `${label('retire')}: min_decryption_version = v${key.latest + 1}` : `${label('retire')}: skipped (no --retire); v${key.latest} stays decryptable`,
  ];
}

/** Every check of control-plane-hardening.md §2, in catalogue order, and the runner. */
import { API_CHECKS } from './checks-api.ts';
import { ENC_CHECKS } from './checks-enc.ts';
import { ETCD_CHECKS } from './checks-etcd.ts';
import { HOST_CHECKS } from './checks-host.ts';
import { CMS_CHECKS, KUB_CHECKS } from './checks-node.ts';
import type { CheckDef } from './check-def.ts';
import type { CheckContext } from './context.ts';
import type { Finding } from './types.ts';

export const CATALOGUE: readonly CheckDef[] = [...ENC_CHECKS, ...ETCD_CHECKS, ...API_CHECKS, ...CMS_CHECKS, ...KUB_CHECKS, ...HOST_CHECKS];

/** Runs every check; a live probe's findings replace the static verdict of the same id. */
export async function runChecks(ctx: CheckContext, only?: (id: string) => boolean): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const c of CATALOGUE) {
    if (only && !only(c.id)) continue;
    const live = ctx.live.filter((f) => f.id === c.id);
    if (live.length && c.id === 'CPH-ENC-07') {
      out.push(...live);
      continue;
    }
    let v: Awaited<ReturnType<CheckDef['run']>>;
    try {
      v = await c.run(ctx);
    } catch (err) {
      // one broken input must not hide the other findings
      v = { status: 'warn', evidence: `check could not run: ${(err as { code?: string }).code ?? (err instanceof Error ? err.name : 'error')}` };
    }
    out.push({ id: c.id, status: v.status, severity: v.severity ?? c.severity, evidence: v.evidence, fix: c.fix });
    out.push(...live);
  }
  if (!only) out.push(...inputFindings(ctx));
  return out;
}

/**
 * Inputs that could not be read and stray arguments (`--bool false` is true plus a positional the
 * component ignores) are reported apart from check results: "input not found" is not "fail".
 */
export function inputFindings(ctx: CheckContext): Finding[] {
  const out: Finding[] = ctx.problems.map((p) => ({
    id: INPUT_ID,
    status: 'warn' as const,
    severity: 'info' as const,
    evidence: p,
    fix: 'check the path given on the command line, or run on the host with read access',
  }));
  for (const d of ctx.drift) {
    out.push({
      id: INPUT_ID,
      status: 'warn',
      severity: 'medium',
      evidence: d,
      fix: 'the running component is not what the manifest says: fix the manifest (the kubelet keeps the old pod while a changed manifest is broken) and check the kubelet log',
    });
  }
  for (const c of [ctx.apiserver, ctx.etcd, ctx.kcm, ctx.scheduler]) {
    for (const s of c?.flags.parsed.stray ?? []) {
      out.push({
        id: INPUT_ID,
        status: 'warn',
        severity: 'low',
        evidence: `${c!.flags.source}: stray argument "${s.arg}"${s.after ? ` after boolean --${s.after} (it stays true)` : ''}`,
        fix: s.after ? `write --${s.after}=${s.arg}` : 'remove the stray argument',
      });
    }
  }
  return out;
}

/** id of findings about the inputs themselves (not a catalogue check) */
export const INPUT_ID = 'CPH-INPUT';

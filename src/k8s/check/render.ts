/** Output of the check: table, JSON (`{"findings":[...]}`), JUnit XML (one testcase per finding). */
import type { Finding } from './types.ts';

export function toJson(findings: readonly Finding[]): string {
  return `${JSON.stringify({ findings: findings.map(({ id, status, severity, evidence, fix }) => ({ id, status, severity, evidence, fix })) }, null, 2)}\n`;
}

function xmlEscape(s: string): string {
  // also drops characters XML 1.0 cannot carry at all
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

export function toJunit(findings: readonly Finding[], suite = 'arca check control-plane'): string {
  const failures = findings.filter((f) => f.status === 'fail').length;
  const skipped = findings.filter((f) => f.status === 'skip').length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(suite)}" tests="${findings.length}" failures="${failures}" skipped="${skipped}">`,
    `  <testsuite name="${xmlEscape(suite)}" tests="${findings.length}" failures="${failures}" errors="0" skipped="${skipped}">`,
  ];
  for (const f of findings) {
    const name = xmlEscape(`${f.id} [${f.severity}]`);
    const open = `    <testcase classname="${xmlEscape(f.id.split('-').slice(0, 2).join('-'))}" name="${name}"`;
    if (f.status === 'pass') lines.push(`${open}>`, `      <system-out>${xmlEscape(f.evidence)}</system-out>`, '    </testcase>');
    else if (f.status === 'skip') lines.push(`${open}>`, `      <skipped message="${xmlEscape(f.evidence)}"/>`, '    </testcase>');
    else if (f.status === 'warn') lines.push(`${open}>`, `      <system-out>warn: ${xmlEscape(f.evidence)}</system-out>`, '    </testcase>');
    else
      lines.push(
        `${open}>`,
        `      <failure type="${xmlEscape(f.severity)}" message="${xmlEscape(f.evidence)}">${xmlEscape(`fix: ${f.fix}`)}</failure>`,
        '    </testcase>',
      );
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

export function toTable(findings: readonly Finding[], verbose = false): string {
  const rows = findings.map((f) => [f.id, f.status.toUpperCase(), f.severity, f.evidence]);
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['ID', 'STATUS', 'SEVERITY'][i]!.length));
  const line = (r: string[]) => `${r.slice(0, 3).map((c, i) => c.padEnd(w[i]!)).join('  ')}  ${r[3]}`;
  const out = [line(['ID', 'STATUS', 'SEVERITY', 'EVIDENCE'])];
  for (const [i, r] of rows.entries()) {
    out.push(line(r));
    const f = findings[i]!;
    if (f.status === 'fail' || verbose) out.push(`${' '.repeat(w[0]! + 2)}fix: ${f.fix}`);
  }
  const count = (s: string) => findings.filter((f) => f.status === s).length;
  out.push('', `${findings.length} checks: ${count('pass')} pass, ${count('fail')} fail, ${count('warn')} warn, ${count('skip')} skip`, '');
  return out.join('\n');
}

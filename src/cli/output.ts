import { stringify } from 'yaml';
import { UsageError } from './exit.ts';

export type OutputFormat = 'json' | 'yaml' | 'table';

export function parseFormat(v: string | undefined, dflt: OutputFormat = 'table'): OutputFormat {
  const f = v ?? dflt;
  if (f === 'json' || f === 'yaml' || f === 'table') return f;
  throw new UsageError(`unknown output format "${f}": use json, yaml or table`);
}

/** Prints a value as JSON, YAML, or a two-column key/value table. */
export function printValue(value: unknown, format: OutputFormat): void {
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  } else if (format === 'yaml') {
    process.stdout.write(stringify(value));
  } else if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    const w = Math.max(3, ...entries.map(([k]) => k.length));
    process.stdout.write(`${'Key'.padEnd(w)}  Value\n${'---'.padEnd(w)}  -----\n`);
    for (const [k, v] of entries) {
      process.stdout.write(`${k.padEnd(w)}  ${typeof v === 'string' ? v : JSON.stringify(v)}\n`);
    }
  } else {
    process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
  }
}

/** Prints rows as an aligned table. */
export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${line(headers)}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}

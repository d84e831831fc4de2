/**
 * `npm run bench [-- name...]`: runs bench/<name>.bench.ts files (all when no name is given).
 * Each module's default export is `async () => void` and prints its figures through lib/report.ts.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${all.join(', ')}\n`);
  process.exit(1);
}
for (const name of wanted.length ? wanted : all) {
  process.stderr.write(`[bench] ${name}\n`);
  const mod = (await import(pathToFileURL(`${here}/${name}.bench.ts`).href)) as { default: () => Promise<void> };
  await mod.default();
}

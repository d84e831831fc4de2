// Bundles `arca agent` into dist/agent/ (ESM, code-split so prom-client and yaml stay lazy) for
// running with plain `node dist/agent/arca-agent.mjs agent …`: no TypeScript loader in memory.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist/agent'), { recursive: true, force: true });
await build({
  entryPoints: { 'arca-agent': join(root, 'src/cli/agent-main.ts') },
  outdir: join(root, 'dist/agent'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  // CommonJS dependencies (pino, commander) call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __arcaCreateRequire } from 'node:module'; const require = __arcaCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});

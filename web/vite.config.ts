// Builds the operator UI into dist/ui, served by `arca server` at /ui/ (src/http/ui-static.ts).
// Assets are content-hashed (long-lived caching); no inline script, so the server's CSP can forbid it.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    // Everything inline-able (data: URIs) would still be allowed by the CSP's img-src, but keep files.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});

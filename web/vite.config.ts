// Builds the browser app into dist/public, which `serve` serves at `/`.
// Runs as part of `npm run build` (and so of `npm ci` through prepare).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  // Preact's automatic JSX runtime; no Babel plugin needed.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/public', import.meta.url)),
    // Old hashed assets stay: a server started before a rebuild keeps
    // serving the page it read, whose assets must still exist. A fresh
    // clone builds once, so nothing piles up there.
    emptyOutDir: false,
    target: 'es2022',
    // No inline scripts or styles: the page's CSP allows 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  logLevel: 'warn',
});

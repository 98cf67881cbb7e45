// Where the benchmarks find the project: its root, the built CLI, and the
// server's own compiled modules (the baselines reuse its code from dist/).
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist/cli/main.js');

/** The import URL of a compiled module, e.g. dist('store/rows.js'). */
export const dist = (path) => pathToFileURL(join(ROOT, 'dist', path)).href;

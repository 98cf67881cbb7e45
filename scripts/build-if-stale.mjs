// `npm test`'s pretest: rebuilds only the parts of dist/ older than their
// sources — the server (tsc + migrations) when src/ changed, the web app
// when web/ changed — so a test run after a small change does not pay for
// a full build. `npm run build` always builds everything.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') t = Math.max(t, newest(p));
    } else t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

function stale(output, ...sources) {
  if (!existsSync(output)) return true;
  const built = statSync(output).mtimeMs;
  return sources.some((s) => (statSync(s).isDirectory() ? newest(s) : statSync(s).mtimeMs) > built);
}

const run = (cmd) => execSync(cmd, { stdio: 'inherit' });
const configs = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
if (stale('dist/cli/main.js', 'src', ...configs)) {
  run('npx tsc -p tsconfig.build.json');
  run('node scripts/copy-migrations.mjs');
  // tsc leaves an up-to-date file untouched: mark the build as done.
  run('touch dist/cli/main.js');
} else console.error('pretest: dist/ is up to date with src/');
if (stale('dist/public/index.html', 'web', 'package-lock.json')) run('npm run build:web');
else console.error('pretest: dist/public is up to date with web/');

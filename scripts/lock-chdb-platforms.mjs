// chdb lists its native builds for every platform as optional dependencies,
// but the registry these machines reach serves only the linux-x64 one, so
// `npm install` leaves the others out of package-lock.json and `npm ci` then
// refuses the lockfile as out of sync. This adds lock entries for the other
// platforms (never fetched here: npm skips them by os/cpu). Run it after any
// `npm install` that rewrites the lockfile; it changes nothing when they are there.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const chdb = lock.packages['node_modules/chdb'];
const platforms = {
  '@chdb/lib-darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  '@chdb/lib-darwin-x64': { os: ['darwin'], cpu: ['x64'] },
  '@chdb/lib-linux-arm64-gnu': { os: ['linux'], cpu: ['arm64'], libc: ['glibc'] },
  '@chdb/lib-linux-x64-gnu': { os: ['linux'], cpu: ['x64'], libc: ['glibc'] },
};
let added = 0;
for (const [name, version] of Object.entries(chdb?.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key] || !platforms[name]) continue;
  lock.packages[key] = { version, ...platforms[name], license: 'Apache-2.0', optional: true };
  added++;
}
if (added > 0) {
  const [root, ...rest] = Object.entries(lock.packages);
  lock.packages = Object.fromEntries([root, ...rest.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
}
console.log(`lock-chdb-platforms: ${added} entr${added === 1 ? 'y' : 'ies'} added`);

// Writes .br and .gz beside each built web asset so `serve` sends them
// precompressed (@fastify/static's preCompressed) instead of compressing
// on every request or sending them raw.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = new URL('../dist/public/', import.meta.url).pathname;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.(js|css|html|svg|json|map)$/.test(name)) yield p;
  }
}

let raw = 0;
let gz = 0;
for (const p of files(root)) {
  const body = readFileSync(p);
  if (body.length < 512) continue;
  const g = gzipSync(body, { level: 9 });
  writeFileSync(`${p}.gz`, g);
  writeFileSync(`${p}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  raw += body.length;
  gz += g.length;
}
console.log(`web: ${(raw / 1024).toFixed(1)} kB, ${(gz / 1024).toFixed(1)} kB gzip`);

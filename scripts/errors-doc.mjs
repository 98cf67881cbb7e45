// Rewrites the table of docs/errors.md from the built error table
// (npm run build first); test/errors.test.ts checks they agree.
import { readFileSync, writeFileSync } from 'node:fs';
import { ERRORS } from '../dist/errors.js';

const file = new URL('../docs/errors.md', import.meta.url);
const doc = readFileSync(file, 'utf8');
const head = doc.slice(0, doc.indexOf('| code | HTTP status | meaning |'));
const rows = Object.entries(ERRORS).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.message} |`);
writeFileSync(file, `${head}| code | HTTP status | meaning |\n| --- | --- | --- |\n${rows.join('\n')}\n`);

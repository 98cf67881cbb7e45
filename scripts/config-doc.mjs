// Rewrites README's config table from the built config schema (npm run build
// first); test/config.test.ts checks they agree.
import { readFileSync, writeFileSync } from 'node:fs';
import { configTableMarkdown } from '../dist/config.js';

const file = new URL('../README.md', import.meta.url);
const readme = readFileSync(file, 'utf8');
const start = readme.indexOf('\n', readme.indexOf('<!-- config-table')) + 1;
const end = readme.indexOf('<!-- /config-table -->');
writeFileSync(file, readme.slice(0, start) + configTableMarkdown() + '\n' + readme.slice(end));

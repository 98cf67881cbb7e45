// docs/errors.md mirrors the error table in src/errors.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../src/errors.js';

describe('error table', () => {
  it('is documented row for row in docs/errors.md', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `(SLUICE_ERR_[A-Z_]+)` \| (\d{3}) \| (.+) \|$/gm)].map((m) => [m[1], Number(m[2]), m[3]]);
    const table = Object.entries(ERRORS).map(([code, e]) => [code, e.status, e.message]);
    expect(documented).toEqual(table);
  });

  it('uses 4xx for client mistakes, 503 for temporary conditions', () => {
    for (const [code, e] of Object.entries(ERRORS)) {
      expect(e.status, code).toBeGreaterThanOrEqual(400);
      if (/OVERLOADED|DISK_FULL|SHUTTING_DOWN|STORE_UNAVAILABLE/.test(code)) expect(e.status, code).toBe(503);
    }
  });
});

import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Three tiers (`npm test` runs all of them, `npm run test:unit` the first):
// - unit: pure code — no engine, no sockets, no child processes
//   (test/unit-guard.ts makes any of those fail the test);
// - integration: the real embedded ClickHouse in temp dirs, real servers,
//   real third-party clients;
// - e2e: the web app in Chromium.
// A test file not listed as unit (or named *.unit.test.ts) is integration:
// a new file is never held to the unit tier's rules by accident.
const UNIT = [
  'test/**/*.unit.test.ts',
  'test/errors.test.ts',
  'test/model/**/*.test.ts',
  'test/patterns/miner.test.ts',
  'test/ingest/normalize.test.ts',
  'test/ingest/syslog-parse.test.ts',
  'test/ingest/batcher.test.ts',
  'test/query/language.test.ts',
  'test/alerts/evaluate.test.ts',
  'test/shipper/lines.test.ts',
  'test/shipper/queue.test.ts',
];
const E2E = ['test/e2e/**/*.test.ts'];

// Under faketime (the date-independence check; scripts/vitest.mjs says how
// it runs) the engine is still slower: timeouts stretch for that.
const FAKETIME = process.env.FAKETIME !== undefined && process.env.LD_PRELOAD?.includes('faketime') === true;
const TIMEOUT_MS = FAKETIME ? 300_000 : 60_000;

// The embedded engine allows one data directory per process, so every test
// file runs in its own forked process (see ../shared/DESIGN.md, "Store").
// Vitest's default is one worker fewer than the CPUs: one on a 2-CPU
// machine, where most files wait on servers, child processes and Chromium
// rather than compute. Two workers there took the suite from 356 s to 266 s
// (three: 276 s, the CPUs were then the limit).
const WORKERS = Math.max(2, availableParallelism() - 1);

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: WORKERS,
    globalSetup: ['test/global-setup.ts'],
    testTimeout: TIMEOUT_MS,
    hookTimeout: TIMEOUT_MS,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT, setupFiles: ['test/unit-guard.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: [...UNIT, ...E2E] } },
      { extends: true, test: { name: 'e2e', include: E2E } },
    ],
  },
});

import { defineConfig } from 'vitest/config';

// The embedded engine allows one data directory per process, so every test
// file runs in its own forked process (see ../shared/DESIGN.md, "Store").
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

import { defineConfig } from 'vitest/config';

// Each test file runs in its own process: the embedded ClickHouse engine binds one data
// directory per process, and integration files each open their own.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'detectors/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/fast-check-seed.ts'],
  },
});

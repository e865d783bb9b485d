import { defineConfig } from 'vitest/config';

// The end-to-end suite: one real VS Code, steps in order, generous timeouts (the first run installs code-server).
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 900_000,
    pool: 'forks',
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});

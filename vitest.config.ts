import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/fault/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // expect.poll waits for a later fetch; on a loaded machine that takes more than its default second.
    expect: { poll: { timeout: 30_000 } },
    // Integration and fault tests start processes and write real files; two workers fit 2 cores.
    maxWorkers: 2,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Console pages are TSX rendered by preact (tsconfig says the same for tsc and tsx).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  test: {
    // Temporal's native worker and test servers want a process of their own per file.
    pool: 'forks',
    // One file at a time: several files start their own Temporal dev servers, whose ports are
    // picked free-then-bound (a race between files) and whose first workflow tasks starved under
    // two cores' worth of parallel load. Sequential files cost wall time, not flakiness.
    fileParallelism: false,
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx', 'connectors/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]] : ['default'],
  },
});

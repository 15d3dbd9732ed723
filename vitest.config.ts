import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native worker and test servers want a process of their own per file.
    pool: 'forks',
    include: ['test/**/*.test.ts', 'connectors/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]] : ['default'],
  },
});

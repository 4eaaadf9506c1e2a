import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Remote and ZooKeeper suites spawn real processes and bind real ports: forks keep them isolated.
    pool: 'forks',
    reporters: ['default'],
  },
});

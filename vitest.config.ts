import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Remote and ZooKeeper suites spawn real processes and bind real ports: forks keep them isolated.
    pool: 'forks',
    reporters: ['default'],
    // Tests provoke failures on purpose; their log lines would bury the report. Set it to debug a test.
    env: { FLINK_RPC_LOG_LEVEL: process.env.FLINK_RPC_LOG_LEVEL ?? 'silent' },
  },
});

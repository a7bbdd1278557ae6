import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  // The renderer imports the contract as @shared; its pure modules are tested here too.
  resolve: { alias: { '@shared': resolve(__dirname, 'src/shared') } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: integration tests each run an anvil, so keep the file parallelism low.
    maxWorkers: 2,
    // One throwaway PostgreSQL for the run's PostgreSQL tests (they skip, with the reason printed, where it cannot start).
    globalSetup: ['test/setup/postgres.ts'],
  },
})

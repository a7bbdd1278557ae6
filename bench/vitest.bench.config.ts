/**
 * Benchmarks run through Vitest's runner only because it executes the TypeScript sources
 * as they are (no build step, no extra dependency). They are not tests: `npm test` never
 * includes bench/, and a benchmark fails only when its result is wrong (lost or corrupted
 * data), never because it was slow. One file at a time, in one forked worker, so the
 * benchmark has the machine to itself.
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['bench/**/*.bench.ts'],
    // Half an hour by default: run on its own with `npm run bench:soak` (vitest.soak.config.ts).
    exclude: ['bench/soak.bench.ts'],
    environment: 'node',
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    // Lets a benchmark start each phase from a collected heap (globalThis.gc).
    execArgv: ['--expose-gc'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    // Results go straight to the terminal as they are printed.
    disableConsoleIntercept: true,
    reporters: ['default'],
  },
})

/**
 * The soak benchmark alone (`npm run bench:soak`): the benchmark runner's settings, with
 * bench/soak.bench.ts, which the default benchmark run leaves out for its length.
 */
import { defineConfig } from 'vitest/config'
import bench from './vitest.bench.config'

export default defineConfig({ ...bench, test: { ...bench.test, include: ['bench/soak.bench.ts'], exclude: [] } })

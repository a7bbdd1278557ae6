/**
 * Vitest global setup: one throwaway PostgreSQL for the whole run (test/helpers/throwaway-postgres.ts),
 * its superuser URL provided to the tests as `postgres`. Where it cannot be started, one line says
 * why and the PostgreSQL tests skip (test/helpers/postgres-test-database.ts), unless
 * TIDEWATCH_REQUIRE_POSTGRES=1 (CI, which installs the package): then the run fails instead.
 */
import type { TestProject } from 'vitest/node'
import { PostgresUnavailable, startThrowawayPostgres } from '../helpers/throwaway-postgres'

export type PostgresForTests = { url: string } | { skipReason: string }

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: PostgresForTests
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  try {
    const server = await startThrowawayPostgres()
    console.log(`PostgreSQL ${server.version} for the PostgreSQL tests on 127.0.0.1:${server.port}`)
    project.provide('postgres', { url: server.url })
    return () => server.stop()
  } catch (error) {
    if (!(error instanceof PostgresUnavailable)) throw error
    if (process.env.TIDEWATCH_REQUIRE_POSTGRES === '1')
      throw new Error(`TIDEWATCH_REQUIRE_POSTGRES=1, but PostgreSQL cannot start: ${error.message}`, { cause: error })
    console.log(`PostgreSQL tests skip: ${error.message}`)
    project.provide('postgres', { skipReason: error.message })
    return undefined
  }
}

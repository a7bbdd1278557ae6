/**
 * For tests that need PostgreSQL: the throwaway server test/setup/postgres.ts started for the
 * run, and a fresh empty database per test, so tests never see each other's tables.
 */
import crypto from 'node:crypto'
import { Client, escapeIdentifier, escapeLiteral } from 'pg'
import { inject } from 'vitest'

const provided = inject('postgres') ?? { skipReason: 'no PostgreSQL was provided (this Vitest config has no test/setup/postgres.ts)' }

/** Why the PostgreSQL tests skip in this run; undefined when a server runs. For `describe.skipIf`. */
export const postgresSkipReason: string | undefined = 'skipReason' in provided ? provided.skipReason : undefined

/** The throwaway server's superuser URL (password included). Only call it in tests that skip without one. */
export function postgresAdminUrl(): string {
  if (!('url' in provided)) throw new Error(`PostgreSQL is not running for this test run: ${provided.skipReason}`)
  return provided.url
}

/** `url` with its database (and, when given, its user and password) replaced. */
export function withDatabase(url: string, database: string, credentials?: { user: string; password?: string }): string {
  const next = new URL(url)
  next.pathname = `/${encodeURIComponent(database)}`
  if (credentials) {
    next.username = encodeURIComponent(credentials.user)
    next.password = credentials.password === undefined ? '' : encodeURIComponent(credentials.password)
  }
  return next.href
}

/** Runs statements as the superuser on the server's `postgres` database. */
export async function asSuperuser<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: postgresAdminUrl() })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

export interface TestDatabase {
  /** The superuser's URL to this database. */
  url: string
  name: string
  /** Drops the database, ending any session still in it. */
  drop(): Promise<void>
}

export interface TestDatabaseOptions {
  /**
   * An ICU locale for the database's default collation (its lower(), upper() and ordering of
   * text), where the run's server (initdb --locale=C) would give C's: to check that what the
   * store reads does not depend on the server's locale. Needs a server built with ICU.
   */
  icuLocale?: string
}

export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const name = `tidewatch_test_${crypto.randomBytes(6).toString('hex')}`
  const locale = options.icuLocale === undefined ? '' : ` TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE ${escapeLiteral(options.icuLocale)}`
  await asSuperuser((client) => client.query(`CREATE DATABASE ${escapeIdentifier(name)}${locale}`))
  return {
    url: withDatabase(postgresAdminUrl(), name),
    name,
    drop: () => asSuperuser((client) => client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`)).then(() => undefined),
  }
}

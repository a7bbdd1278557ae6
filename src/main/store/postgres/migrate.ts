/**
 * Applies the PostgreSQL store's pending migrations (migrations.ts), each inside its own
 * transaction and recorded in `schema_migrations`, as the SQLite store does. Several
 * Tidewatch processes may open one store at the same moment (capturers and viewers on
 * servers): they take turns under a session advisory lock, so exactly one applies each
 * version and the others find it recorded. A store migrated by a newer Tidewatch is refused
 * rather than written with an older idea of its tables.
 */
import type { Pool, PoolClient } from 'pg'
import type { PostgresMigration } from './migrations'

/** The advisory lock key pair (pg_advisory_lock(int, int)): "tide" in ASCII, then 0 for schema migrations. */
export const MIGRATION_LOCK: readonly [number, number] = [0x74696465, 0]

export class PostgresSchemaTooNew extends Error {
  constructor(
    readonly storeVersion: number,
    readonly knownVersion: number,
  ) {
    super(
      `The PostgreSQL store is at schema version ${storeVersion}, newer than this Tidewatch knows (${knownVersion}); use a Tidewatch at least as new as the one that migrated it.`,
    )
    this.name = 'PostgresSchemaTooNew'
  }
}

/** Applies the migrations not yet recorded, oldest first; returns the versions it applied. */
export async function applyPostgresMigrations(pool: Pool, migrations: readonly PostgresMigration[]): Promise<number[]> {
  const client = await pool.connect()
  let failure: Error | undefined
  try {
    // Taken before anything is read or created: even `CREATE TABLE IF NOT EXISTS` fails when two sessions run it at once.
    await client.query('SELECT pg_advisory_lock($1, $2)', [...MIGRATION_LOCK])
    try {
      return await applyPending(client, migrations)
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [...MIGRATION_LOCK])
    }
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error))
    throw error
  } finally {
    // A connection that failed mid-migration is closed, not pooled (it may still hold the lock or an open transaction).
    client.release(failure)
  }
}

async function applyPending(client: PoolClient, migrations: readonly PostgresMigration[]): Promise<number[]> {
  await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
  )`)
  const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations')
  const applied = new Set(rows.map((row) => row.version))
  const known = Math.max(0, ...migrations.map((migration) => migration.version))
  const storeVersion = Math.max(0, ...applied)
  if (storeVersion > known) throw new PostgresSchemaTooNew(storeVersion, known)

  const ran: number[] = []
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(migration.version)) continue
    await client.query('BEGIN')
    try {
      await client.query(migration.sql)
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [migration.version, migration.name, Date.now()])
      await client.query('COMMIT')
    } catch (error) {
      // A connection that broke mid-migration cannot roll back; closing it (below) ends the transaction as well.
      await client.query('ROLLBACK').catch(() => undefined)
      const detail = error instanceof Error ? error.message : String(error)
      throw new Error(`migration ${migration.version} (${migration.name}) failed and was rolled back: ${detail}`, { cause: error })
    }
    ran.push(migration.version)
  }
  return ran
}

/**
 * The PostgreSQL migrations build SQLite's schema at the same version (column by column,
 * key by key, index by index), apply once even when several processes start together, and
 * roll back a failing step. Runs against the run's throwaway server.
 */
import { Pool, type PoolClient } from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestDatabase, postgresSkipReason, type TestDatabase } from '../../../../test/helpers/postgres-test-database'
import { openDatabase, type Db } from '../database'
import { migrations as sqliteMigrations } from '../migrations'
import { connectPostgres, type PostgresPool } from './database'
import { applyPostgresMigrations, MIGRATION_LOCK, PostgresSchemaTooNew } from './migrate'
import { POSTGRES_BASELINE_VERSION, postgresMigrations } from './migrations'

/** Every version the list holds, oldest first, and the newest. */
const VERSIONS = postgresMigrations.map((migration) => migration.version)
const NEWEST = VERSIONS.at(-1)!

/** SQLite's 0/1 INTEGER columns, BOOLEAN in PostgreSQL. A later migration adding a flag adds it here. */
const FLAG_COLUMNS = new Set([
  'subscriptions.paused',
  'subscriptions.complete',
  'subscriptions.notify',
  'watchlist.notify',
  'events.removed',
  'chain_blocks.canonical',
  'chain_logs.canonical',
  'stream_filters.active',
  'stream_filters.prompt_finality',
])

interface Column {
  name: string
  type: 'integer' | 'text' | 'flag'
  notNull: boolean
  default: string | null
  /** Assigned by the database when not given (SQLite's rowid alias, PostgreSQL's identity). */
  generated: boolean
}
interface Table {
  columns: Column[]
  primaryKey: string[]
  unique: string[][]
  foreignKeys: string[]
  indexes: { name: string; unique: boolean; partial: boolean; columns: string[] }[]
}
type Schema = Record<string, Table>

/** `-1`, `'-1'::integer`, `0` for a flag and `false` all read the same. */
function normalDefault(value: string | null, type: Column['type']): string | null {
  if (value === null) return null
  const bare = value.replace(/::[a-z ]+$/, '').replace(/^'(.*)'$/, '$1')
  if (type === 'flag') return bare === '0' || bare.toLowerCase() === 'false' ? 'false' : 'true'
  return bare
}

function sqliteSchema(db: Db): Schema {
  const schema: Schema = {}
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations'")
    .pluck()
    .all() as string[]
  for (const table of tables) {
    const info = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string; type: string; notnull: number; dflt_value: string | null; pk: number }[]
    const foreignKeys = db.prepare(`PRAGMA foreign_key_list(${table})`).all() as { from: string; table: string; to: string; on_delete: string }[]
    const primaryKey = info
      .filter((column) => column.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((column) => column.name)
    const columns = info.map((column): Column => {
      const type = FLAG_COLUMNS.has(`${table}.${column.name}`) ? 'flag' : column.type === 'INTEGER' ? 'integer' : 'text'
      const rowidAlias = primaryKey.length === 1 && primaryKey[0] === column.name && column.type === 'INTEGER'
      return {
        name: column.name,
        type,
        notNull: column.notnull === 1 || column.pk > 0,
        default: normalDefault(column.dflt_value, type),
        // A rowid alias that is also a foreign key (chain_cursor.connection_id) is given, never assigned.
        generated: rowidAlias && !foreignKeys.some((key) => key.from === column.name),
      }
    })
    const indexList = db.prepare(`PRAGMA index_list(${table})`).all() as { name: string; unique: number; origin: string; partial: number }[]
    const keyColumns = (index: string) =>
      (db.prepare(`PRAGMA index_xinfo(${index})`).all() as { cid: number; name: string | null; key: number }[])
        .filter((column) => column.key === 1)
        .map((column) => (column.cid === -2 ? '(expression)' : (column.name ?? '')))
    schema[table] = {
      columns,
      primaryKey,
      unique: indexList
        .filter((index) => index.origin === 'u')
        .map((index) => keyColumns(index.name))
        .sort(),
      foreignKeys: foreignKeys.map((key) => `FOREIGN KEY (${key.from}) REFERENCES ${key.table}(${key.to}) ON DELETE ${key.on_delete}`).sort(),
      indexes: indexList
        .filter((index) => index.origin === 'c')
        .map((index) => ({ name: index.name, unique: index.unique === 1, partial: index.partial === 1, columns: keyColumns(index.name) }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    }
  }
  return schema
}

async function postgresSchema(pool: PostgresPool): Promise<Schema> {
  const schema: Schema = {}
  const tables = await pool.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name != 'schema_migrations'",
  )
  for (const { name: table } of tables.rows) {
    const info = await pool.query<{ name: string; type: string; nullable: string; default: string | null; identity: string }>(
      `SELECT column_name AS name, data_type AS type, is_nullable AS nullable, column_default AS default, is_identity AS identity
       FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
      [table],
    )
    const constraints = await pool.query<{ type: string; columns: string[]; definition: string }>(
      `SELECT c.contype AS type, pg_get_constraintdef(c.oid) AS definition,
              ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n)::text[] AS columns
       FROM pg_constraint c WHERE c.conrelid = $1::regclass`,
      [table],
    )
    const indexes = await pool.query<{ name: string; unique: boolean; partial: boolean; columns: string[] }>(
      `SELECT i.relname AS name, x.indisunique AS unique, x.indpred IS NOT NULL AS partial,
              ARRAY(SELECT CASE WHEN k.attnum = 0 THEN '(expression)' ELSE a.attname END
                    FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                    LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.n)::text[] AS columns
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
       WHERE x.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`,
      [table],
    )
    const types: Record<string, Column['type']> = { bigint: 'integer', text: 'text', boolean: 'flag' }
    schema[table] = {
      columns: info.rows.map((column) => {
        const type = types[column.type]
        if (!type) throw new Error(`${table}.${column.name} is ${column.type}: the schema comparison knows BIGINT, TEXT and BOOLEAN`)
        return {
          name: column.name,
          type,
          notNull: column.nullable === 'NO',
          default: normalDefault(column.default, type),
          generated: column.identity === 'YES',
        }
      }),
      primaryKey: constraints.rows.find((constraint) => constraint.type === 'p')?.columns ?? [],
      unique: constraints.rows
        .filter((constraint) => constraint.type === 'u')
        .map((constraint) => constraint.columns)
        .sort(),
      foreignKeys: constraints.rows
        .filter((constraint) => constraint.type === 'f')
        .map((constraint) => constraint.definition)
        .sort(),
      indexes: indexes.rows.sort((a, b) => a.name.localeCompare(b.name)),
    }
  }
  return schema
}

async function version(pool: PostgresPool): Promise<number | null> {
  return (await pool.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations')).rows[0]?.version ?? null
}

describe('the PostgreSQL migration list', () => {
  it('starts at the baseline, SQLite’s version then, and names every later version as SQLite does', () => {
    expect(postgresMigrations[0]?.version).toBe(POSTGRES_BASELINE_VERSION)
    expect(sqliteMigrations.some((migration) => migration.version === POSTGRES_BASELINE_VERSION)).toBe(true)
    const later = (list: readonly { version: number; name: string }[]) =>
      list.filter((migration) => migration.version > POSTGRES_BASELINE_VERSION).map(({ version, name }) => ({ version, name }))
    expect(later(postgresMigrations)).toEqual(later(sqliteMigrations))
  })
})

describe.skipIf(postgresSkipReason)('PostgreSQL migrations', () => {
  let database: TestDatabase
  const pools: Pool[] = []
  const held: PoolClient[] = []
  const connect = async () => {
    const pool = await connectPostgres(database.url)
    pools.push(pool)
    return pool
  }

  beforeEach(async () => {
    database = await createTestDatabase()
  })
  afterEach(async () => {
    held.splice(0).forEach((client) => client.release())
    await Promise.all(pools.splice(0).map((pool) => pool.end()))
    await database.drop()
  })

  it('build SQLite’s schema at SQLite’s newest version on an empty database, and apply nothing the second time', async () => {
    const pool = await connect()
    expect(await applyPostgresMigrations(pool, postgresMigrations)).toEqual(VERSIONS)
    const sqlite = openDatabase(':memory:')
    try {
      const sqliteVersion = sqlite.prepare('SELECT max(version) FROM schema_migrations').pluck().get()
      expect(await version(pool)).toBe(sqliteVersion)
      const built = await postgresSchema(pool)
      expect(built).toEqual(sqliteSchema(sqlite))
      expect(Object.keys(built).sort()).toEqual(
        [
          'abis',
          'chain_blocks',
          'chain_cursor',
          'chain_logs',
          'connections',
          'events',
          'heads',
          'settings',
          'stream_filters',
          'streams',
          'subscriptions',
          'token_metadata',
          'watchlist',
        ].sort(),
      )

      expect(await applyPostgresMigrations(pool, postgresMigrations)).toEqual([])
      expect(await postgresSchema(pool)).toEqual(built)
      expect((await pool.query('SELECT version, name FROM schema_migrations ORDER BY version')).rows).toEqual(
        postgresMigrations.map(({ version, name }) => ({ version, name })),
      )
    } finally {
      sqlite.close()
    }
  })

  it('let two processes migrate one new store at once: both wait for the lock, one applies, the other finds it applied', async () => {
    const [blocker, first, second] = [await connect(), await connect(), await connect()]
    // A third session holds the lock until both migrators wait on it, so they start at the same moment.
    const holder = await blocker.connect()
    held.push(holder)
    await holder.query('SELECT pg_advisory_lock($1, $2)', [...MIGRATION_LOCK])
    const migrating = Promise.all([applyPostgresMigrations(first, postgresMigrations), applyPostgresMigrations(second, postgresMigrations)])
    const waiting = async () =>
      (
        await holder.query<{ waiting: number }>(
          "SELECT count(*) AS waiting FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 2 AND NOT granted",
          [...MIGRATION_LOCK],
        )
      ).rows[0]?.waiting
    // No event tells when a session starts waiting for a lock: pg_locks is read until both are there.
    const deadline = Date.now() + 10_000
    while ((await waiting()) !== 2) {
      if (Date.now() > deadline) throw new Error('the two migrators never both waited for the migration lock')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await holder.query('SELECT pg_advisory_unlock($1, $2)', [...MIGRATION_LOCK])
    const ran = await migrating
    expect(ran.map((versions) => versions.length).sort()).toEqual([0, VERSIONS.length])
    expect(ran.flat()).toEqual(VERSIONS)
    expect((await first.query('SELECT version FROM schema_migrations ORDER BY version')).rows).toEqual(VERSIONS.map((version) => ({ version })))
  })

  it('roll back a failing migration entirely and keep the ones before it', async () => {
    const pool = await connect()
    const broken = { version: 99, name: 'broken', sql: 'CREATE TABLE half (x BIGINT); INSERT INTO missing VALUES (1);' }
    await expect(applyPostgresMigrations(pool, [...postgresMigrations, broken])).rejects.toThrow(
      /^migration 99 \(broken\) failed and was rolled back: relation "missing" does not exist$/,
    )
    expect(await version(pool)).toBe(NEWEST)
    expect((await pool.query("SELECT to_regclass('half') AS half")).rows).toEqual([{ half: null }])
    // The lock went with the failure: the next start migrates without waiting.
    expect(await applyPostgresMigrations(pool, postgresMigrations)).toEqual([])
  })

  it('refuse a store migrated by a newer Tidewatch', async () => {
    const pool = await connect()
    await applyPostgresMigrations(pool, postgresMigrations)
    await pool.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from a newer Tidewatch', 0)", [NEWEST + 1])
    const refused = await applyPostgresMigrations(pool, postgresMigrations).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(PostgresSchemaTooNew)
    expect(refused).toMatchObject({ storeVersion: NEWEST + 1, knownVersion: NEWEST })
  })
})

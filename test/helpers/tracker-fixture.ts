/**
 * A chain tracker fed by the scripted provider, on a real store: a SQLite file, or a fresh
 * database on the run's throwaway PostgreSQL. The setup the chain tests share.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ChainTracker } from '../../src/main/chain/chain-tracker'
import { SqliteChainStore } from '../../src/main/store/sqlite-chain-store'
import type { ChainStore } from '../../src/main/store/chain-store'
import { openDatabase } from '../../src/main/store/database'
import { PostgresChainStore } from '../../src/main/store/postgres/chain-store'
import { openPostgres, type PostgresPool } from '../../src/main/store/postgres/database'
import { ConnectionPool } from '../../src/main/upstream/connection-pool'
import { startFakeProvider, type FakeProvider, type FakeProviderOptions } from './fake-provider'
import { createTestDatabase } from './postgres-test-database'

export type ChainBackend = 'SQLite' | 'PostgreSQL'

export interface TrackerFixture {
  provider: FakeProvider
  pool: ConnectionPool
  tracker: ChainTracker
  /** What the tracker logged. */
  logs: string[]
  /** Stops the tracker, the pool and the provider, closes the store and removes its folder. */
  close(): Promise<void>
}

/** Connection 1's tracker; `prepare` runs on the provider before the tracker exists (history mined before tracking starts). */
export async function startTrackerFixture(
  options: {
    provider?: FakeProviderOptions
    maxReorgDepth?: number
    prepare?: (provider: FakeProvider) => void
    backend?: ChainBackend
    /** PostgreSQL: runs on the fresh database before the chain store opens (what other instances wrote). */
    beforeOpen?: (pool: PostgresPool) => Promise<unknown>
  } = {},
): Promise<TrackerFixture> {
  const provider = await startFakeProvider(options.provider)
  options.prepare?.(provider)
  const { store, closeStore } = await openChainStore(options.backend ?? 'SQLite', options.beforeOpen)
  const pool = new ConnectionPool({ url: provider.url })
  pool.start()
  const logs: string[] = []
  const tracker = new ChainTracker({
    store,
    pool,
    ...(options.maxReorgDepth !== undefined ? { maxReorgDepth: options.maxReorgDepth } : {}),
    log: (m) => logs.push(m),
  })
  return {
    provider,
    pool,
    tracker,
    logs,
    async close() {
      tracker.stop()
      await tracker.idle()
      await pool.stop()
      await provider.close()
      await closeStore()
    },
  }
}

/** Connection 1's chain store on a fresh store of the backend. */
async function openChainStore(
  backend: ChainBackend,
  beforeOpen?: (pool: PostgresPool) => Promise<unknown>,
): Promise<{ store: ChainStore; closeStore: () => Promise<void> }> {
  const connection = "INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'x', 'user', 'x', 'x', 0)"
  if (backend === 'PostgreSQL') {
    const database = await createTestDatabase()
    const pool = await openPostgres(database.url)
    await pool.query(connection)
    await beforeOpen?.(pool)
    return {
      store: await PostgresChainStore.open(pool, 1),
      async closeStore() {
        await pool.end()
        await database.drop()
      },
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-tracker-'))
  const db = openDatabase(path.join(dir, 'db.sqlite'))
  db.prepare(connection).run()
  return {
    store: new SqliteChainStore(db, 1),
    closeStore() {
      db.close()
      fs.rmSync(dir, { recursive: true, force: true })
      return Promise.resolve()
    },
  }
}

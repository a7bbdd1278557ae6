/** A chain tracker on a real SQLite file, fed by the scripted provider: the setup the chain tests share. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ChainTracker } from '../../src/main/chain/chain-tracker'
import { SqliteChainStore } from '../../src/main/store/sqlite-chain-store'
import { openDatabase, type Db } from '../../src/main/store/database'
import { ConnectionPool } from '../../src/main/upstream/connection-pool'
import { startFakeProvider, type FakeProvider, type FakeProviderOptions } from './fake-provider'

export interface TrackerFixture {
  provider: FakeProvider
  pool: ConnectionPool
  tracker: ChainTracker
  db: Db
  /** What the tracker logged. */
  logs: string[]
  /** Stops the tracker, the pool and the provider, closes the store and removes its folder. */
  close(): Promise<void>
}

/** Connection 1's tracker; `prepare` runs on the provider before the tracker exists (history mined before tracking starts). */
export async function startTrackerFixture(
  options: { provider?: FakeProviderOptions; maxReorgDepth?: number; prepare?: (provider: FakeProvider) => void } = {},
): Promise<TrackerFixture> {
  const provider = await startFakeProvider(options.provider)
  options.prepare?.(provider)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-tracker-'))
  const db = openDatabase(path.join(dir, 'db.sqlite'))
  db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'x', 'user', 'x', 'x', 0)").run()
  const pool = new ConnectionPool({ url: provider.url })
  pool.start()
  const logs: string[] = []
  const tracker = new ChainTracker({
    store: new SqliteChainStore(db, 1),
    pool,
    ...(options.maxReorgDepth !== undefined ? { maxReorgDepth: options.maxReorgDepth } : {}),
    log: (m) => logs.push(m),
  })
  return {
    provider,
    pool,
    tracker,
    db,
    logs,
    async close() {
      tracker.stop()
      await tracker.idle()
      await pool.stop()
      await provider.close()
      db.close()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

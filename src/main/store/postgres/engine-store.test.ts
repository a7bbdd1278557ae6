/**
 * PostgresEngineStore's turns to capture a connection (engine-store.ts), against the test
 * run's PostgreSQL: an instance follows while another holds the connection's lock, captures
 * once elected, and keeps trying either way while the stored chain cannot be read.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestDatabase, postgresSkipReason } from '../../../../test/helpers/postgres-test-database'
import { waitFor } from '../../../../test/helpers/scripted-server'
import type { ChainStore, FollowedChainStore } from '../chain-store'
import type { EngineStore } from '../engine-store'
import { createKeyFileSecretBox } from '../secret-box'
import { connectPostgres } from './database'
import { openPostgresEngineStore } from './engine-store'
import { ConnectionLeadership } from './leadership'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const FAST = { retryIntervalMs: 100, sessionTimeoutMs: 1_000 }

describe.skipIf(postgresSkipReason !== undefined)('PostgresEngineStore turns', () => {
  it('follows while another instance captures, keeps trying while the stored chain cannot be read, and captures once elected', async () => {
    const database = await createTestDatabase()
    cleanups.push(() => database.drop())
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-pg-turns-'))
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }))
    const logs: string[] = []
    const log = (message: string): void => void logs.push(message)
    const open = await openPostgresEngineStore(database.url, { secrets: createKeyFileSecretBox(dataDir), dataDir, log, leadership: FAST })
    const store: EngineStore = open({
      onHeadsCommitted: () => undefined,
      onEventsCommitted: () => undefined,
      onStoreError: () => undefined,
      onBacklog: () => undefined,
      log,
    })
    cleanups.push(() => store.close())
    const id = store.connections.add({ name: 'c', url: 'ws://127.0.0.1:1', kind: 'user' }).id

    // Another instance holds the connection's lock.
    const admin = await connectPostgres(database.url)
    cleanups.push(() => admin.end())
    const other = new ConnectionLeadership(admin, id, FAST)
    cleanups.push(() => other.release())
    other.start()
    await waitFor('the other instance leads', () => other.isLeader)

    // The stored chain cannot be read for a while.
    await admin.query('ALTER TABLE chain_blocks RENAME TO chain_blocks_away')
    const turns: string[] = []
    const chains: (ChainStore | FollowedChainStore)[] = []
    const release = store.captureTurns(id, {
      capture: (chain) => {
        turns.push('capture')
        chains.push(chain)
      },
      follow: (chain) => {
        turns.push('follow')
        chains.push(chain)
      },
      stop: (reason) => turns.push(`stop ${reason}`),
    })
    cleanups.push(release)
    await waitFor('a failed try to follow, said', () => logs.some((m) => /cannot read its stored chain to follow it .* trying again/.test(m)))
    expect(turns).toEqual([])
    await admin.query('ALTER TABLE chain_blocks_away RENAME TO chain_blocks')
    await waitFor('following', () => turns.includes('follow'), 10_000)
    expect(turns).toEqual(['follow'])

    // The other instance goes: this one captures, into a chain store that writes.
    await other.release()
    await waitFor('capturing', () => turns.includes('capture'), 10_000)
    expect(turns).toEqual(['follow', 'capture'])
    const [followed, captured] = chains as [FollowedChainStore, ChainStore]
    await captured.appendBlocks(
      [{ block: { number: 1, hash: `0x${'1'.repeat(64)}`, parentHash: `0x${'0'.repeat(64)}`, timestamp: 1, header: {} }, logs: [] }],
      1,
    )
    expect((await admin.query('SELECT number FROM chain_cursor WHERE connection_id = $1', [id])).rows).toEqual([{ number: 1 }])
    // The chain of the follow turn read what was stored, and writes nothing (it has no write to make).
    expect((await followed.catchUp())().appended.map((b) => b.block.number)).toEqual([1])
    expect('appendBlocks' in followed).toBe(false)
  })

  it('runs serialized steps one instance at a time, each reading what the last stored: a find-or-add started together adds once', async () => {
    const database = await createTestDatabase()
    cleanups.push(() => database.drop())
    const dirs = ['a', 'b'].map((name) => fs.mkdtempSync(path.join(os.tmpdir(), `tw-pg-step-${name}-`)))
    cleanups.push(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })))
    createKeyFileSecretBox(dirs[0]!)
    fs.copyFileSync(path.join(dirs[0]!, 'secret.key'), path.join(dirs[1]!, 'secret.key'))
    const log = (): void => undefined
    const listeners = { onHeadsCommitted: log, onEventsCommitted: log, onStoreError: log, onBacklog: log, log }
    const stores = await Promise.all(
      dirs.map(async (dataDir) => (await openPostgresEngineStore(database.url, { secrets: createKeyFileSecretBox(dataDir), dataDir, log }))(listeners)),
    )
    for (const store of stores) cleanups.push(() => store.close())
    // Both instances hold an empty copy of the table: without the lock each would add.
    const url = 'ws://node.example:8546'
    const findOrAdd = (store: EngineStore) => () =>
      store.connections.list().find((c) => c.url === url)?.id ?? store.connections.add({ name: 'n', url, kind: 'user' }).id
    const ids = await Promise.all([...stores, ...stores].map((store) => store.serialized(findOrAdd(store))))
    expect(new Set(ids).size).toBe(1)
    const admin = await connectPostgres(database.url)
    cleanups.push(() => admin.end())
    expect((await admin.query('SELECT count(*)::int AS n FROM connections')).rows).toEqual([{ n: 1 }])
    // A step that fails lets the next one run.
    await expect(stores[0]!.serialized(() => Promise.reject(new Error('step failed')))).rejects.toThrow('step failed')
    expect(await stores[1]!.serialized(() => stores[1]!.connections.list().length)).toBe(1)
  })

  it('refuses a store whose endpoint URLs another key sealed, saying which key to copy, and leaves no session open', async () => {
    const database = await createTestDatabase()
    cleanups.push(() => database.drop())
    const dirs = ['first', 'other'].map((name) => fs.mkdtempSync(path.join(os.tmpdir(), `tw-pg-key-${name}-`)))
    cleanups.push(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })))
    const log = (): void => undefined
    const listeners = { onHeadsCommitted: log, onEventsCommitted: log, onStoreError: log, onBacklog: log, log }
    const first = (await openPostgresEngineStore(database.url, { secrets: createKeyFileSecretBox(dirs[0]!), dataDir: dirs[0]!, log }))(listeners)
    first.connections.add({ name: 'c', url: 'wss://eth.example/v2/secret-key', kind: 'user' })
    await first.close()

    const opening = openPostgresEngineStore(database.url, { secrets: createKeyFileSecretBox(dirs[1]!), dataDir: dirs[1]!, log })
    await expect(opening).rejects.toThrow(/sealed with another key.*same secret\.key.*copy it/)
    await expect(opening).rejects.not.toThrow(/secret-key/)
    const admin = await connectPostgres(database.url)
    cleanups.push(() => admin.end())
    await waitFor('no session of the refused store left', async () => {
      const { rows } = await admin.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      )
      return rows[0]!.n === 0
    })
  })
})

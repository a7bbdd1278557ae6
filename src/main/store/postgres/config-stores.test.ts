/**
 * The configuration stores, every backend: one suite of what the engine calls (connections,
 * subscriptions with their streams, ABIs, watchlist, settings, token metadata) run against
 * SQLite's classes on a store file and PostgreSQL's (config-stores.ts) on a fresh database of
 * the run's throwaway server (skipped, with the printed reason, where it cannot start). Each
 * case reopens the store to check that what it answers is what is stored, not only what the
 * process remembers. Then what only PostgreSQL has: instances sharing one database, columns
 * other writers change, writes the server refuses for a while, reloads over queued writes.
 */
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Client } from 'pg'
import { parseAbiItem, type AbiEvent } from 'viem'
import { z } from 'zod'
import { afterEach, describe, expect, it } from 'vitest'
import { asSuperuser, createTestDatabase, postgresSkipReason, type TestDatabase } from '../../../../test/helpers/postgres-test-database'
import type { SubscriptionSpec } from '../../../shared/subscription-params'
import { AbiStore, type AbiStoreApi } from '../abi-store'
import { ConnectionStore, type ConnectionStoreApi } from '../connection-store'
import { openDatabase, type Db } from '../database'
import { createKeyFileSecretBox, type SecretBox } from '../secret-box'
import { SettingsStore, type SettingsStoreApi } from '../settings-store'
import { SubscriptionStore, type SubscriptionStoreApi } from '../subscription-store'
import { TokenMetadataStore, type TokenMetadataStoreApi } from '../token-metadata-store'
import { WatchlistStore, type WatchlistStoreApi } from '../watchlist-store'
import { ChangeFeed, CHANGES_CHANNEL, type ConfigChanged } from './change-feed'
import { PostgresConfigStores, type PostgresConfigStoresOptions } from './config-stores'
import type { ConfigWriteFailure } from './config-writer'
import { openPostgres, type PostgresPool } from './database'

interface Stores {
  connections: ConnectionStoreApi
  subscriptions: SubscriptionStoreApi
  abis: AbiStoreApi
  watchlist: WatchlistStoreApi
  settings: SettingsStoreApi
  tokens: TokenMetadataStoreApi
}

type Row = Record<string, unknown>

interface Opened {
  stores: Stores
  secrets: SecretBox
  /** Closes the stores (after their writes) and opens them again on the same database, as a restart would. */
  reopen(): Promise<Stores>
  /** Rows of a query both databases run. */
  rows(sql: string): Promise<Row[]>
  /** What the capture writer does: a watch's cursor committed in its own transaction (and, on PostgreSQL, noted by the mirror). */
  commitCursor(subscriptionId: number, number: number, hash: string): Promise<void>
}

interface Backend {
  name: string
  skipReason: string | undefined
  open(): Promise<Opened>
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-config-'))
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

const sqlite: Backend = {
  name: 'SQLite',
  skipReason: undefined,
  open() {
    const dir = tempDir()
    const secrets = createKeyFileSecretBox(dir)
    let db: Db
    const open = (): Stores => {
      db = openDatabase(path.join(dir, 'tidewatch.db'))
      return {
        connections: new ConnectionStore(db, secrets),
        subscriptions: new SubscriptionStore(db),
        abis: new AbiStore(db),
        watchlist: new WatchlistStore(db),
        settings: new SettingsStore(db),
        tokens: new TokenMetadataStore(db),
      }
    }
    const stores = open()
    cleanups.push(() => {
      db.close()
    })
    return Promise.resolve({
      stores,
      secrets,
      reopen() {
        db.close()
        return Promise.resolve(open())
      },
      rows: (sql) => Promise.resolve(db.prepare(sql).all() as Row[]),
      commitCursor(id, number, hash) {
        db.prepare('UPDATE subscriptions SET cursor_number = ?, cursor_hash = ? WHERE id = ?').run(number, hash, id)
        return Promise.resolve()
      },
    })
  },
}

interface PostgresInstance {
  stores: PostgresConfigStores
  pool: PostgresPool
  errors: { error: Error; failure: ConfigWriteFailure }[]
  /** Resolves at the next error reported. */
  nextError(): Promise<{ error: Error; failure: ConfigWriteFailure }>
}

/** An instance of Tidewatch on `database`: a pool of its own and the stores; closed after the test, having reported no error unless `expectErrors`. */
async function openInstance(
  database: TestDatabase,
  secrets: SecretBox,
  options: Partial<PostgresConfigStoresOptions> & { expectErrors?: boolean } = {},
): Promise<PostgresInstance> {
  const pool = await openPostgres(database.url)
  const errors: PostgresInstance['errors'] = []
  let waiting: ((reported: PostgresInstance['errors'][number]) => void)[] = []
  const stores = await PostgresConfigStores.open(pool, {
    secrets,
    ...options,
    onError: (error, failure) => {
      errors.push({ error, failure })
      const resolves = waiting
      waiting = []
      for (const resolve of resolves) resolve({ error, failure })
    },
  })
  cleanups.push(async () => {
    await stores.close()
    await pool.end()
    if (!options.expectErrors) expect(errors.map((e) => e.error.message)).toEqual([])
  })
  return { stores, pool, errors, nextError: () => new Promise((resolve) => waiting.push(resolve)) }
}

async function testDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase()
  // Registered first, so it runs after the instances are closed.
  cleanups.push(() => database.drop())
  return database
}

const postgres: Backend = {
  name: 'PostgreSQL',
  skipReason: postgresSkipReason,
  async open() {
    const database = await testDatabase()
    const secrets = createKeyFileSecretBox(tempDir())
    const pool = await openPostgres(database.url)
    cleanups.push(() => pool.end())
    let current = await openInstance(database, secrets)
    return {
      stores: current.stores,
      secrets,
      async reopen() {
        await current.stores.close()
        current = await openInstance(database, secrets)
        return current.stores
      },
      rows: async (sql) => {
        await current.stores.settled()
        return (await pool.query<Row>(sql)).rows
      },
      async commitCursor(id, number, hash) {
        // The capture writer's UPDATE finds the row only once the mirror's INSERT has committed (the engine waits for it too).
        await current.stores.settled()
        await pool.query('UPDATE subscriptions SET cursor_number = $1, cursor_hash = $2 WHERE id = $3', [number, hash, id])
        current.stores.subscriptions.noteCursor(id, number, hash)
      },
    }
  },
}

const KEY = 'abcdEFGH1234ijklMNOP5678'
const URL_WITH_KEY = `wss://eth-mainnet.g.alchemy.com/v2/${KEY}`
const HTTP_URL_WITH_KEY = `https://eth-mainnet.g.alchemy.com/v2/${KEY}`
const TRANSFERS: SubscriptionSpec = { type: 'logs', params: { address: '0x00000000000000000000000000000000000000aa' } }
const HEADS: SubscriptionSpec = { type: 'newHeads', params: {} }
const TRANSFER_EVENT = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)') as AbiEvent
const APPROVAL_EVENT = parseAbiItem('event Approval(address indexed owner, address indexed spender, uint256 value)') as AbiEvent
const hash = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`

const userConnection = (stores: Stores, name = 'main') => stores.connections.add({ name, url: `ws://${name}.example:8546`, kind: 'user' })

for (const backend of [sqlite, postgres]) {
  describe.skipIf(backend.skipReason)(`configuration stores: ${backend.name}`, () => {
    it('connections: added with their URLs sealed, listed, changed column by column, removed', async () => {
      const s = await backend.open()
      const before = Date.now()
      const main = s.stores.connections.add({ name: 'main', url: URL_WITH_KEY, httpUrl: HTTP_URL_WITH_KEY, kind: 'user', confirmations: 12 })
      expect(main).toEqual({
        id: expect.any(Number),
        name: 'main',
        kind: 'user',
        url: URL_WITH_KEY,
        displayUrl: 'wss://eth-mainnet.g.alchemy.com/v2/***',
        httpUrl: HTTP_URL_WITH_KEY,
        displayHttpUrl: 'https://eth-mainnet.g.alchemy.com/v2/***',
        createdAt: expect.any(Number),
        confirmations: 12,
        chainId: null,
        headsRetentionDays: null,
        eventsRetentionDays: null,
      })
      expect(main.createdAt).toBeGreaterThanOrEqual(before)
      const demo = s.stores.connections.add({ name: 'demo', url: 'ws://127.0.0.1:8545', kind: 'demo' })
      expect(demo.id).toBeGreaterThan(main.id)
      expect(demo).toMatchObject({ httpUrl: null, displayHttpUrl: null, confirmations: null })

      s.stores.connections.updateUrl(demo.id, 'ws://127.0.0.1:9545')
      s.stores.connections.setChainId(demo.id, 31337)
      s.stores.connections.setConfirmations(main.id, null)
      s.stores.connections.setRetention(main.id, { headsRetentionDays: 7, eventsRetentionDays: 90 })
      const changed = [
        { ...main, confirmations: null, headsRetentionDays: 7, eventsRetentionDays: 90 },
        { ...demo, url: 'ws://127.0.0.1:9545', displayUrl: 'ws://127.0.0.1:9545/', chainId: 31337 },
      ]
      expect(s.stores.connections.list()).toEqual(changed)
      expect(s.stores.connections.get(demo.id)).toEqual(changed[1])
      expect(s.stores.connections.get(demo.id + 1000)).toBeUndefined()

      // Sealed in the same columns by both backends: no key in the row, the box opens it.
      const [stored] = await s.rows(`SELECT url_ciphertext, display_url, http_url_ciphertext, display_http_url FROM connections WHERE id = ${main.id}`)
      expect(JSON.stringify(stored)).not.toContain(KEY)
      expect(s.secrets.decrypt(stored!.url_ciphertext as string)).toBe(URL_WITH_KEY)
      expect(s.secrets.decrypt(stored!.http_url_ciphertext as string)).toBe(HTTP_URL_WITH_KEY)
      expect(stored).toMatchObject({ display_url: 'wss://eth-mainnet.g.alchemy.com/v2/***', display_http_url: 'https://eth-mainnet.g.alchemy.com/v2/***' })

      let stores = await s.reopen()
      expect(stores.connections.list()).toEqual(changed)
      expect(stores.connections.remove(demo.id)).toBe(true)
      expect(stores.connections.remove(demo.id)).toBe(false)
      expect(stores.connections.get(demo.id)).toBeUndefined()
      stores = await s.reopen()
      expect(stores.connections.list()).toEqual([changed[0]])
    })

    it('subscriptions: identical ones share a stream, internal streams stay apart, each method changes its own columns', async () => {
      const s = await backend.open()
      const a = userConnection(s.stores, 'a')
      const b = userConnection(s.stores, 'b')
      const watch = { startBlock: -10, fetch: true, listen: true, irreversibleOnly: false }
      const first = s.stores.subscriptions.add({ connectionId: a.id, spec: TRANSFERS, label: 'transfers', watch })
      expect(first).toEqual({
        id: expect.any(Number),
        connectionId: a.id,
        spec: TRANSFERS,
        streamKey: expect.any(String),
        streamId: expect.any(Number),
        label: 'transfers',
        paused: false,
        createdAt: expect.any(Number),
        watch,
        startBlock: null,
        headAtStart: null,
        cursor: null,
        complete: false,
        notify: false,
      })
      const same = s.stores.subscriptions.add({ connectionId: a.id, spec: TRANSFERS, label: '' })
      const heads = s.stores.subscriptions.add({ connectionId: a.id, spec: HEADS })
      const otherConnection = s.stores.subscriptions.add({ connectionId: b.id, spec: TRANSFERS })
      expect(same).toMatchObject({ streamId: first.streamId, streamKey: first.streamKey, label: null, watch: null })
      expect(same.id).not.toBe(first.id)
      expect(new Set([first.streamId, heads.streamId, otherConnection.streamId]).size).toBe(3)
      const internal = s.stores.subscriptions.internalStream(a.id, 'watchlist:logs')
      expect(s.stores.subscriptions.internalStream(a.id, 'watchlist:logs')).toBe(internal)
      expect([first.streamId, heads.streamId, otherConnection.streamId]).not.toContain(internal)
      expect(s.stores.subscriptions.internalStream(b.id, 'watchlist:logs')).not.toBe(internal)
      expect(() => s.stores.subscriptions.add({ connectionId: a.id + b.id + 1000, spec: HEADS })).toThrow(/FOREIGN KEY/)
      expect(() => s.stores.subscriptions.internalStream(a.id + b.id + 1000, 'watchlist:logs')).toThrow(/FOREIGN KEY/)

      expect(s.stores.subscriptions.list(a.id).map((x) => x.id)).toEqual([first.id, same.id, heads.id])
      expect(s.stores.subscriptions.list().map((x) => x.id)).toEqual([first.id, same.id, heads.id, otherConnection.id])

      s.stores.subscriptions.setPaused(heads.id, true)
      s.stores.subscriptions.setStart(first.id, 100, 110)
      // Resolved once: a second start is ignored.
      s.stores.subscriptions.setStart(first.id, 200, 210)
      s.stores.subscriptions.update(first.id, { label: 'renamed' })
      s.stores.subscriptions.update(same.id, { notify: true })
      s.stores.subscriptions.update(heads.id, { label: 'heads', notify: true })
      s.stores.subscriptions.update(heads.id, { label: '' })
      s.stores.subscriptions.update(heads.id, {})
      s.stores.subscriptions.setComplete(first.id)
      await s.commitCursor(first.id, 105, hash(105))
      const expected = () => [
        { ...first, label: 'renamed', startBlock: 100, headAtStart: 110, complete: true, cursor: { number: 105, hash: hash(105) } },
        { ...same, notify: true },
        { ...heads, paused: true, label: null, notify: true },
      ]
      expect(s.stores.subscriptions.list(a.id)).toEqual(expected())
      expect(s.stores.subscriptions.get(heads.id)).toEqual(expected()[2])
      expect(s.stores.subscriptions.get(heads.id + 1000)).toBeUndefined()

      let stores = await s.reopen()
      expect(stores.subscriptions.list(a.id)).toEqual(expected())
      expect(stores.subscriptions.internalStream(a.id, 'watchlist:logs')).toBe(internal)
      expect(stores.subscriptions.remove(same.id)).toBe(true)
      expect(stores.subscriptions.remove(same.id)).toBe(false)
      // A new subscription of a stream still in use joins it.
      const again = stores.subscriptions.add({ connectionId: a.id, spec: TRANSFERS })
      expect(again.streamId).toBe(first.streamId)
      stores = await s.reopen()
      expect(stores.subscriptions.list(a.id).map((x) => x.id)).toEqual([first.id, heads.id, again.id])
      expect(stores.subscriptions.get(again.id)).toEqual(again)
    })

    it("resetPositions() forgets a connection's starts, cursors and completion, and no other connection's", async () => {
      const s = await backend.open()
      const a = userConnection(s.stores, 'a')
      const b = userConnection(s.stores, 'b')
      const watch = { fetch: true, listen: true, irreversibleOnly: false }
      const onA = s.stores.subscriptions.add({ connectionId: a.id, spec: TRANSFERS, label: 'kept', watch })
      const onB = s.stores.subscriptions.add({ connectionId: b.id, spec: TRANSFERS, watch })
      for (const subscription of [onA, onB]) {
        s.stores.subscriptions.setStart(subscription.id, 10, 20)
        s.stores.subscriptions.setComplete(subscription.id)
        await s.commitCursor(subscription.id, 15, hash(15))
      }
      s.stores.subscriptions.resetPositions(a.id)
      const reset = { ...onA, startBlock: null, headAtStart: null, cursor: null, complete: false }
      const untouched = { ...onB, startBlock: 10, headAtStart: 20, cursor: { number: 15, hash: hash(15) }, complete: true }
      expect(s.stores.subscriptions.list()).toEqual([reset, untouched])
      // A start resolved again after the reset is kept.
      s.stores.subscriptions.setStart(onA.id, 30, 40)
      const stores = await s.reopen()
      expect(stores.subscriptions.list()).toEqual([{ ...reset, startBlock: 30, headAtStart: 40 }, untouched])
    })

    it("removing a connection removes its subscriptions, streams and token metadata, and no other connection's", async () => {
      const s = await backend.open()
      const a = userConnection(s.stores, 'a')
      const b = userConnection(s.stores, 'b')
      s.stores.subscriptions.add({ connectionId: a.id, spec: TRANSFERS })
      const kept = s.stores.subscriptions.add({ connectionId: b.id, spec: TRANSFERS })
      s.stores.tokens.put({ connectionId: a.id, address: '0x00000000000000000000000000000000000000aa', symbol: 'A', decimals: 18 })
      s.stores.tokens.put({ connectionId: b.id, address: '0x00000000000000000000000000000000000000aa', symbol: 'B', decimals: 6 })
      expect(s.stores.connections.remove(a.id)).toBe(true)
      const check = (stores: Stores) => {
        expect(stores.subscriptions.list()).toEqual([kept])
        expect(stores.tokens.get(a.id, '0x00000000000000000000000000000000000000aa')).toBeUndefined()
        expect(stores.tokens.get(b.id, '0x00000000000000000000000000000000000000aa')).toMatchObject({ symbol: 'B' })
      }
      check(s.stores)
      expect(await s.rows(`SELECT connection_id FROM streams ORDER BY id`)).toEqual([{ connection_id: b.id }])
      check(await s.reopen())
    })

    it('abis: added, listed as stored events and in human-readable form, removed', async () => {
      const s = await backend.open()
      const erc20 = s.stores.abis.add('ERC-20', [TRANSFER_EVENT, APPROVAL_EVENT])
      expect(erc20).toEqual({
        id: expect.any(Number),
        name: 'ERC-20',
        events: [
          'event Transfer(address indexed from, address indexed to, uint256 value)',
          'event Approval(address indexed owner, address indexed spender, uint256 value)',
        ],
        createdAt: expect.any(Number),
      })
      const second = s.stores.abis.add('Transfers only', [TRANSFER_EVENT])
      expect(second.id).toBeGreaterThan(erc20.id)
      expect(s.stores.abis.list()).toEqual([erc20, second])
      expect(s.stores.abis.all()).toEqual([
        { id: erc20.id, name: 'ERC-20', events: [TRANSFER_EVENT, APPROVAL_EVENT], createdAt: erc20.createdAt },
        { id: second.id, name: 'Transfers only', events: [TRANSFER_EVENT], createdAt: second.createdAt },
      ])
      let stores = await s.reopen()
      expect(stores.abis.list()).toEqual([erc20, second])
      expect(stores.abis.remove(erc20.id)).toBe(true)
      expect(stores.abis.remove(erc20.id)).toBe(false)
      stores = await s.reopen()
      expect(stores.abis.list()).toEqual([second])
    })

    it('watchlist: saved, changed in place keeping when it was added, listed by label regardless of case, removed', async () => {
      const s = await backend.open()
      const alice = s.stores.watchlist.upsert({ address: '0xa1', label: 'alice', color: '#f00', notify: false })
      expect(alice).toEqual({ address: '0xa1', label: 'alice', color: '#f00', notify: false, createdAt: expect.any(Number) })
      s.stores.watchlist.upsert({ address: '0xb2', label: 'Bob', color: '#0f0', notify: true })
      s.stores.watchlist.upsert({ address: '0xc3', label: 'carol', color: '#00f', notify: false })
      const renamed = s.stores.watchlist.upsert({ address: '0xa1', label: 'Zed', color: '#111', notify: true })
      expect(renamed).toEqual({ address: '0xa1', label: 'Zed', color: '#111', notify: true, createdAt: alice.createdAt })
      const labels = (stores: Stores) => stores.watchlist.list().map((entry) => entry.label)
      expect(labels(s.stores)).toEqual(['Bob', 'carol', 'Zed'])
      let stores = await s.reopen()
      expect(labels(stores)).toEqual(['Bob', 'carol', 'Zed'])
      expect(stores.watchlist.list()[2]).toEqual(renamed)
      expect(stores.watchlist.remove('0xb2')).toBe(true)
      expect(stores.watchlist.remove('0xb2')).toBe(false)
      stores = await s.reopen()
      expect(labels(stores)).toEqual(['carol', 'Zed'])
    })

    it('settings: a value as its schema reads it, the fallback when none is stored or it no longer fits', async () => {
      const s = await backend.open()
      const schema = z.object({ enabled: z.boolean(), port: z.number() })
      const fallback = { enabled: false, port: 1 }
      expect(s.stores.settings.get('localApi', schema, fallback)).toBe(fallback)
      s.stores.settings.set('localApi', { enabled: true, port: 8080 })
      s.stores.settings.set('theme', 'dark')
      expect(s.stores.settings.get('localApi', schema, fallback)).toEqual({ enabled: true, port: 8080 })
      s.stores.settings.set('localApi', { enabled: true, port: 9090 })
      const stores = await s.reopen()
      expect(stores.settings.get('localApi', schema, fallback)).toEqual({ enabled: true, port: 9090 })
      expect(stores.settings.get('theme', z.string(), 'light')).toBe('dark')
      expect(stores.settings.get('theme', schema, fallback)).toBe(fallback)
    })

    it('token metadata: one row per token and connection, found whatever the case of the address, replaced, forgotten per connection', async () => {
      const s = await backend.open()
      const a = userConnection(s.stores, 'a')
      const b = userConnection(s.stores, 'b')
      const address = '0x00000000000000000000000000000000000000AA'
      s.stores.tokens.put({ connectionId: a.id, address, symbol: 'OLD', decimals: 18 })
      s.stores.tokens.put({ connectionId: a.id, address: address.toLowerCase(), symbol: 'USDC', decimals: 6 })
      s.stores.tokens.put({ connectionId: b.id, address, symbol: null, decimals: null })
      expect(() => s.stores.tokens.put({ connectionId: a.id + b.id + 1000, address, symbol: 'X', decimals: 1 })).toThrow(/FOREIGN KEY/)
      expect(s.stores.tokens.get(a.id, address)).toEqual({ connectionId: a.id, address: address.toLowerCase(), symbol: 'USDC', decimals: 6 })
      let stores = await s.reopen()
      expect(stores.tokens.get(a.id, address.toLowerCase())).toEqual({ connectionId: a.id, address: address.toLowerCase(), symbol: 'USDC', decimals: 6 })
      expect(stores.tokens.get(b.id, address)).toEqual({ connectionId: b.id, address: address.toLowerCase(), symbol: null, decimals: null })
      stores.tokens.deleteForConnection(a.id)
      expect(stores.tokens.get(a.id, address)).toBeUndefined()
      stores = await s.reopen()
      expect(stores.tokens.get(a.id, address)).toBeUndefined()
      expect(stores.tokens.get(b.id, address)).toMatchObject({ connectionId: b.id })
    })
  })
}

describe.skipIf(postgresSkipReason)('configuration stores: PostgreSQL only', () => {
  const secrets = (): SecretBox => createKeyFileSecretBox(tempDir())

  it("another instance's writes are seen once it reloads the table its change feed names", async () => {
    const database = await testDatabase()
    const box = secrets()
    const a = await openInstance(database, box)
    const b = await openInstance(database, box)
    const feed = new ChangeFeed(b.pool, { reconnectDelayMs: 50 })
    cleanups.push(() => feed.close())
    const heard: ConfigChanged[] = []
    feed.on('config', (change) => {
      heard.push(change)
      void b.stores.reload(change.table)
    })
    await feed.start()

    const connection = a.stores.connections.add({ name: 'shared', url: URL_WITH_KEY, kind: 'user' })
    const subscription = a.stores.subscriptions.add({ connectionId: connection.id, spec: TRANSFERS, label: 'from a' })
    a.stores.abis.add('ERC-20', [TRANSFER_EVENT])
    a.stores.watchlist.upsert({ address: '0xa1', label: 'alice', color: '#f00', notify: true })
    a.stores.settings.set('theme', 'dark')
    a.stores.tokens.put({ connectionId: connection.id, address: '0xaa', symbol: 'A', decimals: 18 })
    // Not before B reloads: B answers from memory.
    expect(b.stores.connections.list()).toEqual([])
    await a.stores.settled()
    await expect.poll(() => new Set(heard.map((change) => change.table)).size).toBe(6)
    // Every reload asked for has been read once this one, queued after them, is.
    await b.stores.reload('connections')
    await b.stores.reload('token_metadata')
    expect(b.stores.connections.list()).toEqual(a.stores.connections.list())
    expect(b.stores.subscriptions.list()).toEqual([subscription])
    expect(b.stores.abis.list()).toEqual(a.stores.abis.list())
    expect(b.stores.watchlist.list()).toEqual(a.stores.watchlist.list())
    expect(b.stores.settings.get('theme', z.string(), 'light')).toBe('dark')
    expect(b.stores.tokens.get(connection.id, '0xAA')).toMatchObject({ symbol: 'A' })

    // And the other way: B renames, A hears nothing (no feed) until it reloads.
    b.stores.subscriptions.update(subscription.id, { label: 'from b' })
    b.stores.connections.remove(connection.id)
    await b.stores.settled()
    expect(a.stores.subscriptions.get(subscription.id)?.label).toBe('from a')
    await a.stores.reload('subscriptions')
    expect(a.stores.subscriptions.get(subscription.id)).toBeUndefined()
    await a.stores.reload('connections')
    expect(a.stores.connections.list()).toEqual([])
    expect(a.stores.tokens.get(connection.id, '0xaa')).toBeUndefined()
  })

  it('two instances adding at once never get the same id, and each sees every row after reloading', async () => {
    const database = await testDatabase()
    const box = secrets()
    // Small blocks, so both draw another while adding 30 (32: a refill has 16 adds to arrive; 16 left too few on a loaded CI machine).
    const a = await openInstance(database, box, { idBlockSize: 32 })
    const b = await openInstance(database, box, { idBlockSize: 32 })
    const adding = async (instance: PostgresInstance, name: string) => {
      const ids: number[][] = []
      for (let n = 0; n < 30; n++) {
        const connection = instance.stores.connections.add({ name: `${name}${n}`, url: `ws://${name}${n}.example`, kind: 'user' })
        const subscription = instance.stores.subscriptions.add({ connectionId: connection.id, spec: TRANSFERS })
        const abi = instance.stores.abis.add(`${name}${n}`, [TRANSFER_EVENT])
        ids.push([connection.id, subscription.id, subscription.streamId, abi.id])
        await instance.stores.settled()
      }
      return ids
    }
    const [fromA, fromB] = await Promise.all([adding(a, 'a'), adding(b, 'b')])
    for (const column of [0, 1, 2, 3]) {
      const ids = [...fromA, ...fromB].map((row) => row[column]!)
      expect(new Set(ids).size).toBe(60)
    }
    const stored = await a.pool.query<{ connections: number; subscriptions: number; streams: number; abis: number }>(
      'SELECT (SELECT count(*)::int FROM connections) AS connections, (SELECT count(*)::int FROM subscriptions) AS subscriptions, (SELECT count(*)::int FROM streams) AS streams, (SELECT count(*)::int FROM abis) AS abis',
    )
    expect(stored.rows[0]).toEqual({ connections: 60, subscriptions: 60, streams: 60, abis: 60 })
    for (const instance of [a, b]) {
      await Promise.all((['connections', 'subscriptions', 'abis'] as const).map((table) => instance.stores.reload(table)))
      expect(instance.stores.connections.list()).toHaveLength(60)
      expect(instance.stores.subscriptions.list().map((x) => [x.connectionId, x.id, x.streamId])).toEqual(
        [...fromA, ...fromB].sort((x, y) => x[1]! - y[1]!).map(([connection, subscription, stream]) => [connection, subscription, stream]),
      )
      expect(instance.stores.abis.list()).toHaveLength(60)
    }
  })

  it('the same stream added by two instances before either heard of the other is one stream, and the mirror takes the stored id', async () => {
    const database = await testDatabase()
    const box = secrets()
    const a = await openInstance(database, box)
    const connection = a.stores.connections.add({ name: 'shared', url: 'ws://shared.example', kind: 'user' })
    await a.stores.settled()
    const b = await openInstance(database, box)
    // Neither has heard of the other's stream: each draws its own id for the same (connection, key).
    const fromA = a.stores.subscriptions.add({ connectionId: connection.id, spec: TRANSFERS })
    await a.stores.settled()
    const fromB = b.stores.subscriptions.add({ connectionId: connection.id, spec: TRANSFERS })
    expect(fromB.streamId).not.toBe(fromA.streamId)
    await b.stores.settled()
    expect(b.stores.subscriptions.get(fromB.id)?.streamId).toBe(fromA.streamId)
    expect(b.stores.subscriptions.internalStream(connection.id, fromA.streamKey)).toBe(fromA.streamId)
    expect((await a.pool.query('SELECT id FROM streams')).rows).toEqual([{ id: fromA.streamId }])
  })

  it("a column another writer changed stays when the mirror updates the row's other columns", async () => {
    const database = await testDatabase()
    const a = await openInstance(database, secrets())
    const connection = a.stores.connections.add({ name: 'main', url: 'ws://main.example', kind: 'user' })
    const subscription = a.stores.subscriptions.add({
      connectionId: connection.id,
      spec: TRANSFERS,
      watch: { fetch: true, listen: true, irreversibleOnly: false },
    })
    await a.stores.settled()
    // The capture writer commits a cursor and completion; another instance sets the chain id. The mirror knows none of it.
    await a.pool.query('UPDATE subscriptions SET cursor_number = 42, cursor_hash = $1, complete = TRUE WHERE id = $2', [hash(42), subscription.id])
    await a.pool.query('UPDATE connections SET chain_id = 1 WHERE id = $1', [connection.id])
    a.stores.subscriptions.update(subscription.id, { label: 'renamed', notify: true })
    a.stores.subscriptions.setPaused(subscription.id, true)
    a.stores.subscriptions.setStart(subscription.id, 40, 45)
    a.stores.connections.updateUrl(connection.id, 'ws://moved.example')
    a.stores.connections.setConfirmations(connection.id, 3)
    await a.stores.settled()
    const [row] = (
      await a.pool.query('SELECT label, notify, paused, start_block, cursor_number, cursor_hash, complete FROM subscriptions WHERE id = $1', [subscription.id])
    ).rows
    expect(row).toEqual({ label: 'renamed', notify: true, paused: true, start_block: 40, cursor_number: 42, cursor_hash: hash(42), complete: true })
    expect((await a.pool.query('SELECT chain_id, confirmations FROM connections')).rows).toEqual([{ chain_id: 1, confirmations: 3 }])
    await a.stores.reload('subscriptions')
    expect(a.stores.subscriptions.get(subscription.id)).toMatchObject({ label: 'renamed', cursor: { number: 42, hash: hash(42) }, complete: true })
  })

  /** Every INSERT or UPDATE of subscriptions fails, as on a full disk, until the returned function heals it. */
  async function breakSubscriptionWrites(pool: PostgresPool): Promise<() => Promise<void>> {
    await pool.query(`CREATE TABLE fail_writes (on_purpose INTEGER);
      INSERT INTO fail_writes VALUES (1);
      CREATE FUNCTION fail_subscriptions() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF EXISTS (SELECT 1 FROM fail_writes) THEN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER subscriptions_fail BEFORE INSERT OR UPDATE ON subscriptions FOR EACH ROW EXECUTE FUNCTION fail_subscriptions();`)
    return async () => void (await pool.query('DELETE FROM fail_writes'))
  }

  it('a write the server refuses is retried with backoff, and later writes wait behind it and land after it, in order', async () => {
    const database = await testDatabase()
    const a = await openInstance(database, secrets(), { expectErrors: true })
    const connection = a.stores.connections.add({ name: 'main', url: 'ws://main.example', kind: 'user' })
    const subscription = a.stores.subscriptions.add({ connectionId: connection.id, spec: TRANSFERS })
    await a.stores.settled()
    const heal = await breakSubscriptionWrites(a.pool)

    const firstFailure = a.nextError()
    a.stores.subscriptions.update(subscription.id, { label: 'first' })
    a.stores.connections.setConfirmations(connection.id, 5)
    a.stores.subscriptions.update(subscription.id, { label: 'second' })
    a.stores.connections.setConfirmations(connection.id, 7)
    // Memory has every change at once.
    expect(a.stores.subscriptions.get(subscription.id)?.label).toBe('second')
    expect(a.stores.connections.get(connection.id)?.confirmations).toBe(7)
    const settled = a.stores.settled()

    const first = await firstFailure
    expect(first.error.message).toMatch(/Cannot update subscription \d+ in PostgreSQL \(could not extend file.*retrying in \d+ ms/)
    expect(first.failure).toEqual({ retryInMs: expect.any(Number), pendingWrites: 4 })
    expect(a.stores.failing).toBe(true)
    const second = await a.nextError()
    expect(second.failure.retryInMs).toBeGreaterThanOrEqual(first.failure.retryInMs! / 2)
    // The connection's writes, which the server would take, were not sent past the failing one.
    expect((await a.pool.query('SELECT confirmations FROM connections')).rows).toEqual([{ confirmations: null }])

    await heal()
    await settled
    expect(a.stores.failing).toBe(false)
    expect(a.stores.pendingWrites).toBe(0)
    expect((await a.pool.query('SELECT label FROM subscriptions')).rows).toEqual([{ label: 'second' }])
    expect((await a.pool.query('SELECT confirmations FROM connections')).rows).toEqual([{ confirmations: 7 }])
    expect(a.errors.every((e) => e.failure.retryInMs !== null)).toBe(true)
  })

  it('writes made while the server ended every connection are retried on new ones and land', async () => {
    const database = await testDatabase()
    const a = await openInstance(database, secrets(), { expectErrors: true })
    const connection = a.stores.connections.add({ name: 'main', url: 'ws://main.example', kind: 'user' })
    await a.stores.settled()
    // An administrator (or a server restart) ends every session on the database, the pool's idle ones among them.
    await asSuperuser((client) =>
      client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database.name]),
    )
    a.stores.connections.setChainId(connection.id, 10)
    a.stores.settings.set('theme', 'dark')
    await a.stores.settled()
    expect((await a.pool.query('SELECT chain_id FROM connections')).rows).toEqual([{ chain_id: 10 }])
    expect((await a.pool.query('SELECT value_json FROM settings')).rows).toEqual([{ value_json: '"dark"' }])
  })

  it("a reload waits for this instance's earlier writes and keeps its later ones, not yet committed, over the rows it reads", async () => {
    const database = await testDatabase()
    const a = await openInstance(database, secrets(), { lockTimeoutMs: 60_000 })
    const connection = a.stores.connections.add({ name: 'main', url: 'ws://main.example', kind: 'user' })
    const one = a.stores.subscriptions.add({ connectionId: connection.id, spec: TRANSFERS, label: 'one' })
    const two = a.stores.subscriptions.add({ connectionId: connection.id, spec: HEADS, label: 'two' })
    await a.stores.settled()

    // Another session holds subscription two's row: a write to it waits until that session commits.
    const holder = new Client({ connectionString: database.url })
    await holder.connect()
    cleanups.push(() => holder.end())
    await holder.query('BEGIN')
    await holder.query('SELECT * FROM subscriptions WHERE id = $1 FOR UPDATE', [two.id])
    // Another instance renames subscription one.
    await a.pool.query("UPDATE subscriptions SET label = 'one, renamed elsewhere' WHERE id = $1", [one.id])

    a.stores.subscriptions.update(one.id, { notify: true })
    const reloaded = a.stores.reload('subscriptions')
    a.stores.subscriptions.update(two.id, { label: 'two, renamed here' })
    await reloaded
    // The earlier write committed before the reload read (it is in the rows read), the later one is applied over them.
    expect(a.stores.subscriptions.get(one.id)).toMatchObject({ label: 'one, renamed elsewhere', notify: true })
    expect(a.stores.subscriptions.get(two.id)).toMatchObject({ label: 'two, renamed here' })
    expect(a.stores.pendingWrites).toBe(1)
    expect((await a.pool.query('SELECT label FROM subscriptions WHERE id = $1', [two.id])).rows).toEqual([{ label: 'two' }])

    await holder.query('COMMIT')
    await a.stores.settled()
    expect((await a.pool.query('SELECT label FROM subscriptions WHERE id = $1', [two.id])).rows).toEqual([{ label: 'two, renamed here' }])
    expect(a.stores.subscriptions.get(two.id)?.label).toBe('two, renamed here')
  })

  it('a cursor noted while subscriptions are being read stays over the older one the read returns', async () => {
    const database = await testDatabase()
    const a = await openInstance(database, secrets())
    const connection = a.stores.connections.add({ name: 'main', url: 'ws://main.example', kind: 'user' })
    const subscription = a.stores.subscriptions.add({
      connectionId: connection.id,
      spec: TRANSFERS,
      watch: { fetch: true, listen: true, irreversibleOnly: false },
    })
    await a.stores.settled()
    await a.pool.query('UPDATE subscriptions SET cursor_number = 10, cursor_hash = $1 WHERE id = $2', [hash(10), subscription.id])

    // Another session holds the table, so the reload's read is under way (waiting) when the capture writer's next cursor is noted.
    const holder = new Client({ connectionString: database.url })
    await holder.connect()
    cleanups.push(() => holder.end())
    await holder.query('BEGIN')
    await holder.query('LOCK TABLE subscriptions IN ACCESS EXCLUSIVE MODE')
    const reloaded = a.stores.reload('subscriptions')
    await expect
      .poll(async () => {
        const waiting = await a.pool.query(
          "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND query LIKE 'SELECT id, connection_id, type%'",
          [database.name],
        )
        return waiting.rowCount
      })
      .toBe(1)
    a.stores.subscriptions.noteCursor(subscription.id, 11, hash(11))
    await holder.query('COMMIT')
    await reloaded
    expect(a.stores.subscriptions.get(subscription.id)?.cursor).toEqual({ number: 11, hash: hash(11) })
  })

  it('a reload asked for while an earlier write fails waits for it, then reads what it wrote', async () => {
    const database = await testDatabase()
    const a = await openInstance(database, secrets(), { expectErrors: true })
    const connection = a.stores.connections.add({ name: 'main', url: 'ws://main.example', kind: 'user' })
    const subscription = a.stores.subscriptions.add({ connectionId: connection.id, spec: TRANSFERS })
    await a.stores.settled()
    const heal = await breakSubscriptionWrites(a.pool)
    const failed = a.nextError()
    a.stores.subscriptions.update(subscription.id, { label: 'mine' })
    let reloaded = false
    const reload = a.stores.reload('subscriptions').then(() => (reloaded = true))
    await failed
    // Read now, the reload would take the label back to the stored one.
    expect(reloaded).toBe(false)
    expect(a.stores.subscriptions.get(subscription.id)?.label).toBe('mine')
    await heal()
    await reload
    expect(a.stores.subscriptions.get(subscription.id)?.label).toBe('mine')
    expect((await a.pool.query('SELECT label FROM subscriptions')).rows).toEqual([{ label: 'mine' }])
  })

  it('a write the server refuses for its data (a connection removed elsewhere) is dropped and reported, the table read again, and later writes go on', async () => {
    const database = await testDatabase()
    const a = await openInstance(database, secrets(), { expectErrors: true })
    const gone = a.stores.connections.add({ name: 'gone', url: 'ws://gone.example', kind: 'user' })
    await a.stores.settled()
    // Another instance removes the connection; this one has not heard yet.
    await a.pool.query('DELETE FROM connections WHERE id = $1', [gone.id])
    const dropped = a.nextError()
    const orphan = a.stores.subscriptions.add({ connectionId: gone.id, spec: TRANSFERS })
    a.stores.settings.set('theme', 'dark')
    expect(a.stores.subscriptions.get(orphan.id)).toBeDefined()
    const { error, failure } = await dropped
    expect(error.message).toMatch(
      new RegExp(`PostgreSQL refused to add subscription ${orphan.id} \\(.*foreign key.*\\); the change is dropped and subscriptions read again`),
    )
    expect(failure.retryInMs).toBeNull()
    await a.stores.settled()
    expect(a.stores.subscriptions.get(orphan.id)).toBeUndefined()
    expect((await a.pool.query('SELECT value_json FROM settings')).rows).toEqual([{ value_json: '"dark"' }])
    expect(a.errors).toHaveLength(1)
  })

  it('close() commits what is queued; when the server refuses it, close() still returns and says what was not stored', async () => {
    const database = await testDatabase()
    const box = secrets()
    const a = await openInstance(database, box)
    const connection = a.stores.connections.add({ name: 'main', url: 'ws://main.example', kind: 'user' })
    const subscription = a.stores.subscriptions.add({ connectionId: connection.id, spec: TRANSFERS })
    a.stores.settings.set('theme', 'dark')
    await a.stores.close()
    expect(() => a.stores.settings.set('theme', 'light')).toThrow(/closed/)
    expect((await a.pool.query('SELECT value_json FROM settings')).rows).toEqual([{ value_json: '"dark"' }])

    const b = await openInstance(database, box, { expectErrors: true })
    expect(b.stores.subscriptions.list()).toEqual([subscription])
    const heal = await breakSubscriptionWrites(b.pool)
    cleanups.push(heal)
    const failed = b.nextError()
    b.stores.subscriptions.update(subscription.id, { label: 'never stored' })
    b.stores.settings.set('theme', 'light')
    const settled = b.stores.settled()
    await failed
    await b.stores.close(1_000)
    await expect(settled).rejects.toThrow(
      /2 configuration change\(s\) were not stored in PostgreSQL before closing: update subscription \d+; save setting theme/,
    )
    expect(b.errors.at(-1)).toMatchObject({ failure: { retryInMs: null, pendingWrites: 2 } })
    expect((await b.pool.query('SELECT value_json FROM settings')).rows).toEqual([{ value_json: '"dark"' }])
  })

  it('announces each write on the change feed only once it commits', async () => {
    const database = await testDatabase()
    const a = await openInstance(database, secrets(), { expectErrors: true })
    const feed = new ChangeFeed(a.pool, { reconnectDelayMs: 50 })
    cleanups.push(() => feed.close())
    const heard: string[] = []
    feed.on('config', (change) => heard.push(change.table))
    await feed.start()
    const connection = a.stores.connections.add({ name: 'main', url: 'ws://main.example', kind: 'user' })
    await once(feed, 'config')
    expect(heard).toEqual(['connections'])
    const heal = await breakSubscriptionWrites(a.pool)
    const failed = a.nextError()
    a.stores.subscriptions.add({ connectionId: connection.id, spec: TRANSFERS })
    await failed
    a.stores.abis.add('ERC-20', [TRANSFER_EVENT])
    // A change announced from outside, once heard, is heard after anything announced before it: nothing of the failed write.
    const barrier = once(feed, 'config')
    await a.pool.query(`SELECT pg_notify('${CHANGES_CHANNEL}', $1)`, [JSON.stringify({ change: 'config', table: 'watchlist' })])
    await barrier
    expect(heard).toEqual(['connections', 'watchlist'])
    await heal()
    await a.stores.settled()
    await expect.poll(() => heard).toEqual(['connections', 'watchlist', 'subscriptions', 'abis'])
    a.stores.connections.remove(connection.id)
    await expect.poll(() => heard.slice(4).sort()).toEqual(['connections', 'subscriptions', 'token_metadata'])
  })
})

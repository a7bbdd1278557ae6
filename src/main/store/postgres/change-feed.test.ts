/**
 * The PostgreSQL change feed against the run's throwaway server: what a writer announces in
 * its transaction reaches a viewer's ChangeFeed on commit only, each kind of change arrives
 * as sent, batches too long for one NOTIFY are split and joined, malformed payloads are
 * ignored, and a feed whose session is ended listens again and says so.
 */
import { once } from 'node:events'
import { Client } from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFaultProxy } from '../../../../test/helpers/fault-proxy'
import { createTestDatabase, postgresSkipReason, type TestDatabase } from '../../../../test/helpers/postgres-test-database'
import {
  ChangeFeed,
  CHANGES_CHANNEL,
  CONFIG_TABLES,
  changePayloads,
  MAX_NOTIFY_PAYLOAD_BYTES,
  notifyChanges,
  type ChangeFeedEvents,
  type StoreChange,
} from './change-feed'
import { connectPostgres, type PostgresPool } from './database'

type Heard = { [K in keyof ChangeFeedEvents]: { kind: K; value: ChangeFeedEvents[K][0] } }[keyof ChangeFeedEvents]

/** Resolves with the first `name` event of `feed`, or fails after `ms`. */
async function next<K extends keyof ChangeFeedEvents>(feed: ChangeFeed, name: K, ms = 15_000): Promise<ChangeFeedEvents[K]> {
  try {
    return (await once(feed, name, { signal: AbortSignal.timeout(ms) })) as ChangeFeedEvents[K]
  } catch (error) {
    throw new Error(`no '${name}' from the change feed within ${ms} ms`, { cause: error })
  }
}

describe.skipIf(postgresSkipReason)('the PostgreSQL change feed', () => {
  let database: TestDatabase
  let pool: PostgresPool
  let feed: ChangeFeed
  let heard: Heard[]
  let logs: string[]

  /** Announces `changes` outside any transaction, from a session of the pool (as another writer would). */
  const announce = async (changes: StoreChange[]) => {
    const client = await pool.connect()
    try {
      await notifyChanges(client, changes)
    } finally {
      client.release()
    }
  }
  /** Sends a config change and waits for it: everything committed before it has arrived by then (one session hears in commit order). */
  const barrier = async (table: 'abis' | 'settings' = 'settings') => {
    const arrived = next(feed, 'config')
    await announce([{ change: 'config', table }])
    await arrived
  }

  beforeAll(async () => {
    database = await createTestDatabase()
    pool = await connectPostgres(database.url)
  })
  beforeEach(async () => {
    heard = []
    logs = []
    feed = new ChangeFeed(pool, { reconnectDelayMs: 50, log: (message) => logs.push(message) })
    feed.on('events', (value) => heard.push({ kind: 'events', value }))
    feed.on('heads', (value) => heard.push({ kind: 'heads', value }))
    feed.on('chain', (value) => heard.push({ kind: 'chain', value }))
    feed.on('config', (value) => heard.push({ kind: 'config', value }))
    feed.on('resync', () => heard.push({ kind: 'resync', value: undefined }))
    await feed.start()
  })
  afterEach(async () => {
    await feed.close()
  })
  afterAll(async () => {
    await pool?.end()
    await database?.drop()
  })

  it('hears a change announced in a transaction only once it commits, and never one rolled back', async () => {
    const writer = await pool.connect()
    try {
      await writer.query('BEGIN')
      await notifyChanges(writer, [{ change: 'events', connectionId: 1, lastId: 10, count: 2, perStream: new Map([[7, 2]]) }])
      await barrier('abis')
      expect(heard).toEqual([{ kind: 'config', value: { table: 'abis' } }])

      const committed = next(feed, 'events')
      await writer.query('COMMIT')
      expect(await committed).toEqual([{ connectionId: 1, lastId: 10, count: 2, perStream: new Map([[7, 2]]) }])

      await writer.query('BEGIN')
      await notifyChanges(writer, [{ change: 'events', connectionId: 1, lastId: 20, count: 1, perStream: new Map([[7, 1]]) }])
      await writer.query('ROLLBACK')
      await barrier('settings')
      expect(heard.map((entry) => entry.kind)).toEqual(['config', 'events', 'config'])
    } finally {
      writer.release()
    }
  })

  it('delivers each kind of change as it was sent, in order', async () => {
    const changes: StoreChange[] = [
      {
        change: 'events',
        connectionId: 3,
        lastId: 1_204,
        count: 5,
        perStream: new Map([
          [11, 3],
          [12, 2],
        ]),
      },
      { change: 'heads', connectionId: 3, lastId: 88, count: 1 },
      { change: 'chain', connectionId: 3, kind: 'blocks', number: 19_000_001, hash: `0x${'ab'.repeat(32)}` },
      { change: 'chain', connectionId: 3, kind: 'orphaned', number: 18_999_998 },
      { change: 'chain', connectionId: 3, kind: 'finalized', number: 18_999_936, hash: `0x${'cd'.repeat(32)}` },
      ...CONFIG_TABLES.map((table): StoreChange => ({ change: 'config', table })),
    ]
    const writer = await pool.connect()
    try {
      await writer.query('BEGIN')
      await notifyChanges(writer, changes)
      const last = next(feed, 'config')
      await writer.query('COMMIT')
      await last
      await barrier()
    } finally {
      writer.release()
    }
    const kindOf = { events: 'events', heads: 'heads', chain: 'chain', config: 'config' } as const
    expect(heard.slice(0, changes.length)).toEqual(changes.map(({ change, ...value }) => ({ kind: kindOf[change], value })))
    expect(logs).toEqual([])
  })

  it('splits a batch touching too many streams for one NOTIFY and joins it again', async () => {
    // The server's limit is what the constant says: one byte more is refused.
    await pool.query('SELECT pg_notify($1, $2)', ['tidewatch_limit_probe', 'x'.repeat(MAX_NOTIFY_PAYLOAD_BYTES)])
    await expect(pool.query('SELECT pg_notify($1, $2)', ['tidewatch_limit_probe', 'x'.repeat(MAX_NOTIFY_PAYLOAD_BYTES + 1)])).rejects.toThrow(
      /payload string too long/,
    )

    const perStream = new Map(Array.from({ length: 3_000 }, (_, i) => [1_000_000 + i, (i % 7) + 1] as [number, number]))
    const count = [...perStream.values()].reduce((sum, n) => sum + n, 0)
    const batch = { connectionId: 4, lastId: 5_000_000, count, perStream }
    expect(Buffer.byteLength(JSON.stringify({ change: 'events', ...batch, perStream: [...perStream] }))).toBeGreaterThan(MAX_NOTIFY_PAYLOAD_BYTES)

    // What goes over the wire, seen by a plain listener.
    const raw = new Client({ connectionString: database.url })
    await raw.connect()
    const payloads: string[] = []
    raw.on('notification', (message) => payloads.push(message.payload ?? ''))
    await raw.query(`LISTEN ${CHANGES_CHANNEL}`)
    try {
      const joined = next(feed, 'events')
      await announce([{ change: 'events', ...batch }])
      expect(await joined).toEqual([batch])
      await barrier()
      await raw.query('SELECT 1')
      const parts = payloads.filter((payload) => payload.includes('"events"'))
      expect(parts.length).toBeGreaterThan(1)
      expect(parts).toEqual(changePayloads({ change: 'events', ...batch }))
      for (const part of parts) expect(Buffer.byteLength(part)).toBeLessThanOrEqual(MAX_NOTIFY_PAYLOAD_BYTES)
    } finally {
      await raw.end()
    }
    expect(heard.filter((entry) => entry.kind === 'events')).toHaveLength(1)
  })

  it('logs and ignores a malformed payload on the channel, and goes on hearing', async () => {
    for (const payload of ['not json', '{"change":"events","connectionId":"one","lastId":1,"count":1,"perStream":[]}', '{"change":"teleport"}', ''])
      await pool.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, payload])
    await barrier()
    expect(heard).toEqual([{ kind: 'config', value: { table: 'settings' } }])
    expect(logs).toHaveLength(4)
    for (const line of logs) expect(line).toMatch(/^Change feed: ignored a malformed notification on tidewatch_changes \(.+\)/)
    expect(logs[1]).toContain('connectionId')
  })

  it('listens again when its session is terminated, says resync, and hears what comes after', async () => {
    const firstPid = feed.backendPid
    expect(firstPid).toBeGreaterThan(0)
    const resync = next(feed, 'resync')
    await pool.query('SELECT pg_terminate_backend($1)', [firstPid])
    await resync
    expect(feed.backendPid).toBeGreaterThan(0)
    expect(feed.backendPid).not.toBe(firstPid)
    expect(logs.join('\n')).toMatch(/session broke \(.*terminat.*\); listening again/)

    const heads = next(feed, 'heads')
    await announce([{ change: 'heads', connectionId: 2, lastId: 9, count: 3 }])
    expect(await heads).toEqual([{ connectionId: 2, lastId: 9, count: 3 }])
    expect(heard.map((entry) => entry.kind)).toEqual(['resync', 'heads'])
  })

  it('notices within its heartbeat that its connection went silent, listens again and says resync', async () => {
    const proxy = await startFaultProxy(Number(new URL(database.url).port))
    const throughProxy = new URL(database.url)
    throughProxy.port = String(proxy.port)
    const proxiedPool = await connectPostgres(throughProxy.href)
    const silentFeed = new ChangeFeed(proxiedPool, { heartbeatIntervalMs: 300, reconnectDelayMs: 50, log: (message) => logs.push(message) })
    try {
      await silentFeed.start()
      const firstPid = silentFeed.backendPid
      const resync = next(silentFeed, 'resync')
      proxy.silenceOpen()
      await resync
      expect(silentFeed.backendPid).not.toBe(firstPid)
      expect(logs.join('\n')).toMatch(/did not answer within 300 ms/)

      const config = next(silentFeed, 'config')
      await announce([{ change: 'config', table: 'watchlist' }])
      expect(await config).toEqual([{ table: 'watchlist' }])
    } finally {
      await silentFeed.close()
      await proxy.close()
      await proxiedPool.end()
    }
  })
})

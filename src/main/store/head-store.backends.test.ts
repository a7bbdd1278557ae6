/**
 * PostgresHeadStore keeps heads as SQLite's HeadStore does: the same heads, repeats, reorgs
 * and transaction counts queued into both, then pages, latest heads and what each commit
 * reports compared. PostgreSQL only: a batch the server refuses (a failing insert, a
 * connection cut while it waits for a lock) is kept and retried, landing in order; and two
 * stores on one database each see the other's latest head through the change feed.
 */
import { EventEmitter, once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { asSuperuser, createTestDatabase, postgresSkipReason } from '../../../test/helpers/postgres-test-database'
import type { Head } from '../../shared/contract'
import { openDatabase } from './database'
import { HeadStore, type HeadsCommitted, type NewHead } from './head-store'
import { ChangeFeed } from './postgres/change-feed'
import { openPostgres, type PostgresPool } from './postgres/database'
import { PostgresHeadStore, type PostgresHeadStoreOptions } from './postgres/head-store'

const CONNECTIONS = `INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at)
  VALUES (1, 'a', 'user', 'x', 'ws://a', 0), (2, 'b', 'user', 'x', 'ws://b', 0)`

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const hash = (n: number, salt = 'a'): string => `0x${salt}${n.toString(16).padStart(63, '0')}`

function head(connectionId: number, number: number, salt = 'a', receivedAt = 1_700_000_000_000 + number): NewHead {
  return {
    connectionId,
    number,
    hash: hash(number * 10 + connectionId, salt),
    parentHash: hash((number - 1) * 10 + connectionId, salt),
    timestamp: 1_700_000_000 + number * 12,
    gasUsed: String(number * 1_000),
    gasLimit: '30000000',
    baseFeePerGas: number % 3 === 0 ? null : String(number * 7),
    txCount: number % 4 === 0 ? number % 100 : null,
    receivedAt,
  }
}

function sqliteHeads(): { store: HeadStore; committed: HeadsCommitted[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-heads-'))
  const db = openDatabase(path.join(dir, 'tidewatch.db'))
  db.exec(CONNECTIONS)
  const committed: HeadsCommitted[] = []
  const store = new HeadStore(db, { flushIntervalMs: 10_000, onCommitted: (batches) => committed.push(...batches) })
  cleanups.push(() => {
    db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return { store, committed }
}

async function postgresDatabase(): Promise<{ pool: PostgresPool; url: string; name: string }> {
  const database = await createTestDatabase()
  const pool = await openPostgres(database.url)
  await pool.query(CONNECTIONS)
  cleanups.push(async () => {
    await pool.end()
    await database.drop()
  })
  return { pool, url: database.url, name: database.name }
}

interface Recorded {
  store: PostgresHeadStore
  committed: HeadsCommitted[]
  errors: Error[]
  /** The writes held, as each error reported them. */
  held: number[]
  /** Emits 'committed' and 'error' as the callbacks are called. */
  heard: EventEmitter
}

async function postgresHeads(pool: PostgresPool, options: PostgresHeadStoreOptions = {}): Promise<Recorded> {
  const committed: HeadsCommitted[] = []
  const errors: Error[] = []
  const held: number[] = []
  const heard = new EventEmitter()
  const store = await PostgresHeadStore.open(pool, {
    flushIntervalMs: 10_000,
    ...options,
    onCommitted: (batches) => {
      committed.push(...batches)
      heard.emit('committed', batches)
    },
    onError: (error, retry) => {
      errors.push(error)
      held.push(retry.pendingWrites)
      heard.emit('error', error)
    },
  })
  cleanups.push(() => store.close())
  return { store, committed, errors, held, heard }
}

/** A head without its id: the two databases number rows alike only while no insert is skipped (PostgreSQL's sequence moves on for a repeat). */
const withoutId = ({ id: _id, ...rest }: Head): Omit<Head, 'id'> => rest

describe.skipIf(postgresSkipReason)('PostgresHeadStore keeps heads as HeadStore does', () => {
  it('stores, pages and reports heads, repeats, reorgs and transaction counts alike', async () => {
    const sqlite = sqliteHeads()
    const { pool } = await postgresDatabase()
    const postgres = await postgresHeads(pool)
    const both = async (step: (store: Pick<HeadStore, 'enqueue' | 'enqueueTxCount'>) => void): Promise<void> => {
      step(sqlite.store)
      sqlite.store.flush()
      step(postgres.store)
      await postgres.store.settled()
      expect(postgres.store.pendingCount).toBe(0)
    }
    const same = async (sameIds: boolean): Promise<void> => {
      const strip = (heads: Head[]) => (sameIds ? heads : heads.map(withoutId))
      expect(strip(await postgres.store.list({ limit: 1_000 }))).toStrictEqual(strip(sqlite.store.list({ limit: 1_000 })))
      for (const connectionId of [1, 2, 3]) {
        const latest = postgres.store.latest(connectionId)
        const expected = sqlite.store.latest(connectionId)
        expect(latest && strip([latest])[0]).toStrictEqual(expected && strip([expected])[0])
        // Paged back by each store's own ids, a few heads a page.
        let beforeId: number | undefined
        let beforeIdSqlite: number | undefined
        for (;;) {
          const page = await postgres.store.list({ connectionId, limit: 7, beforeId })
          const expectedPage = sqlite.store.list({ connectionId, limit: 7, beforeId: beforeIdSqlite })
          expect(strip(page)).toStrictEqual(strip(expectedPage))
          if (page.length < 7) break
          beforeId = page.at(-1)!.id
          beforeIdSqlite = expectedPage.at(-1)!.id
        }
      }
      // Each store's report of a batch: its connections, rows added, and its newest id of that connection.
      const reported = (committed: HeadsCommitted[]) => committed.map(({ connectionId, count }) => ({ connectionId, count }))
      expect(reported(postgres.committed)).toStrictEqual(reported(sqlite.committed))
    }

    // Two connections' heads, interleaved: the same ids in both.
    await both((store) => {
      for (let n = 100; n < 130; n++) store.enqueue(head(n % 3 === 0 ? 2 : 1, n))
    })
    await same(true)
    expect(postgres.store.latest(1)?.number).toBe(128)
    expect(postgres.store.latest(2)?.number).toBe(129)
    // Each connection's report holds its newest id.
    const stored = await postgres.store.list({ limit: 1_000 })
    for (const { connectionId, lastId } of postgres.committed)
      expect(lastId).toBe(Math.max(...stored.filter((h) => h.connectionId === connectionId).map((h) => h.id)))

    // Repeats (one of them twice in the batch) stored once; a reorg's second head at the top number, and one below it.
    await both((store) => {
      store.enqueue(head(1, 110))
      store.enqueue(head(1, 130))
      store.enqueue(head(1, 130))
      store.enqueue(head(1, 129, 'b'))
      store.enqueue(head(1, 120, 'b'))
    })
    await same(false)
    expect(postgres.store.latest(1)).toMatchObject({ number: 130 })
    await both((store) => store.enqueue(head(1, 130, 'c')))
    await same(false)
    expect(postgres.store.latest(1)).toMatchObject({ number: 130, hash: hash(1_301, 'c') })

    // Counts: a stored head's, one given before its head in the same batch, one for no head, one given twice (the last wins), the latest head's.
    await both((store) => {
      store.enqueueTxCount(2, head(2, 102).hash, 11)
      store.enqueueTxCount(1, head(1, 131).hash, 12)
      store.enqueue(head(1, 131))
      store.enqueueTxCount(1, hash(999_999), 13)
      store.enqueueTxCount(1, head(1, 101).hash, 14)
      store.enqueueTxCount(1, head(1, 101).hash, 15)
    })
    await same(false)
    expect(postgres.store.latest(1)).toMatchObject({ number: 131, txCount: 12 })
    // Counts alone: reported for their connection with no new rows.
    await both((store) => {
      store.enqueueTxCount(2, head(2, 105).hash, 21)
      store.enqueueTxCount(1, head(1, 131).hash, 22)
    })
    await same(false)
    expect(postgres.committed.at(-1)).toMatchObject({ count: 0 })
    expect(postgres.store.latest(1)).toMatchObject({ number: 131, txCount: 22 })
  })

  it('deletes a connection’s heads and forgets its latest head', async () => {
    const sqlite = sqliteHeads()
    const { pool } = await postgresDatabase()
    const postgres = await postgresHeads(pool)
    for (const store of [sqlite.store, postgres.store]) for (let n = 1; n <= 20; n++) store.enqueue(head(n % 2 === 0 ? 1 : 2, n))
    sqlite.store.flush()
    await postgres.store.settled()
    sqlite.store.deleteForConnection(2)
    await postgres.store.deleteForConnection(2)
    expect(postgres.store.latest(2)).toBeUndefined()
    expect(sqlite.store.latest(2)).toBeUndefined()
    expect(postgres.store.latest(1)).toStrictEqual(sqlite.store.latest(1))
    expect(await postgres.store.list({ limit: 100 })).toStrictEqual(sqlite.store.list({ limit: 100 }))
  })

  it('reads every connection’s latest head at open', async () => {
    const { pool } = await postgresDatabase()
    const first = await postgresHeads(pool)
    for (const h of [head(1, 5), head(1, 7), head(1, 7, 'b'), head(1, 6), head(2, 3)]) first.store.enqueue(h)
    await first.store.settled()
    const reopened = await postgresHeads(pool)
    expect(reopened.store.latest(1)).toStrictEqual(first.store.latest(1))
    expect(reopened.store.latest(1)).toMatchObject({ number: 7, hash: head(1, 7, 'b').hash })
    expect(reopened.store.latest(2)).toMatchObject({ number: 3 })
  })
})

describe.skipIf(postgresSkipReason)('PostgresHeadStore while the server refuses', () => {
  /** A trigger that fails every insert into heads, as a full disk would, until healed. */
  async function breakInserts(pool: PostgresPool): Promise<() => Promise<void>> {
    await pool.query(`CREATE TABLE fail_inserts (on_purpose INTEGER);
      INSERT INTO fail_inserts VALUES (1);
      CREATE FUNCTION fail_heads() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF EXISTS (SELECT 1 FROM fail_inserts) THEN RAISE EXCEPTION 'could not extend file: No space left on device'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER heads_fail BEFORE INSERT ON heads FOR EACH ROW EXECUTE FUNCTION fail_heads();`)
    return async () => void (await pool.query('DELETE FROM fail_inserts'))
  }

  const numbers = async (store: PostgresHeadStore): Promise<number[]> => (await store.list({ limit: 100 })).map((h) => h.number).reverse()

  it('keeps a refused batch, queues what comes after it, and commits both in order once the server takes them', async () => {
    const { pool } = await postgresDatabase()
    const { store, committed, errors, held, heard } = await postgresHeads(pool)
    store.enqueue(head(1, 1))
    await store.settled()
    const heal = await breakInserts(pool)
    store.enqueue(head(1, 2))
    store.enqueue(head(1, 3))
    const refused = once(heard, 'error')
    store.flush()
    // Queued while the batch is with the server: it goes after the batch, refused or not.
    store.enqueue(head(1, 4))
    await refused
    expect(errors.map((e) => e.message)).toEqual(['could not extend file: No space left on device'])
    expect(store.failing).toBe(true)
    expect(store.pendingCount).toBe(3)
    expect(held).toEqual([3])
    store.enqueue(head(1, 5))
    store.enqueueTxCount(1, head(1, 2).hash, 9)
    // While failing, settled() does not wait for the retry.
    await store.settled()
    expect(store.pendingCount).toBe(5)
    expect(await numbers(store)).toEqual([1])
    expect(store.latest(1)).toMatchObject({ number: 1 })
    await heal()
    // The retry timer commits without anyone calling flush().
    await once(heard, 'committed')
    expect(store.failing).toBe(false)
    expect(store.pendingCount).toBe(0)
    expect(await numbers(store)).toEqual([1, 2, 3, 4, 5])
    expect((await store.list({ limit: 100 })).find((h) => h.number === 2)?.txCount).toBe(9)
    expect(committed.map((c) => c.count)).toEqual([1, 4])
    expect(store.latest(1)).toMatchObject({ number: 5 })
  })

  it('retries a batch whose connection is cut while it waits for a lock', async () => {
    const { pool, name } = await postgresDatabase()
    const { store, errors, heard } = await postgresHeads(pool)
    const locker = await pool.connect()
    cleanups.push(() => locker.release(true))
    await locker.query('BEGIN; LOCK TABLE heads IN EXCLUSIVE MODE')
    store.enqueue(head(1, 1))
    store.enqueue(head(2, 1))
    const refused = once(heard, 'error')
    store.flush()
    // The batch's session, waiting for the lock, is ended by the server's administrator.
    for (;;) {
      const { rows } = await asSuperuser((client) =>
        client.query<{ ended: boolean }>(
          "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO heads%'",
          [name],
        ),
      )
      if (rows.some((row) => row.ended)) break
    }
    await refused
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/terminat/i)])
    await locker.query('COMMIT')
    await once(heard, 'committed')
    expect(await numbers(store)).toEqual([1, 1])
    expect(store.latest(1)).toMatchObject({ number: 1 })
    expect(store.latest(2)).toMatchObject({ number: 1 })
  })

  it('close() commits what is queued, even while a retry is due', async () => {
    const { pool } = await postgresDatabase()
    const { store, heard } = await postgresHeads(pool)
    const heal = await breakInserts(pool)
    store.enqueue(head(1, 1))
    const refused = once(heard, 'error')
    store.flush()
    await refused
    await heal()
    store.enqueue(head(1, 2))
    await store.close()
    expect(store.pendingCount).toBe(0)
    expect(await numbers(store)).toEqual([1, 2])
  })
})

describe.skipIf(postgresSkipReason)('PostgresHeadStore instances sharing a database', () => {
  /** The store following the change feed as the engine wires it; emits 'noted' once a change is in `latest`. */
  async function following(pool: PostgresPool): Promise<{ store: PostgresHeadStore; noted: EventEmitter }> {
    const { store } = await postgresHeads(pool)
    const feed = new ChangeFeed(pool)
    await feed.start()
    cleanups.push(() => feed.close())
    const noted = new EventEmitter()
    feed.on('heads', (batch) => void store.noteCommitted(batch).then(() => noted.emit('noted', batch)))
    feed.on('resync', () => void store.reloadLatest())
    return { store, noted }
  }

  /**
   * Resolves once `holds()` is true: checked at once (the change may already have been noted
   * while the caller awaited its own write) and again after every change `noted` reports.
   */
  const until = (noted: EventEmitter, holds: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      if (holds()) return resolve()
      const listener = () => {
        if (!holds()) return
        noted.off('noted', listener)
        resolve()
      }
      noted.on('noted', listener)
    })
  const sameHead = (x: Head | undefined, y: Head | undefined): boolean => JSON.stringify(x) === JSON.stringify(y)

  it('each sees the other’s latest head, transaction count and reorg through the change feed', async () => {
    const { pool } = await postgresDatabase()
    const a = await following(pool)
    const b = await following(pool)

    a.store.enqueue(head(1, 10))
    await a.store.settled()
    const first = a.store.latest(1)!
    await until(b.noted, () => sameHead(b.store.latest(1), first))
    expect(b.store.latest(1)).toStrictEqual(first)

    b.store.enqueue(head(1, 11))
    b.store.enqueue(head(2, 4))
    await b.store.settled()
    await until(a.noted, () => sameHead(a.store.latest(1), b.store.latest(1)) && sameHead(a.store.latest(2), b.store.latest(2)))
    expect(a.store.latest(1)).toStrictEqual(b.store.latest(1))
    expect(a.store.latest(2)).toStrictEqual(b.store.latest(2))
    expect(a.store.latest(1)).toMatchObject({ number: 11 })

    // A count for the head the other store wrote: both stores' latest head carries it.
    a.store.enqueueTxCount(1, head(1, 11).hash, 42)
    await a.store.settled()
    expect(a.store.latest(1)).toMatchObject({ number: 11, txCount: 42 })
    await until(b.noted, () => b.store.latest(1)?.txCount === 42)
    expect(b.store.latest(1)).toMatchObject({ number: 11, txCount: 42 })

    // A reorg's second head at the same number, written by A: B's latest is it.
    a.store.enqueue(head(1, 11, 'r'))
    await a.store.settled()
    await until(b.noted, () => sameHead(b.store.latest(1), a.store.latest(1)))
    expect(b.store.latest(1)).toStrictEqual(a.store.latest(1))
    expect(b.store.latest(1)).toMatchObject({ hash: head(1, 11, 'r').hash })

    // What no change announces (another instance deleting) is read again on reload.
    await b.store.deleteForConnection(2)
    expect(b.store.latest(2)).toBeUndefined()
    expect(a.store.latest(2)).toBeDefined()
    await a.store.reloadLatest()
    expect(a.store.latest(2)).toBeUndefined()
    expect(a.store.latest(1)).toStrictEqual(b.store.latest(1))
  })
})

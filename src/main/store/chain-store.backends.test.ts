/**
 * One ChainStore suite, every backend: SQLite (as the app wires it, appends through the
 * events writer thread) and PostgreSQL (the throwaway server of the test run; skipped, with
 * the printed reason, where it cannot start). Each case reopens the store to check that
 * what it answers is what is stored, not only what the process remembers.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Pool } from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestDatabase, postgresSkipReason } from '../../../test/helpers/postgres-test-database'
import { waitFor } from '../../../test/helpers/scripted-server'
import type { BlockWithLogs, ChainLog, ChainStore } from './chain-store'
import { openDatabase, type Db } from './database'
import { EventStore } from './event-store'
import { ChangeFeed, type ChainChanged } from './postgres/change-feed'
import { ChainMovedError, PostgresChainStore, PostgresFollowedChain } from './postgres/chain-store'
import { openPostgres } from './postgres/database'
import { SqliteChainStore } from './sqlite-chain-store'

interface Backend {
  chain: ChainStore
  /** A captured event of stream 7 pointing at this log (the pruner must keep the log). */
  pointAt(log: ChainLog): Promise<void>
  /** Closes and opens the store again, as a restart would. */
  reopen(): Promise<ChainStore>
  /** Every chain_logs row, as "block:logIndex:hash", in order. */
  storedLogs(): Promise<string[]>
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function sqliteBackend(): Promise<Backend> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-chain-'))
  let db: Db
  let events: EventStore
  const open = (): ChainStore => {
    db = openDatabase(path.join(dir, 'tidewatch.db'))
    db.prepare("INSERT OR IGNORE INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'c', 'user', 'x', 'ws://x', 0)").run()
    db.prepare("INSERT OR IGNORE INTO streams (id, connection_id, stream_key) VALUES (7, 1, 'logs')").run()
    events = new EventStore(db)
    const settle = (): boolean => {
      events.flush()
      return events.pendingCount === 0
    }
    return new SqliteChainStore(db, 1, { queue: events, writeGate: (write) => events.exclusive(write), settleCaptured: settle })
  }
  const close = (): void => {
    events.close()
    db.close()
  }
  cleanups.push(() => {
    close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return {
    chain: open(),
    pointAt(log) {
      events.enqueueLog(1, 7, log, true)
      events.flush()
      return Promise.resolve()
    },
    reopen() {
      close()
      return Promise.resolve(open())
    },
    storedLogs() {
      const rows = db.prepare('SELECT block_number, log_index, block_hash FROM chain_logs ORDER BY block_number, log_index, block_hash').all() as StoredKey[]
      return Promise.resolve(rows.map(storedKey))
    },
  }
}

async function postgresBackend(): Promise<Backend> {
  const database = await createTestDatabase()
  let pool: Pool = await openPostgres(database.url)
  await pool.query("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'c', 'user', 'x', 'ws://x', 0)")
  await pool.query("INSERT INTO streams (id, connection_id, stream_key) VALUES (7, 1, 'logs')")
  cleanups.push(async () => {
    await pool.end()
    await database.drop()
  })
  return {
    chain: await PostgresChainStore.open(pool, 1),
    async pointAt(log) {
      await pool.query(
        "INSERT INTO events (connection_id, stream_id, kind, block_number, block_hash, log_index, received_at) VALUES (1, 7, 'log', $1, $2, $3, 0)",
        [log.blockNumber, log.blockHash, log.logIndex],
      )
    },
    async reopen() {
      await pool.end()
      pool = await openPostgres(database.url)
      return PostgresChainStore.open(pool, 1)
    },
    async storedLogs() {
      const { rows } = await pool.query<StoredKey>('SELECT block_number, log_index, block_hash FROM chain_logs ORDER BY block_number, log_index, block_hash')
      return rows.map(storedKey)
    },
  }
}

interface StoredKey {
  block_number: number
  log_index: number
  block_hash: string
}
const storedKey = (row: StoredKey): string => `${row.block_number}:${row.log_index}:${row.block_hash === hash(row.block_number) ? 'main' : 'fork'}`

const hash = (n: number, branch = 0): string => `0x${(n * 1000 + branch).toString(16).padStart(64, '0')}`
const ADDRESS = '0x00000000000000000000000000000000000000aa'
const KEPT = '0x00000000000000000000000000000000000000bb'

function log(number: number, logIndex: number, branch = 0, address = ADDRESS): ChainLog {
  const raw = {
    address: address.replace('aa', 'AA'),
    topics: ['0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'],
    data: `0x${logIndex.toString(16).padStart(64, '0')}`,
    blockNumber: `0x${number.toString(16)}`,
    blockHash: hash(number, branch),
    transactionHash: `0x${(number * 100 + logIndex).toString(16).padStart(64, 'f')}`,
    transactionIndex: '0x0',
    logIndex: `0x${logIndex.toString(16)}`,
    blockTimestamp: '0x65',
  }
  return {
    blockHash: raw.blockHash,
    blockNumber: number,
    logIndex,
    transactionHash: raw.transactionHash,
    transactionIndex: 0,
    address,
    topics: raw.topics,
    data: raw.data,
    raw,
  }
}

function block(number: number, logs: ChainLog[], branch = 0, parentBranch = branch): BlockWithLogs {
  return {
    block: {
      number,
      hash: hash(number, branch),
      parentHash: hash(number - 1, number - 1 === 10 ? 0 : parentBranch),
      timestamp: number * 12,
      header: { n: number },
    },
    logs,
  }
}

/** Blocks 10..to on branch 0 (10 is the first tracked block), two logs each. */
async function chainTo(chain: ChainStore, to: number): Promise<void> {
  for (let n = 10; n <= to; n++) await chain.appendBlocks([block(n, [log(n, 0), log(n, 1)])], 10)
}

/** Runs the checks on the store as it is, then again on the store reopened (what is stored, not only remembered). */
async function beforeAndAfterRestart(backend: Backend, check: (chain: ChainStore) => void): Promise<ChainStore> {
  check(backend.chain)
  const reopened = await backend.reopen()
  check(reopened)
  return reopened
}

const keys = (blocks: BlockWithLogs[]): string[][] => blocks.map((b) => [b.block.hash, ...b.logs.map((l) => `${l.blockNumber}:${l.logIndex}`)])

const backends: [string, () => Promise<Backend>, string | undefined][] = [
  ['SQLite', sqliteBackend, undefined],
  ['PostgreSQL', postgresBackend, postgresSkipReason],
]

describe.each(backends)('ChainStore on %s', (_name, open, skipReason) => {
  it.skipIf(skipReason !== undefined)('appends blocks with their logs and answers the same after a restart', async () => {
    const backend = await open()
    // One group of three blocks in one write, then one more.
    await backend.chain.appendBlocks([block(10, [log(10, 0)]), block(11, []), block(12, [log(12, 0), log(12, 1)])], 10)
    await backend.chain.appendBlocks([block(13, [log(13, 0)])], 10)
    await beforeAndAfterRestart(backend, (chain) => {
      expect(chain.cursor()).toEqual({ firstBlock: 10, number: 13, hash: hash(13), finalized: -1 })
      expect(keys(chain.canonicalRange(11, 13))).toEqual([[hash(11)], [hash(12), '12:0', '12:1'], [hash(13), '13:0']])
      expect(chain.canonicalHash(12)).toBe(hash(12))
      expect(chain.blockAt(12)).toEqual({ hash: hash(12), parentHash: hash(11) })
      expect(chain.oldestCanonical()).toBe(10)
      // The raw log comes back exactly as received, field order and unknown fields included.
      const stored = chain.canonicalLogs(12, 12)[1]!
      expect(Object.keys(stored.raw)).toEqual(Object.keys(log(12, 1).raw))
      expect(stored).toEqual(log(12, 1))
    })
  })

  it('orphans above a block, takes the branch back by hash, and puts a re-appended block back', async () => {
    const backend = await open()
    await chainTo(backend.chain, 14)
    const orphaned = await backend.chain.orphanAbove({ number: 12, hash: hash(12) })
    expect(keys(orphaned)).toEqual([
      [hash(14), '14:0', '14:1'],
      [hash(13), '13:0', '13:1'],
    ])
    expect(backend.chain.cursor()).toMatchObject({ number: 12, hash: hash(12) })
    // The replacement branch: 13' and 14', the first with one log only.
    await backend.chain.appendBlocks([block(13, [log(13, 0, 1)], 1, 0), block(14, [], 1)], 10)
    const chain = await beforeAndAfterRestart(backend, (chain) => {
      expect(chain.canonicalHash(13)).toBe(hash(13, 1))
      expect(keys(chain.canonicalRange(12, 14))).toEqual([[hash(12), '12:0', '12:1'], [hash(13, 1), '13:0'], [hash(14, 1)]])
      const branch = chain.branchOf(hash(14))
      expect(branch.state).toBe('orphaned')
      expect(branch.state === 'orphaned' && branch.ancestor).toBe(12)
      expect(branch.state === 'orphaned' && keys(branch.orphaned)).toEqual([
        [hash(14), '14:0', '14:1'],
        [hash(13), '13:0', '13:1'],
      ])
      expect(chain.branchOf(hash(12))).toEqual({ state: 'canonical', number: 12 })
      expect(chain.branchOf(hash(99))).toEqual({ state: 'unknown' })
      // An orphaned block is still known at its height when no canonical one is.
      expect(chain.blockAt(14)).toEqual({ hash: hash(14, 1), parentHash: hash(13, 1) })
    })
    // The orphaned block 13 comes back: canonical again, with the logs given now.
    await chain.orphanAbove({ number: 12, hash: hash(12) })
    await chain.appendBlocks([block(13, [log(13, 1)])], 10)
    expect(keys(chain.canonicalRange(13, 13))).toEqual([[hash(13), '13:1']])
    expect((await backend.reopen()).canonicalHash(13)).toBe(hash(13))
  })

  it('adds a late filter’s logs to stored blocks', async () => {
    const backend = await open()
    await chainTo(backend.chain, 12)
    await backend.chain.insertLogs([log(11, 5, 0, KEPT), log(11, 5, 0, KEPT), log(12, 7, 0, KEPT)])
    await beforeAndAfterRestart(backend, (chain) =>
      expect(chain.canonicalLogs(11, 12).map((l) => `${l.blockNumber}:${l.logIndex}`)).toEqual(['11:0', '11:1', '11:5', '12:0', '12:1', '12:7']),
    )
  })

  it('prunes what finality made useless, keeping wanted and captured logs, and walks final logs once', async () => {
    const backend = await open()
    await chainTo(backend.chain, 15)
    await backend.chain.insertLogs([log(11, 9, 0, KEPT)])
    // A fork at 13 leaves 13..15 orphaned; the new branch reaches 20.
    await backend.chain.orphanAbove({ number: 12, hash: hash(12) })
    await backend.chain.appendBlocks([block(13, [], 1, 0), ...[14, 15, 16, 17, 18, 19, 20].map((n) => block(n, [log(n, 0, 1)], 1))], 10)
    await backend.pointAt(log(11, 1))
    await backend.pointAt(log(14, 0))
    await backend.chain.setFinalized(16)
    expect(backend.chain.cursor()?.finalized).toBe(16)
    expect(await backend.chain.settled()).toBe(true)
    const keep = (l: Pick<ChainLog, 'address'>): boolean => l.address === KEPT
    let batches = 0
    for (;;) {
      batches += 1
      const { done } = await backend.chain.pruneFinal(16, 2, keep)
      if (done || batches > 50) break
    }
    expect(batches).toBeGreaterThan(1)
    await beforeAndAfterRestart(backend, (chain) => {
      // Canonical blocks below the finalized one are gone; the finalized block anchors.
      expect(chain.oldestCanonical()).toBe(16)
      expect(chain.canonicalHash(15)).toBeUndefined()
      // Final orphans are gone too: a cursor on one is unknown now.
      expect(chain.branchOf(hash(14))).toEqual({ state: 'unknown' })
      expect(chain.canonicalRange(17, 20).map((b) => b.block.number)).toEqual([17, 18, 19, 20])
      expect(chain.cursor()).toEqual({ firstBlock: 10, number: 20, hash: hash(20, 1), finalized: 16 })
    })
    // Kept: the captured logs (11:1 final, 14:0 of an orphaned block), the wanted one (11:9), the non-final ones.
    expect(await backend.storedLogs()).toEqual(['11:1:main', '11:9:main', '14:0:main', '17:0:fork', '18:0:fork', '19:0:fork', '20:0:fork'])
    // Pruning again finds nothing new: the walk kept its position across the restart.
    const again = await backend.reopen()
    expect(await again.pruneFinal(16, 2, keep)).toEqual({ rows: 0, done: true })
  })
})

/** A fresh database with connection 1 in it, dropped after the test. */
async function postgresWithConnection(): Promise<Pool> {
  const database = await createTestDatabase()
  const pool = await openPostgres(database.url)
  cleanups.push(async () => {
    await pool.end()
    await database.drop()
  })
  await pool.query("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'c', 'user', 'x', 'ws://x', 0)")
  return pool
}

describe.skipIf(postgresSkipReason !== undefined)('PostgresChainStore', () => {
  it('announces each committed change on the change feed, for viewers, and nothing for a write that failed', async () => {
    const pool = await postgresWithConnection()
    const feed = new ChangeFeed(pool, { reconnectDelayMs: 50 })
    cleanups.push(() => feed.close())
    const heard: ChainChanged[] = []
    feed.on('chain', (change) => heard.push(change))
    await feed.start()
    const chain = await PostgresChainStore.open(pool, 1)
    await chain.appendBlocks([block(10, [log(10, 0)]), block(11, [])], 10)
    await chain.setFinalized(10)
    // Not moved: nothing to announce.
    await chain.setFinalized(9)
    await chain.orphanAbove({ number: 10, hash: hash(10) })
    // A block of a connection that does not exist fails (foreign key): neither stored nor announced.
    const stray = await PostgresChainStore.open(pool, 2)
    await expect(stray.appendBlocks([block(12, [])], 12)).rejects.toThrow(/foreign key/)
    await chain.appendBlocks([block(11, [], 1, 0)], 10)
    await expect.poll(() => heard.length).toBe(4)
    expect(heard).toEqual([
      { connectionId: 1, kind: 'blocks', number: 11, hash: hash(11) },
      { connectionId: 1, kind: 'finalized', number: 10 },
      { connectionId: 1, kind: 'orphaned', number: 10, hash: hash(10) },
      { connectionId: 1, kind: 'blocks', number: 11, hash: hash(11, 1) },
    ])
    expect(stray.cursor()).toBeUndefined()
  })

  it('does not run a write made after one that failed, so the stored chain never skips a block', async () => {
    const pool = await postgresWithConnection()
    // Block 12 cannot be stored (as a full disk or a lost connection would refuse it) until the trigger goes.
    await pool.query(`CREATE FUNCTION refuse_12() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused block 12'; END $$;
      CREATE TRIGGER refuse_12 BEFORE INSERT ON chain_blocks FOR EACH ROW WHEN (NEW.number = 12) EXECUTE FUNCTION refuse_12();`)
    const chain = await PostgresChainStore.open(pool, 1)
    await chain.appendBlocks([block(10, []), block(11, [])], 10)
    // Two groups handed over at once, as the tracker does while one commits.
    const first = chain.appendBlocks([block(12, [log(12, 0)])], 10)
    const second = chain.appendBlocks([block(13, [])], 10)
    await expect(first).rejects.toThrow(/refused block 12/)
    await expect(second).rejects.toThrow(/refused block 12/)
    expect(chain.cursor()).toMatchObject({ number: 11 })
    expect((await pool.query('SELECT number FROM chain_blocks ORDER BY number')).rows).toEqual([{ number: 10 }, { number: 11 }])
    // Once the cause is gone, the tracker's retry stores both.
    await pool.query('DROP TRIGGER refuse_12 ON chain_blocks')
    await chain.appendBlocks([block(12, [log(12, 0)]), block(13, [])], 10)
    expect(chain.cursor()).toMatchObject({ number: 13 })
    expect(chain.canonicalRange(10, 13).map((b) => b.block.number)).toEqual([10, 11, 12, 13])
  })

  it('refuses the writes of a capturer whose chain another capturer moved (a leader that stalled past losing the lock)', async () => {
    const pool = await postgresWithConnection()
    const stale = await PostgresChainStore.open(pool, 1)
    await stale.appendBlocks([block(10, []), block(11, [])], 10)
    // The next leader opens the store where the first one left it, and moves on.
    const next = await PostgresChainStore.open(pool, 1)
    await next.appendBlocks([block(12, [log(12, 0)])], 10)
    // The first one wakes up and writes as if it still led: refused, nothing of it stored.
    await expect(stale.appendBlocks([block(12, [], 1, 0)], 10)).rejects.toThrow(ChainMovedError)
    await expect(stale.orphanAbove({ number: 10, hash: hash(10) })).rejects.toThrow(ChainMovedError)
    expect((await pool.query('SELECT number, hash FROM chain_cursor')).rows).toEqual([{ number: 12, hash: hash(12) }])
    expect((await pool.query('SELECT hash FROM chain_blocks WHERE canonical ORDER BY number')).rows.map((r: { hash: string }) => r.hash)).toEqual([
      hash(10),
      hash(11),
      hash(12),
    ])
    // The leader's own writes go on.
    await next.appendBlocks([block(13, [])], 10)
    expect(next.cursor()).toMatchObject({ number: 13 })
  })

  it('brings a follower up to date with what the capturer stores: new blocks, a reorg, finality, and a filter it asked for', async () => {
    const pool = await postgresWithConnection()
    const feed = new ChangeFeed(pool, { reconnectDelayMs: 50 })
    cleanups.push(() => feed.close())
    await feed.start()
    const leader = await PostgresChainStore.open(pool, 1, { feed })
    cleanups.push(() => leader.close())
    await chainTo(leader, 12)
    const follower = await PostgresFollowedChain.open(pool, 1, { feed, owner: 'test follower' })
    cleanups.push(() => follower.close())
    let changes = 0
    follower.onChanged(() => (changes += 1))
    expect(follower.cursor()).toMatchObject({ number: 12, hash: hash(12) })
    expect(follower.canonicalLogs(10, 12)).toHaveLength(6)

    // The capturer's tracker: a reorg of 12, two blocks on the new branch, finality.
    await leader.orphanAbove({ number: 11, hash: hash(11) })
    await leader.appendBlocks([block(12, [log(12, 0, 1)], 1, 0), block(13, [], 1)], 10)
    await leader.setFinalized(11)
    await waitFor('the follower told three times', () => changes >= 3)
    const apply = await follower.catchUp()
    // Read, not applied: the window is as it was until the step runs (a watch never sees half of it).
    expect(follower.cursor()).toMatchObject({ number: 12, hash: hash(12) })
    expect(follower.canonicalHash(12)).toBe(hash(12))
    const caught = apply()
    expect(caught.ancestor).toEqual({ number: 11, hash: hash(11) })
    expect(keys(caught.orphaned)).toEqual([[hash(12), '12:0', '12:1']])
    expect(keys(caught.appended)).toEqual([[hash(12, 1), '12:0'], [hash(13, 1)]])
    expect(caught.finalized).toBe(11)
    expect(follower.cursor()).toEqual({ firstBlock: 10, number: 13, hash: hash(13, 1), finalized: 11 })
    expect(follower.branchOf(hash(12))).toMatchObject({ state: 'orphaned', ancestor: 11 })
    // Final blocks below the finalized one leave the window; the finalized block stays, the anchor.
    expect(follower.oldestCanonical()).toBe(11)
    // Nothing new: nothing changes.
    expect((await follower.catchUp())()).toEqual({ orphaned: [], ancestor: null, appended: [], finalized: null, activeFilters: new Set() })

    // A filter the follower asks for: the capturer hears of it, stores its matches in the blocks held, and marks it active with them.
    const key = follower.shareFilter({ address: [KEPT] })
    await waitFor('the capturer hears of the filter', () => leader.sharedFilters().length === 1)
    expect(leader.sharedFilters()[0]!.filter).toEqual({ address: [KEPT] })
    expect((await follower.catchUp())().activeFilters).toEqual(new Set())
    await leader.insertLogs([log(13, 4, 1, KEPT)], [leader.sharedFilters()[0]!.id])
    const activated = (await follower.catchUp())()
    expect(activated.activeFilters).toEqual(new Set([key]))
    expect(follower.canonicalLogs(13, 13).map((l) => `${l.address}:${l.logIndex}`)).toEqual([`${KEPT}:4`])

    // Dropped: the capturer stops fetching it. The follower wrote nothing of the chain.
    follower.unshare(key)
    await waitFor('the capturer hears it went', () => leader.sharedFilters().length === 0)
    // An irreversible_only client there: the capturer is asked for prompt finality, and hears when that goes too.
    const prompt = follower.sharePromptFinality()
    await waitFor('the capturer hears of the ask', () => leader.sharedFilters().length === 1)
    expect(leader.sharedFilters()[0]).toMatchObject({ filter: null, promptFinality: true })
    follower.unshare(prompt)
    await waitFor('the capturer hears the ask went', () => leader.sharedFilters().length === 0)
    expect((await pool.query('SELECT number, hash, finalized FROM chain_cursor')).rows).toEqual([{ number: 13, hash: hash(13, 1), finalized: 11 }])
  })

  it('catches a follower up on what it missed while its feed was down, and registers its filters again if they were swept', async () => {
    const pool = await postgresWithConnection()
    const followerFeed = new ChangeFeed(pool, { reconnectDelayMs: 50 })
    cleanups.push(() => followerFeed.close())
    await followerFeed.start()
    const leader = await PostgresChainStore.open(pool, 1)
    cleanups.push(() => leader.close())
    await chainTo(leader, 11)
    const follower = await PostgresFollowedChain.open(pool, 1, { feed: followerFeed, owner: 'test follower' })
    cleanups.push(() => follower.close())
    let changes = 0
    follower.onChanged(() => (changes += 1))
    const key = follower.shareFilter({ address: [KEPT] })
    await waitFor('the filter row', async () => (await pool.query('SELECT id FROM stream_filters')).rows.length === 1)
    const [{ id: firstRow }] = (await pool.query<{ id: string }>('SELECT id FROM stream_filters')).rows as [{ id: string }]
    await leader.insertLogs([], [Number(firstRow)])
    await waitFor('told of the activation', () => changes >= 1)
    expect((await follower.catchUp())().activeFilters).toEqual(new Set([key]))

    // The capturer sweeps the follower's filter (as for a follower not heard of in 90 s), the feed's session goes, and meanwhile the chain reorganizes and grows.
    const toldBefore = changes
    await pool.query('DELETE FROM stream_filters')
    await pool.query('SELECT pg_terminate_backend($1)', [followerFeed.backendPid])
    await leader.orphanAbove({ number: 10, hash: hash(10) })
    await leader.appendBlocks([block(11, [log(11, 0, 1)], 1, 0), block(12, [], 1)], 10)
    // Listening again: the follower is told to catch up, and inserts its filter again (inactive until the capturer holds it).
    await waitFor('told after the feed came back', () => changes > toldBefore, 10_000)
    await waitFor('the filter registered again', async () => (await pool.query('SELECT id FROM stream_filters')).rows.length === 1)
    const caught = (await follower.catchUp())()
    expect(caught.ancestor).toEqual({ number: 10, hash: hash(10) })
    expect(keys(caught.orphaned)).toEqual([[hash(11), '11:0', '11:1']])
    expect(keys(caught.appended)).toEqual([[hash(11, 1), '11:0'], [hash(12, 1)]])
    expect(caught.activeFilters).toEqual(new Set())
    const [{ id: again }] = (await pool.query<{ id: string }>('SELECT id FROM stream_filters')).rows as [{ id: string }]
    expect(again).not.toBe(firstRow)
    await leader.insertLogs([], [Number(again)])
    expect((await follower.catchUp())().activeFilters).toEqual(new Set([key]))
  })

  it('ignores a filter row no Tidewatch wrote, and drops filters no follower refreshed', async () => {
    const pool = await postgresWithConnection()
    await pool.query(`INSERT INTO stream_filters (connection_id, filter_json, owner, seen_at) VALUES
      (1, 'not json', 'x', 0), (1, '{"address":["0xnot-an-address"]}', 'x', 0), (1, '{"address":["${KEPT}"]}', 'x', 0)`)
    const leader = await PostgresChainStore.open(pool, 1, { filterSweepMs: 50 })
    cleanups.push(() => leader.close())
    expect(leader.sharedFilters().map((f) => f.filter)).toEqual([{ address: [KEPT] }])
    // seen_at 0 is long past FILTER_EXPIRY_MS: swept.
    await waitFor('the stale rows swept', () => leader.sharedFilters().length === 0)
    expect((await pool.query('SELECT count(*)::int AS n FROM stream_filters')).rows).toEqual([{ n: 0 }])
  })
})

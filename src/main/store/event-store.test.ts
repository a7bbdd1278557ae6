import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { NormalizedEvent } from './captured-event'
import { openDatabase, WAL_SIZE_LIMIT_BYTES, type Db } from './database'
import { CHAIN_WRITE } from './chain-writes'
import { EventStore, type EventsCommitted } from './event-store'

const cleanups: (() => void)[] = []
afterEach(() =>
  cleanups
    .splice(0)
    .reverse()
    .forEach((cleanup) => cleanup()),
)

function open(options: ConstructorParameters<typeof EventStore>[1] = {}): { db: Db; store: EventStore; committed: EventsCommitted[]; errors: Error[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-events-'))
  const db = openDatabase(path.join(dir, 'tidewatch.db'))
  const committed: EventsCommitted[] = []
  const errors: Error[] = []
  const store = new EventStore(db, {
    flushIntervalMs: 10_000,
    ...options,
    onCommitted: (batches) => committed.push(...batches),
    onError: (error) => errors.push(error),
  })
  cleanups.push(() => {
    store.close()
    db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return { db, store, committed, errors }
}

const log = (n: number): NormalizedEvent => ({
  kind: 'log',
  blockNumber: n,
  blockHash: `0x${n.toString(16).padStart(64, '0')}`,
  transactionHash: `0x${(n + 1).toString(16).padStart(64, 'a')}`,
  transactionIndex: 0,
  logIndex: 0,
  address: '0x00000000000000000000000000000000000000aa',
  topics: ['0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'],
  data: '0x',
  removed: false,
  payload: null,
})

const storedBlocks = (db: Db): number[] => db.prepare("SELECT block_number FROM events WHERE kind = 'log' ORDER BY id").pluck().all() as number[]

/** Makes every insert into events fail as a full disk would, until healed. */
function breakInserts(db: Db): () => void {
  db.exec(`CREATE TABLE fail_inserts (on_purpose INTEGER);
    INSERT INTO fail_inserts VALUES (1);
    CREATE TRIGGER events_fail BEFORE INSERT ON events WHEN (SELECT COUNT(*) FROM fail_inserts) > 0
    BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;`)
  return () => db.exec('DELETE FROM fail_inserts')
}

describe('EventStore', () => {
  it('keeps a raw log exactly, key order and unknown fields included, storing only what its columns cannot rebuild', () => {
    const { db, store } = open()
    const base = log(26)
    const raw = {
      address: '0x00000000000000000000000000000000000000AA',
      topics: base.topics,
      data: '0x',
      blockHash: base.blockHash,
      blockNumber: '0x1a',
      blockTimestamp: '0x6753a1c0',
      transactionHash: base.transactionHash,
      transactionIndex: '0x0',
      logIndex: '0x0',
      removed: false,
    }
    store.enqueue(1, 10, { ...base, payload: raw })
    store.flush()
    const [event] = store.list({ limit: 1 })
    expect(JSON.stringify(event!.payload)).toBe(JSON.stringify(raw))
    const stored = db.prepare('SELECT payload FROM events').pluck().get() as string
    // The checksummed address differs from the lowercase column: kept as it came.
    expect(JSON.parse(stored)).toEqual(
      ['0x00000000000000000000000000000000000000AA', 't', 'd', 'h', 'n', ['blockTimestamp', '0x6753a1c0'], 'x', 'i', 'l', ['removed', false]].map((v, i) =>
        i === 0 ? ['address', v] : v,
      ),
    )
    expect(stored.length).toBeLessThan(JSON.stringify(raw).length / 2)
    // A retraction does not rewrite the raw object.
    store.enqueueRemoved(10, base.blockHash!, 0)
    store.flush()
    expect(store.list({ limit: 1 })[0]!.payload).toEqual(raw)
  })

  it('commits on its writer thread and reports new rows per connection and stream', () => {
    const { db, store, committed } = open()
    expect(store.writerKind).toBe('worker')
    store.enqueue(1, 10, log(1))
    store.enqueue(1, 11, log(2))
    store.enqueue(2, 20, log(3))
    expect(store.pendingCount).toBe(3)
    store.flush()
    expect(store.pendingCount).toBe(0)
    expect(storedBlocks(db)).toEqual([1, 2, 3])
    expect(committed).toEqual([
      {
        connectionId: 1,
        lastId: 2,
        count: 2,
        perStream: new Map([
          [10, 1],
          [11, 1],
        ]),
      },
      { connectionId: 2, lastId: 3, count: 1, perStream: new Map([[20, 1]]) },
    ])
    const [row] = store.list({ limit: 1, connectionId: 2 })
    expect(row).toMatchObject({ kind: 'log', blockNumber: 3, topics: log(3).topics, streamId: 20 })
  })

  it('a full batch goes to the writer at once and the next one queues while it commits', () => {
    const { db, store } = open({ maxBatch: 3 })
    for (let n = 1; n <= 7; n++) store.enqueue(1, 1, log(n))
    // 1-3 went as a batch; 4-7 wait for its reply (one batch in flight).
    expect(store.pendingCount).toBe(7)
    store.flush()
    expect(storedBlocks(db)).toEqual([1, 2, 3, 4, 5, 6, 7])
  })

  it('capture faster than the writer waits for it instead of queueing without bound', () => {
    const { db, store } = open({ maxBatch: 2 })
    let most = 0
    // No await: the writer's replies can only come in through the backpressure wait.
    for (let n = 1; n <= 100; n++) {
      store.enqueue(1, 1, log(n))
      most = Math.max(most, store.pendingCount)
    }
    expect(most).toBeLessThanOrEqual(2 * 4 + 2)
    store.flush()
    expect(storedBlocks(db)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
  })

  it('a failed commit loses nothing: rows stay queued in order and commit once the cause is gone', async () => {
    const { db, store, committed, errors } = open()
    store.enqueue(1, 1, log(1))
    store.flush()
    const heal = breakInserts(db)
    store.enqueue(1, 1, log(2))
    store.enqueue(1, 1, log(3))
    store.flush()
    expect(errors.map((e) => e.message)).toEqual(['database or disk is full'])
    expect(store.pendingCount).toBe(2)
    store.enqueue(1, 1, log(4))
    expect(storedBlocks(db)).toEqual([1])
    heal()
    // The retry timer (1 s after the failure) commits without anyone calling flush().
    await expect.poll(() => storedBlocks(db), { timeout: 5_000 }).toEqual([1, 2, 3, 4])
    expect(store.pendingCount).toBe(0)
    expect(committed.map((c) => c.count)).toEqual([1, 3])
  })

  it('a burst queued before the first failure past the held-writes bound stops capture as soon as the commit fails', () => {
    const backlog: [boolean, number][] = []
    const { db, store } = open({ maxHeldWrites: 5, onBacklog: (full, held) => backlog.push([full, held]) })
    breakInserts(db)
    // Eight rows at once (a group of blocks delivered together), before any commit failed.
    for (let n = 1; n <= 8; n++) store.enqueue(1, 1, log(n))
    expect(backlog).toEqual([])
    store.flush()
    expect(backlog).toEqual([[true, 8]])
  })
  it('exclusive() runs a main-connection write after the batch in flight and holds back the next', () => {
    const { db, store } = open({ maxBatch: 2 })
    db.exec('CREATE TABLE side (n INTEGER)')
    store.enqueue(1, 1, log(1))
    store.enqueue(1, 1, log(2)) // a full batch: in flight
    store.enqueue(1, 1, log(3)) // queued behind it
    const seen = store.exclusive(() => {
      db.prepare('INSERT INTO side VALUES (1)').run()
      return storedBlocks(db)
    })
    expect(seen).toEqual([1, 2])
    store.flush()
    expect(storedBlocks(db)).toEqual([1, 2, 3])
    expect(db.prepare('SELECT COUNT(*) FROM side').pluck().get()).toBe(1)
  })

  it('enqueueCommitted() resolves once its rows commit, in order with captured rows, and waits out a failed commit', async () => {
    const { db, store } = open()
    db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'c', 'user', 'x', 'ws://x', 0)").run()
    const cursor = (): unknown => db.prepare('SELECT number FROM chain_cursor WHERE connection_id = 1').pluck().get()
    store.enqueue(1, 1, log(1))
    const heal = breakInserts(db)
    // The captured row queued first fails its commit: the chain row behind it waits with it.
    let done = false
    const committed = store.enqueueCommitted([CHAIN_WRITE.cursor, 1, 0, 7, '0x07'], 1).then(() => (done = true))
    await expect.poll(() => store.failing).toBe(true)
    expect(done).toBe(false)
    expect(cursor()).toBeUndefined()
    heal()
    await committed
    expect(storedBlocks(db)).toEqual([1])
    expect(cursor()).toBe(7)
  })

  it('whenIdle() runs a main-thread write between the writer thread batches, without waiting for them', () => {
    const { db, store } = open({ maxBatch: 2 })
    db.exec('CREATE TABLE side (n INTEGER)')
    const order: string[] = []
    store.enqueue(1, 1, log(1))
    store.enqueue(1, 1, log(2)) // a full batch: in flight
    store.whenIdle(() => order.push(`ran after ${storedBlocks(db).length} rows`))
    expect(order).toEqual([])
    store.flush()
    expect(order).toEqual(['ran after 2 rows'])
    store.whenIdle(() => order.push('ran at once'))
    expect(order).toEqual(['ran after 2 rows', 'ran at once'])
  })

  it('close() rejects waiters whose rows the store refused, rather than leaving them waiting', async () => {
    const { db, store } = open()
    breakInserts(db)
    store.enqueue(1, 1, log(1))
    const waiting = store.enqueueCommitted([CHAIN_WRITE.finalized, 5, 1, 5], 1)
    store.close()
    await expect(waiting).rejects.toThrow(/closed before these rows could be committed/)
  })

  it('list() pages a block range the same whether it holds few rows (read through its index) or many (ids walked)', () => {
    const { store } = open()
    for (let n = 0; n < 6_000; n++) store.enqueue(1, 1 + (n % 2), log(n))
    store.flush()
    const blocks = (rows: { blockNumber: number | null }[]) => rows.map((r) => r.blockNumber)
    // Many rows in range: the newest ones first.
    expect(blocks(store.list({ fromBlock: 0, toBlock: 5_999, limit: 3 }))).toEqual([5_999, 5_998, 5_997])
    expect(blocks(store.list({ fromBlock: 100, limit: 2 }))).toEqual([5_999, 5_998])
    // Many rows, below the newest block: the walk starts at the range's newest row.
    const deep = store.list({ fromBlock: 0, toBlock: 5_500, limit: 3 })
    expect(blocks(deep)).toEqual([5_500, 5_499, 5_498])
    expect(blocks(store.list({ fromBlock: 0, toBlock: 5_500, limit: 2, beforeId: deep.at(-1)!.id }))).toEqual([5_497, 5_496])
    // Few rows in range, paged with beforeId and combined with a stream.
    const page = store.list({ fromBlock: 10, toBlock: 14, limit: 3 })
    expect(blocks(page)).toEqual([14, 13, 12])
    expect(blocks(store.list({ fromBlock: 10, toBlock: 14, limit: 3, beforeId: page.at(-1)!.id }))).toEqual([11, 10])
    expect(blocks(store.list({ toBlock: 4, streamIds: [1], limit: 10 }))).toEqual([4, 2, 0])
    expect(blocks(store.list({ kind: 'log', fromBlock: 3_000, toBlock: 3_001, limit: 10 }))).toEqual([3_001, 3_000])
  })

  it('list() pages newest first with every filter, alone and combined', () => {
    const { store } = open()
    const APPROVAL = '0x8c5be1e5ebec7d5bd14f4302ad09a9cfc0dc2b5f5b14b7aa55c1b8a3a3f7e7b1'
    for (let n = 1; n <= 60; n++) {
      const event = log(n)
      store.enqueue(n % 2 === 0 ? 1 : 2, n % 3, { ...event, topics: n % 5 === 0 ? [APPROVAL] : event.topics })
    }
    store.enqueue(1, 9, {
      ...log(99),
      kind: 'pending_transaction',
      blockNumber: null,
      blockHash: null,
      topics: [],
      address: null,
      payload: { from: '0x00000000000000000000000000000000000000f1' },
    })
    store.flush()
    const ids = (query: Parameters<EventStore['list']>[0]) => store.list(query).map((e) => e.id)
    const range = (from: number, to: number, keep: (id: number) => boolean = () => true) =>
      Array.from({ length: from - to + 1 }, (_, i) => from - i).filter(keep)
    expect(ids({ limit: 5 })).toEqual([61, 60, 59, 58, 57])
    expect(ids({ limit: 5, beforeId: 30 })).toEqual([29, 28, 27, 26, 25])
    expect(ids({ limit: 100, afterId: 55 })).toEqual([61, 60, 59, 58, 57, 56])
    // afterId pages forward: a full page is the rows just above it (contract.ts), still newest first.
    expect(ids({ limit: 3, afterId: 40 })).toEqual([43, 42, 41])
    expect(ids({ limit: 3, streamIds: [0], afterId: 40 })).toEqual([48, 45, 42])
    expect(ids({ limit: 2, afterId: 40, beforeId: 50 })).toEqual([42, 41])
    expect(ids({ limit: 4, streamIds: [0] })).toEqual([60, 57, 54, 51])
    expect(ids({ limit: 4, streamIds: [0], beforeId: 51 })).toEqual([48, 45, 42, 39])
    expect(ids({ limit: 100, streamIds: [1, 2], afterId: 50 })).toEqual(range(59, 51, (id) => id % 3 !== 0))
    expect(ids({ limit: 100, connectionId: 2, fromBlock: 10, toBlock: 20 })).toEqual(range(19, 11, (id) => id % 2 === 1))
    expect(ids({ limit: 100, selectors: [APPROVAL] })).toEqual(range(60, 5, (id) => id % 5 === 0))
    expect(ids({ limit: 100, kind: 'pending_transaction' })).toEqual([61])
    expect(ids({ limit: 100, address: '0x00000000000000000000000000000000000000f1' })).toEqual([61])
    expect(ids({ limit: 100, text: log(42).blockHash!.slice(30) })).toEqual([42])
    expect(ids({ limit: 100, text: '%' })).toEqual([])
    // An event name no ABI knows has no selectors: nothing matches.
    expect(ids({ limit: 100, selectors: [] })).toEqual([])
  })

  it('search() reads ids a slice at a time and answers with what it found, going on from where it stopped', async () => {
    const { store } = open()
    for (let n = 0; n < 1_000; n++) store.enqueue(1, 1 + (n % 2), log(n))
    store.flush()
    // Text only event 251 holds (log 250's block hash).
    const text = log(250).blockHash!.slice(-6)
    const expected = store.list({ text, limit: 10_000 }).map((e) => e.id)
    expect(expected).toEqual([251])
    // One slice of 100 ids a page (no time to read more): the rows above 251 take 7 pages of nothing.
    const slices = { budgetMs: 0, firstSlice: 100 }
    const first = await store.search({ text, limit: 5 }, slices)
    expect(first).toEqual({ rows: [], next: 901 })
    const back: number[][] = []
    let page = first
    while (page.next !== null) {
      page = await store.search({ text, limit: 5, beforeId: page.next }, slices)
      back.push(page.rows.map((e) => e.id))
    }
    expect(back.flat()).toEqual(expected)
    expect(back).toHaveLength(9)
    // Forward from the start, a slice at a time too.
    const forward: number[] = []
    let after: number | null = 0
    while (after !== null) {
      const got = await store.search({ text, limit: 5, afterId: after }, slices)
      expect(got.next === null || got.next > after).toBe(true)
      forward.push(...got.rows.map((e) => e.id))
      after = got.next
    }
    expect(forward).toEqual(expected)
  })

  it('search() pages hold exactly list()’s rows whatever the slices and the time they get', async () => {
    const { store } = open()
    for (let n = 0; n < 600; n++) store.enqueue(n % 3 === 0 ? 2 : 1, 1 + (n % 4), log(n))
    store.flush()
    const queries = [
      { text: '0x', limit: 7 },
      { text: log(123).blockHash!.slice(-8), limit: 3 },
      { text: 'nowhere', limit: 10 },
      { streamIds: [3], connectionId: 1, limit: 11 },
      { kind: 'log' as const, fromBlock: 100, toBlock: 400, limit: 50 },
      { fromBlock: 10, toBlock: 12, limit: 2 },
      { text: '0', streamIds: [2, 4], limit: 13 },
    ]
    // A clock that moves 1 ms a reading: a budget of 3 ms reads a few slices, each sized to the time left.
    let clock = 0
    const ticking = { budgetMs: 3, firstSlice: 17, now: () => (clock += 1) }
    for (const query of queries) {
      const expected = store.list({ ...query, limit: 10_000 }).map((e) => e.id)
      for (const options of [{ budgetMs: 0, firstSlice: 1 }, { budgetMs: 0, firstSlice: 64 }, ticking, {}]) {
        const back: number[] = []
        let page = await store.search(query, options)
        for (;;) {
          expect(page.rows.length).toBeLessThanOrEqual(query.limit)
          back.push(...page.rows.map((e) => e.id))
          if (page.next === null) break
          page = await store.search({ ...query, beforeId: page.next }, options)
        }
        expect(back, JSON.stringify({ query, options })).toEqual(expected)
        const forward: number[] = []
        for (let after: number | null = 0; after !== null;) {
          const got = await store.search({ ...query, afterId: after }, options)
          forward.unshift(...got.rows.map((e) => e.id))
          after = got.next
        }
        expect(forward, JSON.stringify({ query, options })).toEqual(expected)
      }
    }
  })

  it('counts events per stream, with the received time of the newest', () => {
    const { store } = open()
    for (let n = 1; n <= 5; n++) store.enqueue(1, n % 2 === 0 ? 7 : 8, log(n), 1_000 + n)
    store.flush()
    expect(store.countByStream()).toEqual(
      new Map([
        [7, { count: 2, lastAt: 1_004 }],
        [8, { count: 3, lastAt: 1_005 }],
      ]),
    )
  })

  it('an in-memory store writes inline, on the same connection', () => {
    const db = openDatabase(':memory:')
    const store = new EventStore(db)
    cleanups.push(() => {
      store.close()
      db.close()
    })
    expect(store.writerKind).toBe('inline')
    store.enqueue(1, 1, log(5))
    store.flush()
    expect(storedBlocks(db)).toEqual([5])
  })
})

describe('the write-ahead log', () => {
  it('is cut back to WAL_SIZE_LIMIT_BYTES after a burst, by the writer thread that commits capture', async () => {
    const { db, store, committed } = open()
    const wal = `${db.name}-wal`
    const walBytes = () => fs.statSync(wal).size
    // A burst bigger than the limit in one batch, through the writer thread: 96 events of 1 MiB payload each.
    const big = (n: number): NormalizedEvent => ({ ...log(n), payload: { filler: 'f'.repeat(1024 * 1024) } })
    for (let n = 0; n < 96; n++) store.enqueue(1, 1, big(n))
    await store.settle()
    expect(walBytes()).toBeGreaterThan(WAL_SIZE_LIMIT_BYTES)
    // The commit checkpointed the burst; the next write starts the log over and cuts the file back.
    store.enqueue(1, 1, log(1_000))
    await store.settle()
    expect(committed.reduce((sum, batch) => sum + batch.count, 0)).toBe(97)
    expect(walBytes()).toBeLessThanOrEqual(WAL_SIZE_LIMIT_BYTES)
    expect(storedBlocks(db).at(-1)).toBe(1_000)
  })
})

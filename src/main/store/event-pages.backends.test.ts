/**
 * PostgresEventPages gives what SQLite's EventStore gives: the same captured rows are written
 * into a SQLite store file (EventStore) and into a fresh PostgreSQL database
 * (PostgresCaptureWriter), then every read is asked of both and the answers compared whole
 * (ids, fields, payloads rebuilt from chain_logs, removed flags, order): pages for each
 * filter alone and combined, a hundred random combinations, paging back and forward to the
 * end, exports (rows, pages, total), the counts read at start, and deleting a connection.
 *
 * The PostgreSQL database takes an ICU locale for its default collation where the server
 * has ICU, so a read whose result hangs on the server's locale (case folding beyond ASCII)
 * differs from SQLite's here.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ABSENT_TOPIC,
  BUSY,
  BUSY_LOGS,
  other,
  OTHER,
  RARE,
  RARE_TOPIC,
  SEED_START,
  seedCapturedEvents,
  seededFilters,
  TRANSFER,
  TWIN,
  TWIN_TOPIC,
} from '../../../test/helpers/captured-events-seed'
import { createTestDatabase, postgresSkipReason, type TestDatabase } from '../../../test/helpers/postgres-test-database'
import type { CaptureWriter } from './capture-writer'
import { openDatabase, type Db } from './database'
import type { EventQuery, ExportQuery, ListedEvent, StoredEventRow } from './event-query'
import { EventStore } from './event-store'
import { PostgresCaptureWriter } from './postgres/capture-writer'
import { openPostgres, type PostgresPool } from './postgres/database'
import { PostgresEventPages } from './postgres/event-pages'

const CONNECTIONS = `INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at)
  VALUES (1, 'a', 'user', 'x', 'ws://a', 0), (2, 'b', 'user', 'x', 'ws://b', 0)`

/** Payload text for the text filter's edges: letters beyond ASCII in both cases, LIKE's wildcards and its escape character. */
const NOTES = ['CAFÉ café Straße', 'ÉCOLE', '\u212a-kelvin İstanbul', '100% of _wild_ cards', 'back\\slash']

/** The seed, and the rows of the text filter's edges after it. */
function seed(writer: CaptureWriter): void {
  seedCapturedEvents(writer)
  NOTES.forEach((note, i) => writer.enqueue(1, 6, other('pending_transaction', 90_000 + i, { note }), SEED_START + 1_000_000 + i))
}

let dir: string
let db: Db
let sqlite: EventStore
let database: TestDatabase
let pool: PostgresPool
let pages: PostgresEventPages
/** Takes a filter the planner expects to match over 500 rows as busy, without counting it: that path too, on this small store. */
let estimating: PostgresEventPages
/** Whether the PostgreSQL database's default collation is ICU's (not the server's C). */
let icu = false

/** The same rows in both stores. */
async function open(): Promise<void> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-pages-backends-'))
  db = openDatabase(path.join(dir, 'tidewatch.db'))
  db.exec(CONNECTIONS)
  sqlite = new EventStore(db, { flushIntervalMs: 10_000 })
  seed(sqlite)
  sqlite.flush()

  try {
    database = await createTestDatabase({ icuLocale: 'und' })
    icu = true
  } catch {
    database = await createTestDatabase()
  }
  pool = await openPostgres(database.url)
  await pool.query(CONNECTIONS)
  const writer = new PostgresCaptureWriter(pool, { flushIntervalMs: 10_000 })
  seed(writer)
  await writer.settle()
  expect(writer.pendingCount).toBe(0)
  await writer.close()
  // The statistics autovacuum keeps on a live store (it would take a minute here): without them the planner may
  // join each row's log through another index of chain_logs than its key, reading thousands of entries a row.
  await pool.query('ANALYZE')
  pages = new PostgresEventPages(pool)
  estimating = new PostgresEventPages(pool, { plausiblyFew: 500 })
}

/** One page asked of both stores; SQLite's rows. */
async function samePage(query: EventQuery): Promise<ListedEvent[]> {
  const expected = sqlite.list(query)
  expect(await pages.list(query)).toStrictEqual(expected)
  expect(await estimating.list(query)).toStrictEqual(expected)
  return expected
}

/**
 * Every page of `query` from the newest back (beforeId), then forward from the start
 * (afterId), each the same in both stores, up to `maxPages` each way; the rows paged back.
 */
async function samePaging(query: Omit<EventQuery, 'beforeId' | 'afterId'>, maxPages = Infinity): Promise<number> {
  let rows = 0
  let beforeId: number | undefined
  for (let page = 0; page < maxPages; page++) {
    const got = await samePage({ ...query, ...(beforeId === undefined ? {} : { beforeId }) })
    rows += got.length
    if (got.length < query.limit) break
    beforeId = got.at(-1)!.id
  }
  let afterId = 0
  for (let page = 0; page < maxPages; page++) {
    const got = await samePage({ ...query, afterId })
    if (got.length < query.limit) break
    afterId = got[0]!.id
  }
  return rows
}

/** An export's pages from both stores: the same rows, split into the same pages, and the same total. */
async function sameExport(query: ExportQuery, pageRows?: number): Promise<StoredEventRow[]> {
  const expected = sqlite.iterate(query, pageRows)
  const got = pages.iterate(query, pageRows)
  const gotPages: StoredEventRow[][] = []
  for await (const page of got.pages) gotPages.push(page)
  expect(await got.total).toBe(expected.total)
  const expectedPages = [...expected.pages]
  expect(gotPages).toStrictEqual(expectedPages)
  return expectedPages.flat()
}

describe.skipIf(postgresSkipReason)('PostgresEventPages reads what EventStore reads', () => {
  beforeAll(open, 120_000)

  afterAll(async () => {
    sqlite?.close()
    db?.close()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
    await pool?.end()
    await database?.drop()
  })

  it('both stores hold the same rows, ids included', async () => {
    const every = await samePage({ limit: 100_000 })
    expect(every.length).toBeGreaterThan(BUSY_LOGS + BUSY_LOGS / 4)
    expect(every.some((e) => e.removed)).toBe(true)
    // A log read through its chain_logs row, its raw object rebuilt with the field the columns do not hold.
    expect(every.find((e) => e.kind === 'log' && e.address === BUSY)?.payload).toMatchObject({ blockTimestamp: expect.any(String) })
  })

  it('pages each filter alone, rare, sharing only its index key, busy and absent', async () => {
    expect(await samePaging({ connectionId: 2, limit: 50 })).toBeGreaterThan(0)
    expect(await samePaging({ streamIds: [3], limit: 9 })).toBeGreaterThan(0)
    expect(await samePaging({ streamIds: [2, 4], limit: 100 }, 4)).toBeGreaterThan(0)
    expect(await samePaging({ streamIds: [], limit: 10 })).toBe(0)
    for (const kind of ['log', 'head', 'pending_transaction', 'mined_transaction'] as const) expect(await samePaging({ kind, limit: 25 }, 3)).toBeGreaterThan(0)
    expect(await samePaging({ address: RARE, limit: 7 })).toBeGreaterThan(100)
    expect(await samePaging({ address: TWIN, limit: 10 })).toBeGreaterThan(0)
    expect(await samePaging({ address: OTHER, limit: 10 })).toBeGreaterThan(0)
    expect(await samePaging({ address: BUSY, limit: 200 }, 4)).toBe(800)
    expect(await samePaging({ address: '0x000000000000000000000000000000000000dead', limit: 10 })).toBe(0)
    expect(await samePaging({ selectors: [RARE_TOPIC], limit: 6 })).toBeGreaterThan(20)
    expect(await samePaging({ selectors: [TWIN_TOPIC], limit: 5 })).toBeGreaterThan(0)
    expect(await samePaging({ selectors: [TRANSFER], limit: 100 }, 4)).toBe(400)
    expect(await samePaging({ selectors: [ABSENT_TOPIC], limit: 10 })).toBe(0)
    expect(await samePaging({ selectors: [], limit: 10 })).toBe(0)
    expect(await samePaging({ fromBlock: 40, toBlock: 60, limit: 8 })).toBeGreaterThan(0)
    expect(await samePaging({ fromBlock: 1_700, limit: 30 })).toBeGreaterThan(0)
    expect(await samePaging({ toBlock: 30, limit: 30 })).toBeGreaterThan(0)
    expect(await samePaging({ fromBlock: 0, toBlock: 1_500, limit: 100 }, 4)).toBe(400)
  })

  it('pages the filters combined', async () => {
    expect(await samePaging({ address: RARE, connectionId: 2, limit: 5 })).toBeGreaterThan(0)
    expect(await samePaging({ address: RARE, streamIds: [4], limit: 4 })).toBeGreaterThan(0)
    expect(await samePaging({ address: RARE, kind: 'mined_transaction', limit: 3 })).toBeGreaterThan(0)
    expect(await samePaging({ address: RARE, fromBlock: 500, toBlock: 1_200, limit: 3 })).toBeGreaterThan(0)
    expect(await samePaging({ selectors: [RARE_TOPIC, TWIN_TOPIC], connectionId: 1, limit: 9 })).toBeGreaterThan(0)
    expect(await samePaging({ selectors: [TRANSFER, RARE_TOPIC], kind: 'log', limit: 100 }, 4)).toBe(400)
    expect(await samePaging({ selectors: [RARE_TOPIC], address: RARE, limit: 2 })).toBeGreaterThan(0)
    expect(await samePaging({ fromBlock: 300, toBlock: 900, selectors: [TRANSFER], streamIds: [1, 2], limit: 25 }, 4)).toBe(100)
    expect(await samePaging({ fromBlock: 1_000, text: 'ddf252ad', limit: 30 }, 3)).toBe(90)
    // A window between two ids, from both ends.
    await samePage({ streamIds: [1], beforeId: 3_000, afterId: 2_000, limit: 40 })
    await samePage({ address: RARE, beforeId: 9_000, afterId: 100, limit: 4 })
  })

  it('searches as SQLite searches, a slice at a time, each page and where it goes on', async () => {
    const slices = { budgetMs: 0, firstSlice: 500 }
    const queries: EventQuery[] = [
      { text: 'ddf252ad', limit: 40 },
      { text: 'nowhere', limit: 10 },
      { address: BUSY, limit: 100 },
      { address: RARE, limit: 7 },
      { streamIds: [2, 4], limit: 60 },
      { fromBlock: 300, toBlock: 900, text: 'a', limit: 25 },
    ]
    for (const query of queries) {
      const every = sqlite.list({ ...query, limit: 100_000 }).map((e) => e.id)
      const back: number[] = []
      for (let beforeId: number | undefined, page = 0; page < 200; page++) {
        const q = { ...query, ...(beforeId === undefined ? {} : { beforeId }) }
        const expected = await sqlite.search(q, slices)
        expect(await pages.search(q, slices)).toStrictEqual(expected)
        back.push(...expected.rows.map((e) => e.id))
        if (expected.next === null) break
        beforeId = expected.next
      }
      expect(back, JSON.stringify(query)).toEqual(every)
      const forward: number[] = []
      for (let afterId: number | null = 0, page = 0; afterId !== null && page < 200; page++) {
        const expected = await sqlite.search({ ...query, afterId }, slices)
        expect(await pages.search({ ...query, afterId }, slices)).toStrictEqual(expected)
        forward.unshift(...expected.rows.map((e) => e.id))
        afterId = expected.next
      }
      expect(forward, JSON.stringify(query)).toEqual(every)
    }
  })

  it('matches text as SQLite does: ASCII letters in either case, other letters as they are, wildcards as text', async () => {
    const ids = async (text: string) => (await samePage({ text, limit: 1_000 })).map((e) => e.id)
    expect(await ids('0xA0B86991')).not.toHaveLength(0)
    expect(await ids('cafÉ')).toHaveLength(1)
    // Lowercased to é, found only where é is written: ÉCOLE's É is another letter to SQLite.
    expect(await ids('É')).toEqual(await ids('café'))
    expect(await ids('école')).toHaveLength(0)
    expect(await ids('STRASSE')).toHaveLength(0)
    expect(await ids('straße')).toHaveLength(1)
    // The Kelvin sign lowercases to k, matched wherever an ASCII k is, and not where the sign itself is.
    expect((await ids('\u212a')).length).toBeGreaterThan(1)
    expect(await ids('\u212a-kelvin')).toHaveLength(0)
    expect(await ids('-kelvin')).toHaveLength(1)
    expect(await ids('İstanbul')).toHaveLength(0)
    expect(await ids('100%')).toHaveLength(1)
    expect(await ids('_wild_')).toHaveLength(1)
    expect(await ids('f_w')).toHaveLength(0)
    // The payload's JSON text holds the backslash escaped.
    expect(await ids('back\\\\slash')).toHaveLength(1)
    expect(await ids('back\\slash')).toHaveLength(0)
    expect(await ids('nowhere')).toHaveLength(0)
    if (!icu) console.log('PostgreSQL has no ICU here: the text filter is compared under the C locale only')
  })

  it('counts a filter only when the planner does not expect it to be busy', async () => {
    const statements: string[] = []
    const recorded = new Proxy(pool, {
      get(target, property, receiver) {
        if (property !== 'connect') return Reflect.get(target, property, receiver) as unknown
        return async () => {
          const client = await target.connect()
          return new Proxy(client, {
            get(c, name, r) {
              if (name !== 'query') return Reflect.get(c, name, r) as unknown
              return (config: string | { text: string }, values?: unknown[]) => {
                statements.push(typeof config === 'string' ? config : config.text)
                return c.query(config as string, values)
              }
            },
          })
        }
      },
    })
    const counts = async (reader: PostgresEventPages, query: EventQuery) => {
      statements.length = 0
      expect(await reader.list(query)).toStrictEqual(sqlite.list(query))
      return statements.filter((sql) => sql.includes('count(*)')).length
    }
    const busy = new PostgresEventPages(recorded, { plausiblyFew: 500 })
    // The busy address (5,200 logs) is walked without a count; the rare one counted, and read through its index.
    expect(await counts(busy, { address: BUSY, limit: 10 })).toBe(0)
    expect(await counts(busy, { address: RARE, limit: 10 })).toBe(1)
    expect(await counts(busy, { selectors: [TRANSFER], address: RARE, limit: 10 })).toBe(1)
    expect(await counts(new PostgresEventPages(recorded), { address: BUSY, limit: 10 })).toBe(1)
  })

  it('any combination of filters pages the same', async () => {
    const query = seededFilters(['é'])
    // At most three filters: more rarely leave a row to compare.
    const fewFilters = query.map((q) => Object.fromEntries(Object.entries(q).slice(0, 3)) as typeof q)
    let matched = 0
    let runs = 0
    await fc.assert(
      fc.asyncProperty(fewFilters, fc.integer({ min: 1, max: 40 }), async (q, limit) => {
        if ((await samePaging({ ...q, limit }, 3)) > 0) matched += 1
        runs += 1
      }),
      { numRuns: 100 },
    )
    // Not a hundred empty pages: the combinations find rows.
    console.log(`random filters: ${matched} of ${runs} combinations found rows`)
    expect(matched).toBeGreaterThan(10)
  })

  it('exports the same rows in the same pages, with the same total', async () => {
    expect(await sameExport({})).toHaveLength((await samePage({ limit: 100_000 })).length)
    expect((await sameExport({ connectionId: 2 }, 20)).length).toBeGreaterThan(20)
    expect((await sameExport({ streamIds: [1, 5] }, 333)).length).toBeGreaterThan(333)
    expect(await sameExport({ streamIds: [] })).toHaveLength(0)
    expect((await sameExport({ kind: 'head', fromBlock: 100, toBlock: 1_400 })).length).toBeGreaterThan(0)
    expect((await sameExport({ toBlock: 10 })).length).toBeGreaterThan(0)
    const timed = await sameExport({ fromTime: SEED_START + 1_000, toTime: SEED_START + 2_000 }, 250)
    expect(timed).toHaveLength(1_001)
  })

  it('an export holds the rows there when it starts', async () => {
    const started = pages.iterate({ connectionId: 1 }, 1_000)
    const total = await started.total
    const inserted = await pool.query<{ id: number }>(
      "INSERT INTO events (connection_id, stream_id, kind, payload, received_at) VALUES (1, 6, 'pending_transaction', '\"0x1\"', 1) RETURNING id",
    )
    try {
      const rows: StoredEventRow[] = []
      for await (const page of started.pages) rows.push(...page)
      expect(rows).toHaveLength(total)
      expect(rows.some((row) => row[0] === inserted.rows[0]!.id)).toBe(false)
    } finally {
      await pool.query('DELETE FROM events WHERE id = $1', [inserted.rows[0]!.id])
    }
  })

  it('counts as SQLite counts', async () => {
    const last = sqlite.lastId()
    expect(await pages.lastId()).toBe(last)
    expect(await pages.countByStream()).toStrictEqual(sqlite.countByStream())
    for (const [from, to] of [
      [0, last],
      [100, 5_000],
      [last, last],
      [last - 10, last + 10],
    ] as const)
      expect(await pages.countByStreamBetween(from, to)).toStrictEqual(sqlite.countByStreamBetween(from, to))
    for (const stream of [1, 2, 3, 4, 5, 6, 7, 8, 99])
      for (const upTo of [0, 1, 500, 4_000, last]) expect(await pages.lastAtOf(stream, upTo)).toBe(sqlite.lastAtOf(stream, upTo))
  })

  it('deletes a connection’s rows, and reads the same afterwards', async () => {
    sqlite.deleteForConnection(2)
    await pages.deleteForConnection(2)
    expect(await samePaging({ limit: 5_000 })).toBeGreaterThan(0)
    expect(await samePaging({ connectionId: 2, limit: 10 })).toBe(0)
    expect(await pages.countByStream()).toStrictEqual(sqlite.countByStream())
    expect(await pages.countByStream()).not.toContain(7)
  })
})

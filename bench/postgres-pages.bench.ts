/**
 * Live-log pages from a PostgreSQL store beside SQLite's, on the same large store (issue 13):
 * bench:store's mainnet-shaped history (big-store-seed.ts, BENCH_EVENTS events, 1,000,000 by
 * default) seeded into a SQLite file, copied row for row (ids included) into a fresh
 * database on a throwaway PostgreSQL (COPY, then VACUUM ANALYZE, as a server past its
 * autovacuum would be), then each filter paged back from the newest (BENCH_PAGES pages of
 * 100) and forward from the middle (afterId) on both: PostgresEventPages.list against
 * EventStore.list. Every PostgreSQL page is checked equal to SQLite's; the times are each
 * page's, as the engine would wait for it (SQLite's in process, PostgreSQL's over a local
 * socket). Run: npx vitest run --config bench/vitest.bench.config.ts postgres-pages
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { isDeepStrictEqual } from 'node:util'
import { Client, escapeIdentifier } from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { expect, test } from 'vitest'
import { openDatabase, type Db } from '../src/main/store/database'
import type { EventQuery } from '../src/main/store/event-query'
import { EventStore } from '../src/main/store/event-store'
import { openPostgres, type PostgresPool } from '../src/main/store/postgres/database'
import { PostgresEventPages } from '../src/main/store/postgres/event-pages'
import { SEED_FIRST_BLOCK, STREAMS, USDC, seedBigStore, type SeedResult } from './big-store-seed'
import { TOPIC } from './mainnet-logs.mjs'
import { benchPostgres } from './postgres-path'
import { writeSection } from './benchmarks-md'
import { envInt, gitCommit, machine } from './run-context'

const EVENTS = envInt('BENCH_EVENTS', 1_000_000)
const PAGES = envInt('BENCH_PAGES', 10)
const PAGE = 100
/** Only the variants whose names hold one of these ('|'-separated). */
const ONLY = process.env.BENCH_VARIANTS?.split('|')

const int = (n: number): string => Math.round(n).toLocaleString('en-US')
const ms = (n: number): string => n.toFixed(n < 10 ? 2 : 1)
const percentile = (values: number[], p: number): number =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!

/** COPY's text format: \N for NULL; backslash, tab, newline and carriage return escaped. */
const copyValue = (value: unknown): string =>
  value === null ? '\\N' : String(value).replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'))

/** Every row of `table` from SQLite into PostgreSQL, its columns as they are (ids included). */
async function copyTable(db: Db, pool: PostgresPool, table: string, columns: string[]): Promise<number> {
  const rows = db
    .prepare(`SELECT ${columns.join(', ')} FROM ${table}`)
    .raw(true)
    .iterate() as IterableIterator<unknown[]>
  let count = 0
  function* chunks(): Generator<string> {
    let chunk = ''
    for (const row of rows) {
      chunk += `${row.map(copyValue).join('\t')}\n`
      count += 1
      if (chunk.length > 1 << 20) {
        yield chunk
        chunk = ''
      }
    }
    yield chunk
  }
  const client = await pool.connect()
  try {
    await pipeline(Readable.from(chunks()), client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)))
  } finally {
    client.release()
  }
  return count
}

interface Variant {
  name: string
  query: Omit<EventQuery, 'limit' | 'beforeId' | 'afterId'>
}

function variants(seed: SeedResult, streamIdOf: (key: string) => number): Variant[] {
  const last = SEED_FIRST_BLOCK + seed.blocks - 1
  const middle = seed.middleLog
  return [
    { name: 'no filter', query: {} },
    { name: 'connection', query: { connectionId: 1 } },
    { name: 'stream: transfers', query: { streamIds: [streamIdOf('transfers')] } },
    { name: 'stream: usdc-weth-v2', query: { streamIds: [streamIdOf('usdc-weth-v2')] } },
    { name: 'streams: v3-swaps + approvals', query: { streamIds: [streamIdOf('v3-swaps'), streamIdOf('approvals')] } },
    { name: 'kind: log', query: { kind: 'log' } },
    { name: 'kind: pending_transaction', query: { kind: 'pending_transaction' } },
    { name: 'kind: head', query: { kind: 'head' } },
    { name: 'address: USDC (busy)', query: { address: USDC } },
    { name: 'address: the rarest long-tail token', query: { address: seed.rareToken } },
    { name: 'event: Transfer (busy)', query: { selectors: [TOPIC.transfer] } },
    { name: 'event: Deposit', query: { selectors: [TOPIC.deposit] } },
    { name: 'event: none stored', query: { selectors: [`0x${'4'.repeat(64)}`] } },
    { name: 'blocks: the newest 1,000', query: { fromBlock: last - 999, toBlock: last } },
    { name: 'blocks: 100 in the middle', query: { fromBlock: middle.blockNumber - 50, toBlock: middle.blockNumber + 49 } },
    { name: 'blocks: the older half', query: { fromBlock: SEED_FIRST_BLOCK, toBlock: middle.blockNumber } },
    { name: 'text: part of an address (USDC)', query: { text: USDC.slice(2, 12) } },
    { name: 'text: a transaction hash', query: { text: middle.transactionHash } },
    { name: 'text: found nowhere', query: { text: 'deadbeefcafe' } },
    { name: 'address USDC + kind log', query: { address: USDC, kind: 'log' } },
    { name: 'event Transfer + rare token', query: { selectors: [TOPIC.transfer], address: seed.rareToken } },
    {
      name: 'stream transfers + 100 blocks',
      query: { streamIds: [streamIdOf('transfers')], fromBlock: middle.blockNumber - 50, toBlock: middle.blockNumber + 49 },
    },
  ]
}

/** Times a page on both stores; a mismatch is recorded, not thrown, so every variant runs. */
async function page(sqlite: EventStore, pages: PostgresEventPages, query: EventQuery, times: { sqlite: number[]; postgres: number[] }, wrong: string[]) {
  let started = performance.now()
  const expected = sqlite.list(query)
  times.sqlite.push(performance.now() - started)
  started = performance.now()
  const got = await pages.list(query)
  times.postgres.push(performance.now() - started)
  if (!isDeepStrictEqual(got, expected)) wrong.push(`${JSON.stringify(query)}: ${got.length} rows, SQLite ${expected.length}`)
  return expected
}

test('live-log pages: PostgreSQL beside SQLite on the same store', async () => {
  const postgres = await benchPostgres()
  if ('skipReason' in postgres) {
    console.log(`postgres-pages: skipped, ${postgres.skipReason}`)
    return
  }
  const { server } = postgres
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewatch-bench-pg-pages-'))
  let pool: PostgresPool | null = null
  let db: Db | null = null
  try {
    console.log(`postgres-pages: ${int(EVENTS)} events; ${machine()}; PostgreSQL ${server.version}`)
    db = openDatabase(path.join(dir, 'tidewatch.sqlite'))
    db.pragma('synchronous = OFF')
    db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'bench', 'user', 'x', 'ws://bench', 0)").run()
    const streamIds = Object.fromEntries(STREAMS.map((s, i) => [s.key, i + 1]))
    for (const s of STREAMS) db.prepare('INSERT INTO streams (id, connection_id, stream_key) VALUES (?, 1, ?)').run(streamIds[s.key], s.key)
    let started = performance.now()
    const seed = seedBigStore(db, EVENTS, { connectionId: 1, streamIds, endAt: Date.now() })
    db.pragma('synchronous = NORMAL')
    console.log(`  SQLite seeded: ${int(seed.events)} events, ${int(seed.chainLogs)} logs in ${((performance.now() - started) / 1000).toFixed(0)} s`)

    const admin = new Client({ connectionString: server.url })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${escapeIdentifier('tidewatch_bench_pages')}`)
    await admin.end()
    const url = new URL(server.url)
    url.pathname = '/tidewatch_bench_pages'
    pool = await openPostgres(url.href)
    started = performance.now()
    await copyTable(db, pool, 'connections', ['id', 'name', 'kind', 'url_ciphertext', 'display_url', 'created_at'])
    await copyTable(db, pool, 'streams', ['id', 'connection_id', 'stream_key'])
    const eventColumns = ['id', 'connection_id', 'stream_id', 'kind', 'block_number', 'block_hash', 'tx_hash', 'tx_index', 'log_index', 'address', 'topics']
    await copyTable(db, pool, 'events', [...eventColumns, 'data', 'removed', 'payload', 'received_at'])
    const logColumns = ['connection_id', 'block_hash', 'block_number', 'log_index', 'tx_hash', 'tx_index', 'address', 'topics', 'data', 'canonical', 'raw_json']
    await copyTable(db, pool, 'chain_logs', logColumns)
    await pool.query("SELECT setval(pg_get_serial_sequence('events', 'id'), (SELECT max(id) FROM events))")
    await pool.query('VACUUM ANALYZE')
    const size = (await pool.query<{ bytes: number }>('SELECT pg_database_size(current_database()) AS bytes')).rows[0]!.bytes
    console.log(`  copied into PostgreSQL and vacuumed in ${((performance.now() - started) / 1000).toFixed(0)} s: ${int(size / 2 ** 20)} MiB`)

    const sqlite = new EventStore(db)
    const pages = new PostgresEventPages(pool)
    const top = sqlite.lastId()
    const wrong: string[] = []
    const table: string[] = []
    console.log(`  ${'filter'.padEnd(38)} ${'rows'.padStart(6)}   SQLite p50 / max ms   PostgreSQL p50 / max ms`)
    for (const variant of variants(seed, (key) => streamIds[key]!)) {
      if (ONLY && !ONLY.some((name) => variant.name.includes(name))) continue
      const times = { sqlite: [] as number[], postgres: [] as number[] }
      let rows = 0
      let beforeId: number | undefined
      for (let n = 0; n < PAGES; n++) {
        const got = await page(sqlite, pages, { ...variant.query, limit: PAGE, ...(beforeId === undefined ? {} : { beforeId }) }, times, wrong)
        rows += got.length
        if (got.length < PAGE) break
        beforeId = got.at(-1)!.id
      }
      let afterId = Math.floor(top / 2)
      for (let n = 0; n < 3; n++) {
        const got = await page(sqlite, pages, { ...variant.query, limit: PAGE, afterId }, times, wrong)
        if (got.length < PAGE) break
        afterId = got[0]!.id
      }
      console.log(
        `  ${variant.name.padEnd(38)} ${int(rows).padStart(6)}   ${ms(percentile(times.sqlite, 50)).padStart(8)} / ${ms(Math.max(...times.sqlite)).padStart(7)}   ${ms(percentile(times.postgres, 50)).padStart(10)} / ${ms(Math.max(...times.postgres)).padStart(7)}`,
      )
      table.push(
        `| ${variant.name} | ${int(rows)} | ${ms(percentile(times.sqlite, 50))} / ${ms(Math.max(...times.sqlite))} | ${ms(percentile(times.postgres, 50))} / ${ms(Math.max(...times.postgres))} |`,
      )
    }
    sqlite.close()
    expect(wrong).toEqual([])
    if (!ONLY)
      writeSection(
        'postgres-pages',
        `## Live-log pages on PostgreSQL beside SQLite (issue 13)

\`npm run bench:postgres-pages\` (\`BENCH_EVENTS=${EVENTS}\`). Measured ${new Date().toISOString().slice(0, 10)} at commit ${gitCommit()} on ${machine()}.

bench:store's mainnet-shaped history, ${int(EVENTS)} events, seeded into SQLite and copied row for row into a throwaway PostgreSQL (then \`VACUUM ANALYZE\`); each filter pages back from the newest (up to ${PAGES} pages of ${PAGE}) and forward from the middle, on both, every PostgreSQL page checked equal to SQLite's (PostgresEventPages.list against EventStore.list; PostgreSQL over a local socket). Times in ms, p50 / max per page.

| filter | rows | SQLite | PostgreSQL |
| --- | ---: | ---: | ---: |
${table.join('\n')}
`,
      )
  } finally {
    db?.close()
    await pool?.end()
    await server.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}, 3_600_000)

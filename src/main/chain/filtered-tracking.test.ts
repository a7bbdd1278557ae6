/**
 * What the tracker asks the upstream and keeps, by what is watched: nothing but headers
 * with no watch; one eth_getLogs per block with the union of the watches' filters; a
 * filter registered late gets the stored non-final range backfilled; pruning removes what
 * finality made useless and nothing a non-final cursor needs.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeProvider, type FakeProvider } from '../../../test/helpers/fake-provider'
import { waitFor } from '../../../test/helpers/scripted-server'
import { LiveConnection } from '../engine/live-connection'
import { SqliteChainStore } from '../store/sqlite-chain-store'
import { openDatabase, type Db } from '../store/database'
import { RetentionStore } from '../store/retention-store'
import type { WatchMessage } from './watch-types'
import { createTrackerWatchProvider } from './tracker-watch'

const A = '0x8320fe7702b96808f7bbc0d4a888ed1468216cfd'
const B = '0x5fbdb2315678afecb367f032d93f642f64180aa3'
const C = '0xe7f1725e7734ce288f8367e1bb143e90bb3f0512'
const T1 = '0xd78a0cb8bb633d06981248b816e7bd33c2a35a6089241d099fa519e361cab902'
const T2 = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
const log = (address: string, topic: string, data = '0x01') => ({ address, topics: [topic], data })
/** Every block: one log from each of A, B and C, with both topics about. */
const BLOCK_LOGS = [log(A, T1), log(B, T2), log(C, T1)]

let provider: FakeProvider | undefined
let live: LiveConnection | undefined
let db: Db | undefined
let dir: string | undefined

afterEach(async () => {
  await live?.stop()
  await provider?.close()
  db?.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
  provider = live = db = dir = undefined
})

async function setup(options: Parameters<typeof startFakeProvider>[0] = {}) {
  provider = await startFakeProvider(options)
  for (let i = 0; i < 3; i++) provider.mine(BLOCK_LOGS)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-filtered-'))
  db = openDatabase(path.join(dir, 'db.sqlite'))
  db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'x', 'user', 'x', 'x', 0)").run()
  const logs: string[] = []
  live = new LiveConnection({ id: 1, url: provider.url, httpUrl: null, chainStore: new SqliteChainStore(db, 1), log: (message) => logs.push(message) })
  live.start()
  await waitFor('tracker started', () => live!.tracker.cursor)
  await waitFor('newHeads subscribed', () => provider!.subscriptions.size > 0)
  return { provider, live, tracker: live.tracker, db, logs }
}

/** Mines one block at a time, each after the tracker stored the previous one. */
async function mineSteadily(provider: FakeProvider, tracker: LiveConnection['tracker'], count: number) {
  for (let i = 0; i < count; i++) {
    const block = provider.mine(BLOCK_LOGS)
    await waitFor(`block ${Number(block.number)}`, () => tracker.cursor?.hash === block.hash)
  }
  await tracker.idle()
}

const requestsSince = (provider: FakeProvider, mark: number) => provider.requests.slice(mark)

describe('tracking in proportion to what is watched', () => {
  it('with no watch asks for no logs and no blocks per block on a steady chain', async () => {
    const { provider, tracker, db } = await setup()
    const mark = provider.requests.length
    await mineSteadily(provider, tracker, 40)
    const asked = requestsSince(provider, mark)
    expect(asked.filter((r) => r.method === 'eth_getLogs')).toEqual([])
    // Headers come from newHeads; only the finality check asks for a block, at most every 32 blocks.
    const byNumber = asked.filter((r) => r.method === 'eth_getBlockByNumber')
    expect(byNumber.every((r) => r.params[0] === 'finalized')).toBe(true)
    expect(byNumber.length).toBeLessThanOrEqual(2)
    expect((db.prepare('SELECT COUNT(*) AS n FROM chain_logs').get() as { n: number }).n).toBe(0)
    // The raw header is the notification as received, kept once.
    const stored = tracker.store.canonicalRange(tracker.cursor!.number, tracker.cursor!.number)[0]!.block.header
    expect(stored).toEqual(provider.chain.at(-1)!.block)
  })

  it('with watches asks one eth_getLogs per block carrying the union of their filters, and keeps only matching logs', async () => {
    const { provider, tracker, db } = await setup()
    const watches = createTrackerWatchProvider(tracker, live!.pool)
    const head = tracker.cursor!.number
    const request = { kind: 'logs' as const, head, fetchSnapshot: false, listen: true, irreversibleOnly: false, withProgress: 0, chainId: 1 }
    const seenA: WatchMessage[] = []
    const seenB: WatchMessage[] = []
    watches.open({ ...request, filter: { address: [A], topics: [[T1]] }, startBlock: head + 1 }, (m) => seenA.push(m))
    watches.open({ ...request, filter: { address: [B], topics: [[T2]] }, startBlock: head + 1 }, (m) => seenB.push(m))
    await waitFor('both filters active', () => tracker.activeFilters().length === 2)
    const mark = provider.requests.length
    await mineSteadily(provider, tracker, 10)
    const getLogs = requestsSince(provider, mark).filter((r) => r.method === 'eth_getLogs')
    expect(getLogs).toHaveLength(10)
    for (const r of getLogs) {
      const filter = r.params[0] as Record<string, unknown>
      expect(filter.blockHash).toMatch(/^0x/)
      expect(filter.address).toEqual([A, B].sort())
      expect(filter.topics).toEqual([[T1, T2].sort()])
    }
    // C's log matches the union (its topic is T1) but neither filter: not stored.
    const addresses = (db.prepare('SELECT DISTINCT address FROM chain_logs').all() as { address: string }[]).map((r) => r.address).sort()
    expect(addresses).toEqual([A, B].sort())
    await waitFor('watches delivered', () => seenA.filter((m) => m.type === 'log').length === 10 && seenB.filter((m) => m.type === 'log').length === 10)
  })

  it('a filter registered late gets the stored non-final range backfilled, and its watch misses nothing', async () => {
    const { provider, tracker } = await setup({ finalityDepth: 100 })
    await mineSteadily(provider, tracker, 8)
    const first = tracker.cursor!.firstBlock
    const head = tracker.cursor!.number
    const mark = provider.requests.length
    const messages: WatchMessage[] = []
    createTrackerWatchProvider(tracker, live!.pool).open(
      {
        kind: 'logs',
        filter: { address: [C] },
        startBlock: first,
        head,
        fetchSnapshot: false,
        listen: true,
        irreversibleOnly: false,
        withProgress: 0,
        chainId: 1,
      },
      (m) => messages.push(m),
    )
    await waitFor('history done', () => messages.some((m) => m.type === 'listening'))
    // One range query for the stored range, with this filter only.
    const ranges = requestsSince(provider, mark).filter((r) => r.method === 'eth_getLogs')
    expect(ranges.map((r) => r.params[0])).toEqual([{ address: [C], fromBlock: `0x${first.toString(16)}`, toBlock: `0x${head.toString(16)}` }])
    await mineSteadily(provider, tracker, 3)
    await waitFor('live blocks delivered', () => messages.filter((m) => m.type === 'log').length === head - first + 1 + 3)
    const delivered = messages.flatMap((m) => (m.type === 'log' ? [m.log.blockNumber] : []))
    expect(delivered).toEqual(Array.from({ length: head - first + 4 }, (_, i) => first + i))
  })

  it('catches an empty answer for a block whose bloom matches the filter', async () => {
    const { provider, tracker } = await setup({ badLogAnswers: ['empty'] })
    const registration = tracker.registerFilter({ address: [A] })
    await registration.ready
    const block = provider.mine(BLOCK_LOGS)
    await waitFor('stored', () => tracker.cursor?.hash === block.hash)
    expect(tracker.store.canonicalLogs(Number(block.number), Number(block.number)).map((l) => l.address)).toEqual([A])
    // The fake answered the first ask with nothing although the block's bloom allows A: asked again.
    expect(provider.requests.filter((r) => r.method === 'eth_getLogs' && (r.params[0] as { blockHash?: string }).blockHash === block.hash)).toHaveLength(2)
  })

  it('accepts an empty answer where the bloom allows a match as a bloom false positive after asking again, without stalling', async () => {
    const { provider, tracker, logs } = await setup()
    const quiet = '0x000000000000000000000000000000000000dead'
    await tracker.registerFilter({ address: [quiet] }).ready
    // The fake's bloom has every bit set when a block has logs: it allows `quiet`, which logged nothing.
    const block = provider.mine(BLOCK_LOGS)
    await waitFor('stored', () => tracker.cursor?.hash === block.hash, 10_000)
    expect(provider.requests.filter((r) => r.method === 'eth_getLogs' && (r.params[0] as { blockHash?: string }).blockHash === block.hash)).toHaveLength(3)
    expect(logs.some((m) => /bloom false positive/.test(m))).toBe(true)
    expect(tracker.store.canonicalLogs(Number(block.number), Number(block.number))).toEqual([])
  })

  it('prunes orphaned final blocks and old heads, never what a non-final cursor needs', async () => {
    const { provider, tracker, db } = await setup({ finalityDepth: 3 })
    tracker.registerFilter({ address: [A] })
    await mineSteadily(provider, tracker, 5)
    const orphanedHash = tracker.store.canonicalHash(tracker.cursor!.number)!
    provider.reorg(1, BLOCK_LOGS)
    await waitFor('reorg applied', () => tracker.store.branchOf(orphanedHash).state === 'orphaned')
    // Keep mining with an irreversible watch open, so finality is asked every block.
    const release = tracker.wantPromptFinality()
    await mineSteadily(provider, tracker, 6)
    release()
    const { finalized, number } = tracker.cursor!
    expect(finalized).toBe(number - 3)
    await tracker.prune()
    // The orphaned block is final now: gone, with its logs.
    expect(tracker.store.branchOf(orphanedHash).state).toBe('unknown')
    expect((db.prepare('SELECT COUNT(*) AS n FROM chain_blocks WHERE canonical = 0').get() as { n: number }).n).toBe(0)
    // Final canonical blocks below the finalized one and their logs are gone; everything from it up stays.
    expect(tracker.store.oldestCanonical()).toBe(finalized)
    expect(tracker.store.canonicalRange(finalized, number).map((b) => b.block.number)).toEqual(
      Array.from({ length: number - finalized + 1 }, (_, i) => finalized + i),
    )
    expect(tracker.store.canonicalLogs(0, finalized)).toEqual([])
    expect(tracker.store.canonicalLogs(finalized + 1, number).map((l) => l.blockNumber)).toEqual(
      Array.from({ length: number - finalized }, (_, i) => finalized + 1 + i),
    )
    // A cursor on a non-final block still resolves.
    expect(tracker.store.branchOf(tracker.store.canonicalHash(number)!).state).toBe('canonical')

    // Heads: older than the retention go, the rest stay.
    const insert = db.prepare(
      'INSERT INTO heads (connection_id, number, hash, parent_hash, timestamp, gas_used, gas_limit, tx_count, received_at) VALUES (1, ?, ?, ?, 0, 0, 0, 0, ?)',
    )
    const now = Date.now()
    for (let i = 0; i < 10; i++) insert.run(i, `0x${i}`, '0x0', now - (10 - i) * 86_400_000)
    const retention = new RetentionStore(db)
    expect(retention.pruneHeads(1, 3.5, 500, now)).toBe(7)
    expect((db.prepare('SELECT number FROM heads ORDER BY number').all() as { number: number }[]).map((r) => r.number)).toEqual([7, 8, 9])
  })
})

/** The chain tracker against a scripted chain: the cases a real node will not produce on demand. */
import { afterEach, describe, expect, it as vitestIt } from 'vitest'
import type { FakeProviderOptions } from '../../../test/helpers/fake-provider'
import { waitFor } from '../../../test/helpers/scripted-server'
import { postgresSkipReason } from '../../../test/helpers/postgres-test-database'
import { startTrackerFixture, type ChainBackend, type TrackerFixture } from '../../../test/helpers/tracker-fixture'
import { createTrackerWatchProvider } from './tracker-watch'
import type { WatchMessage } from './watch-types'
import type { PostgresPool } from '../store/postgres/database'

const LOG = {
  address: '0x8320fe7702b96808f7bbc0d4a888ed1468216cfd',
  topics: ['0xd78a0cb8bb633d06981248b816e7bd33c2a35a6089241d099fa519e361cab902'],
  data: '0x01',
}

let fixture: TrackerFixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

const backends: [ChainBackend, string | undefined][] = [
  ['SQLite', undefined],
  ['PostgreSQL', postgresSkipReason],
]

// Every case on each store backend: the tracker's promises rest on the ChainStore interface, not on SQLite.
describe.each(backends)('ChainTracker on %s', (backend, skipReason) => {
  async function setup(provider: FakeProviderOptions = {}, trackerOptions: { maxReorgDepth?: number } = {}) {
    fixture = await startTrackerFixture({ provider, ...trackerOptions, backend })
    return fixture
  }
  const it = skipReason === undefined ? vitestIt : vitestIt.skip

  it('refetches a block whose logs contradict its bloom or belong to another block', async () => {
    const { provider, tracker, logs } = await setup({ badLogAnswers: ['empty', 'wrong-block'] })
    tracker.registerFilter({ address: [LOG.address] })
    provider.mine([LOG])
    tracker.poke()
    await waitFor('block 1', () => tracker.cursor?.number === 1)
    provider.mine([LOG, LOG])
    tracker.poke()
    await waitFor('block 2', () => tracker.cursor?.number === 2)
    expect(logs.filter((m) => m.includes('refetching'))).toHaveLength(2)
    expect(tracker.store.canonicalLogs(0, 2).map((l) => [l.blockNumber, l.blockHash])).toEqual([
      [1, provider.chain[1]!.block.hash],
      [2, provider.chain[2]!.block.hash],
      [2, provider.chain[2]!.block.hash],
    ])
  })

  it('stores a burst of announced blocks a group at a time, in order, every block and log once', async () => {
    const { provider, tracker } = await setup()
    tracker.registerFilter({ topics: [LOG.topics] })
    provider.mine([LOG])
    tracker.poke()
    await waitFor('start', () => tracker.cursor?.number === 1)
    const events: number[][] = []
    tracker.on('blocks', (blocks) => events.push(blocks.map((b) => b.block.number)))
    // 40 blocks announced at once, as newHeads notifications arrive while the tracker is behind.
    for (let i = 0; i < 40; i++) tracker.noteHead(provider.mine([LOG, LOG]))
    tracker.poke()
    await waitFor('caught up', () => tracker.cursor?.number === 41, 30_000)
    expect(events.flat()).toEqual(Array.from({ length: 40 }, (_, i) => i + 2))
    expect(Math.max(...events.map((e) => e.length))).toBeGreaterThan(1)
    expect(tracker.store.canonicalLogs(2, 41).map((l) => [l.blockNumber, l.logIndex])).toEqual(
      Array.from({ length: 80 }, (_, i) => [2 + Math.floor(i / 2), i % 2]),
    )
  })

  it('fills a long gap block by block after being away', async () => {
    const { provider, tracker } = await setup()
    tracker.registerFilter({ topics: [LOG.topics] })
    provider.mine([LOG])
    tracker.poke()
    await waitFor('start', () => tracker.cursor?.number === 1)
    // 300 blocks mined while nobody listened: the peer that keeps only the last 120 would lose some.
    for (let i = 0; i < 300; i++) provider.mine([LOG])
    tracker.poke()
    await waitFor('caught up', () => tracker.cursor?.number === 301, 30_000)
    expect(tracker.store.canonicalLogs(1, 301)).toHaveLength(301)
    expect(tracker.store.canonicalRange(1, 301).map((b) => b.block.number)).toEqual(Array.from({ length: 301 }, (_, i) => i + 1))
  })

  it('reports a fork deeper than the maximum instead of applying it', async () => {
    const { provider, tracker, logs } = await setup({}, { maxReorgDepth: 3 })
    for (let i = 0; i < 3; i++) provider.mine([LOG])
    tracker.poke()
    await waitFor('start', () => tracker.cursor?.number === 3)
    for (let i = 0; i < 6; i++) provider.mine([LOG])
    tracker.poke()
    await waitFor('at 9', () => tracker.cursor?.number === 9)
    const troubles: string[] = []
    tracker.on('trouble', (m) => troubles.push(m))
    provider.reorg(5, [LOG])
    provider.mine([LOG])
    tracker.poke()
    await waitFor('deep fork reported', () => troubles.some((m) => /fork deeper than 3 blocks/.test(m)))
    expect(tracker.cursor?.number).toBe(9)
    expect(tracker.store.canonicalHash(9)).not.toBe(provider.chain[9]!.block.hash)
    expect(logs.some((m) => /fork deeper than 3/.test(m))).toBe(true)
  })

  it('does not take a lagging node for a deep reorg', async () => {
    const { provider, tracker } = await setup()
    for (let i = 0; i < 10; i++) provider.mine([LOG])
    tracker.poke()
    await waitFor('start', () => tracker.cursor?.number === 10)
    let reorgs = 0
    tracker.on('reorg', () => reorgs++)
    // A node behind the others answers with an older head and has no block at our height.
    const saved = provider.chain.splice(6)
    tracker.poke()
    await tracker.idle()
    expect(reorgs).toBe(0)
    expect(tracker.cursor?.number).toBe(10)
    provider.chain.push(...saved)
    provider.mine([LOG])
    tracker.poke()
    await waitFor('continues', () => tracker.cursor?.number === 11)
    expect(reorgs).toBe(0)
  })

  it('serves history below the first tracked block through eth_getLogs ranges that split when refused', async () => {
    const { provider, tracker, pool } = await setup({ maxLogsPerQuery: 50 })
    for (let i = 0; i < 400; i++) provider.mine([LOG])
    tracker.poke()
    await waitFor('start', () => tracker.cursor?.number === 400)
    const messages: WatchMessage[] = []
    createTrackerWatchProvider(tracker, pool).open(
      {
        kind: 'logs',
        filter: { address: [LOG.address] },
        startBlock: 1,
        head: 400,
        fetchSnapshot: false,
        listen: false,
        irreversibleOnly: false,
        withProgress: 100,
        chainId: 31337,
      },
      (m) => messages.push(m),
    )
    await waitFor('complete', () => messages.some((m) => m.type === 'complete'), 30_000)
    const logs = messages.filter((m) => m.type === 'log')
    expect(logs.map((m) => (m.type === 'log' ? m.log.blockNumber : 0))).toEqual(Array.from({ length: 400 }, (_, i) => i + 1))
    expect(messages.filter((m) => m.type === 'progress').map((m) => (m.type === 'progress' ? m.data.block_number : 0))).toEqual([100, 200, 300, 400])
    const progress400 = messages.find((m) => m.type === 'progress' && m.data.block_number === 400)
    expect(progress400?.type === 'progress' && progress400.data.block_hash).toBe(provider.chain[400]!.block.hash)
    // Refused ranges were split: more than one eth_getLogs call, none returning over 50.
    expect(provider.methods.filter((m) => m === 'eth_getLogs').length).toBeGreaterThan(8)
  })
})

describe.skipIf(postgresSkipReason !== undefined)('ChainTracker capturing for followers (PostgreSQL)', () => {
  vitestIt('fetches a follower’s filter, marks it active with its logs, and asks for finality every block while a follower wants it prompt', async () => {
    let stored: PostgresPool | undefined
    fixture = await startTrackerFixture({
      backend: 'PostgreSQL',
      beforeOpen: async (pool) => {
        stored = pool
        // A follower's logs filter and an irreversible_only client's ask for prompt finality, as PostgresFollowedChain writes them.
        await pool.query(
          `INSERT INTO stream_filters (connection_id, filter_json, prompt_finality, owner, seen_at) VALUES
           (1, $1, FALSE, 'follower', (extract(epoch from clock_timestamp()) * 1000)::bigint),
           (1, NULL, TRUE, 'follower', (extract(epoch from clock_timestamp()) * 1000)::bigint)`,
          [JSON.stringify({ address: [LOG.address] })],
        )
      },
    })
    const { provider, tracker } = fixture
    provider.mine([LOG])
    tracker.poke()
    await waitFor('block 1', () => tracker.cursor?.number === 1)
    const mark = provider.requests.length
    for (let n = 2; n <= 6; n++) {
      provider.mine([LOG])
      tracker.poke()
      await waitFor(`block ${n}`, () => tracker.cursor?.number === n)
    }
    await tracker.idle()
    // Without a follower's ask, finality is asked at most every 32 blocks (filtered-tracking.test.ts).
    const finalityAsks = provider.requests.slice(mark).filter((r) => r.method === 'eth_getBlockByNumber' && r.params[0] === 'finalized')
    expect(finalityAsks.length).toBeGreaterThanOrEqual(5)
    // Nothing of this instance's own watches the logs: they are stored for the follower's filter.
    expect(tracker.store.canonicalLogs(1, 6).map((l) => l.blockNumber)).toEqual([1, 2, 3, 4, 5, 6])
    expect((await stored!.query('SELECT active FROM stream_filters WHERE filter_json IS NOT NULL')).rows).toEqual([{ active: true }])
  })
})

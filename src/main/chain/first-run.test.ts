/**
 * A connection's first run: the tracker starts with an empty store while the chain already
 * has blocks that are not final. Those blocks are tracked from the start (from the block
 * after the finalized one), so a reorg right after the start takes back what a client was
 * sent of them as history, and a gap is filled with headers asked for together.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/scripted-server'
import { startTrackerFixture, type TrackerFixture } from '../../../test/helpers/tracker-fixture'
import { canonicalLogs, replay, WATCHED, watchRequest as request, type LogMessage } from '../../../test/helpers/watch-replay'
import type { WatchMessage } from './watch-types'
import { createTrackerWatchProvider } from './tracker-watch'

const TOPIC = '0xd78a0cb8bb633d06981248b816e7bd33c2a35a6089241d099fa519e361cab902'
const LOG = { address: WATCHED, topics: [TOPIC], data: '0x01' }

let fixture: TrackerFixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

describe("a connection's first run", () => {
  it('tracks the non-final blocks below the head, so a reorg right after the start takes back history a client was sent', async () => {
    fixture = await startTrackerFixture({
      provider: { finalityDepth: 5 },
      // Ten blocks with a watched log each before Tidewatch ever connects: 1..5 are final, 6..10 are not.
      prepare: (provider) => {
        for (let i = 0; i < 10; i++) provider.mine([LOG])
      },
    })
    const { provider, tracker, pool } = fixture
    tracker.poke()
    await waitFor('caught up with the head', () => tracker.cursor?.number === 10)
    // Finality is asked once the sync has stored the blocks.
    await tracker.idle()
    expect(tracker.cursor!.firstBlock).toBe(6)
    expect(tracker.cursor!.finalized).toBe(5)

    const messages: WatchMessage[] = []
    createTrackerWatchProvider(tracker, pool).open(request({ startBlock: 1, head: 10 }), (m) => messages.push(m))
    await waitFor('read to 10', () => messages.some((m) => m.type === 'progress' && m.data.block_number === 10))
    expect(replay(messages).size).toBe(10)

    // Blocks 7..10 replaced: 7 was sent as history before the store held anything of it.
    provider.reorg(4, [LOG, LOG])
    provider.mine([LOG])
    tracker.poke()
    await waitFor('the new branch delivered', () => messages.some((m) => m.type === 'progress' && m.data.block_number === 11))
    expect(messages.filter((m) => m.type === 'error')).toEqual([])
    const removed = messages.filter((m): m is LogMessage => m.type === 'log' && m.removed)
    expect(removed.map((m) => m.log.blockNumber)).toEqual([10, 9, 8, 7])
    expect([...replay(messages).values()].map((m) => m.log.raw)).toEqual(canonicalLogs(provider, 1, 11))
  })

  it('starts no lower than the maximum reorg depth allows, and asks for the missing headers together', async () => {
    fixture = await startTrackerFixture({
      maxReorgDepth: 40,
      // 100 blocks; 'finalized' is the default 64 below the head: the reorg depth bounds the start instead.
      prepare: (provider) => {
        for (let i = 0; i < 100; i++) provider.mine()
      },
    })
    const { provider, tracker, pool } = fixture
    // Headers by number in flight at once, as the tracker asks the pool for them.
    let inFlight = 0
    let mostInFlight = 0
    const request = pool.request.bind(pool)
    pool.request = async <T>(method: string, params: readonly unknown[] = [], timeoutMs?: number): Promise<T> => {
      const counted = method === 'eth_getBlockByNumber'
      if (counted) mostInFlight = Math.max(mostInFlight, ++inFlight)
      try {
        return await request<T>(method, params, timeoutMs)
      } finally {
        if (counted) inFlight -= 1
      }
    }
    tracker.poke()
    await waitFor('caught up with the head', () => tracker.cursor?.number === 100)
    expect(tracker.cursor!.firstBlock).toBe(60)
    for (let n = 60; n <= 100; n++) expect(tracker.store.canonicalHash(n)).toBe(provider.chain[n]!.block.hash)
    // The 40 headers after the first one came in groups asked for at once, not one round trip each.
    const byNumber = provider.requests.filter((r) => r.method === 'eth_getBlockByNumber' && /^0x[0-9a-f]+$/.test(String(r.params[0])))
    expect(byNumber.map((r) => Number(r.params[0])).sort((a, b) => a - b)).toEqual(Array.from({ length: 41 }, (_, i) => 60 + i))
    expect(mostInFlight).toBeGreaterThan(8)
  })

  it('starts at the head when the head is final already (a chain that finalizes every block)', async () => {
    fixture = await startTrackerFixture({
      provider: { finalityDepth: 0 },
      prepare: (provider) => {
        for (let i = 0; i < 3; i++) provider.mine()
      },
    })
    const { tracker } = fixture
    tracker.poke()
    await waitFor('tracking', () => tracker.cursor?.number === 3)
    expect(tracker.cursor!.firstBlock).toBe(3)
  })

  it('waits out a rate limit on the burst of headers and logs it asks for, instead of failing the sync', async () => {
    fixture = await startTrackerFixture({
      provider: { finalityDepth: 20 },
      prepare: (provider) => {
        for (let i = 0; i < 30; i++) provider.mine([LOG])
      },
    })
    const { provider, tracker, pool, logs } = fixture
    const troubles: string[] = []
    tracker.on('trouble', (message) => troubles.push(message))
    // A watch registered first, so the blocks' logs are asked for too; then a free tier's answer to a burst.
    const messages: WatchMessage[] = []
    createTrackerWatchProvider(tracker, pool).open(request({ startBlock: 1, head: 30 }), (m) => messages.push(m))
    // Past the first few requests (the head, 'finalized'): the burst of headers, and of the blocks' logs.
    provider.throttle('eth_getBlockByNumber', 8, 3)
    provider.throttle('eth_getLogs', 6, 1)
    tracker.poke()
    await waitFor('read to 30', () => messages.some((m) => m.type === 'progress' && m.data.block_number === 30), 20_000)
    expect(troubles).toEqual([])
    expect(logs.filter((line) => /chain tracker/.test(line))).toEqual([])
    expect([...replay(messages).values()].map((m) => m.log.raw)).toEqual(canonicalLogs(provider, 1, 30))
    expect(tracker.cursor!.firstBlock).toBe(11)
  })
})

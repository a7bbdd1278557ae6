/** Progress in history served from the upstream: every N blocks for a /v1/stream client, at blocks with logs and range ends for the app's own watches. */
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/scripted-server'
import { startTrackerFixture, type TrackerFixture } from '../../../test/helpers/tracker-fixture'
import { decodeCursor } from './stream-cursor'
import { createTrackerWatchProvider } from './tracker-watch'
import type { WatchMessage, WatchRequest } from './watch-types'

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

/** 60 final blocks of history before tracking starts, a log in every 20th; tracking from block 61, the first not final. */
async function sparseHistory() {
  fixture = await startTrackerFixture({
    provider: { finalityDepth: 1 },
    prepare: (provider) => Array.from({ length: 60 }, (_, i) => provider.mine((i + 1) % 20 === 0 ? [LOG] : [])),
  })
  const { provider, tracker, pool } = fixture
  provider.mine()
  tracker.poke()
  await waitFor('tracking from block 61', () => tracker.cursor?.firstBlock === 61)
  return { provider, watches: createTrackerWatchProvider(tracker, pool) }
}

async function readHistory(overrides: Partial<WatchRequest>): Promise<{ messages: WatchMessage[]; blockRequests: number }> {
  const { provider, watches } = await sparseHistory()
  const before = provider.requests.filter((r) => r.method === 'eth_getBlockByNumber').length
  const messages: WatchMessage[] = []
  const request: WatchRequest = {
    kind: 'logs',
    filter: { address: [LOG.address] },
    startBlock: 1,
    head: 61,
    fetchSnapshot: false,
    listen: false,
    irreversibleOnly: false,
    withProgress: 1,
    chainId: 1,
    ...overrides,
  }
  watches.open(request, (m) => messages.push(m))
  await waitFor('complete', () => messages.some((m) => m.type === 'complete'), 15_000)
  return { messages, blockRequests: provider.requests.filter((r) => r.method === 'eth_getBlockByNumber').length - before }
}

const progressBlocks = (messages: WatchMessage[]) => messages.flatMap((m) => (m.type === 'progress' ? [m.data.block_number] : []))
const logBlocks = (messages: WatchMessage[]) => messages.flatMap((m) => (m.type === 'log' ? [m.log.blockNumber] : []))

describe('progress in history from the upstream', () => {
  it('comes every block for a client that asked for it, each cursor naming its block', async () => {
    const { messages, blockRequests } = await readHistory({})
    expect(logBlocks(messages)).toEqual([20, 40, 60])
    expect(progressBlocks(messages)).toEqual(Array.from({ length: 61 }, (_, i) => i + 1))
    // The empty blocks' hashes were asked for one by one.
    expect(blockRequests).toBeGreaterThanOrEqual(57)
  })

  it('comes at blocks with logs and range ends for the app’s watches, with no request per empty block', async () => {
    const { messages, blockRequests } = await readHistory({ sparseHistoryProgress: true })
    expect(logBlocks(messages)).toEqual([20, 40, 60])
    const blocks = progressBlocks(messages)
    expect(blocks).toEqual(expect.arrayContaining([20, 40, 60, 61]))
    expect(blocks).toEqual([...blocks].sort((a, b) => a - b))
    expect(blocks.length).toBeLessThan(10)
    expect(blockRequests).toBeLessThan(5)
    // Every cursor names a real block: its hash is the chain's.
    for (const m of messages)
      if (m.type === 'progress') expect(decodeCursor(m.data.cursor)?.hash).toBe(fixture!.provider.chain[m.data.block_number]!.block.hash)
  })
})

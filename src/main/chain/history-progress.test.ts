/** Progress in history served from the upstream: every N blocks for a /v1/stream client, at blocks with logs and range ends for the app's own watches. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeProvider, type FakeProvider } from '../../../test/helpers/fake-provider'
import { waitFor } from '../../../test/helpers/scripted-server'
import { ChainStore } from '../store/chain-store'
import { openDatabase, type Db } from '../store/database'
import { ConnectionPool } from '../upstream/connection-pool'
import { ChainTracker } from './chain-tracker'
import { decodeCursor } from './stream-cursor'
import { createTrackerWatchProvider } from './tracker-watch'
import type { WatchMessage, WatchRequest } from './watch-types'

const LOG = {
  address: '0x8320fe7702b96808f7bbc0d4a888ed1468216cfd',
  topics: ['0xd78a0cb8bb633d06981248b816e7bd33c2a35a6089241d099fa519e361cab902'],
  data: '0x01',
}

let provider: FakeProvider | undefined
let pool: ConnectionPool | undefined
let tracker: ChainTracker | undefined
let db: Db | undefined
let dir: string | undefined
afterEach(async () => {
  tracker?.stop()
  await tracker?.idle()
  await pool?.stop()
  await provider?.close()
  db?.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
  provider = pool = tracker = db = dir = undefined
})

/** 60 blocks of history before tracking starts, a log in every 20th; tracking from block 61. */
async function sparseHistory() {
  provider = await startFakeProvider()
  for (let n = 1; n <= 60; n++) provider.mine(n % 20 === 0 ? [LOG] : [])
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-history-progress-'))
  db = openDatabase(path.join(dir, 'db.sqlite'))
  db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'x', 'user', 'x', 'x', 0)").run()
  pool = new ConnectionPool({ url: provider.url })
  pool.start()
  tracker = new ChainTracker({ store: new ChainStore(db, 1), pool, log: () => undefined })
  provider.mine()
  tracker.poke()
  await waitFor('tracking from block 61', () => tracker!.cursor?.firstBlock === 61)
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
    for (const m of messages) if (m.type === 'progress') expect(decodeCursor(m.data.cursor)?.hash).toBe(provider!.chain[m.data.block_number]!.block.hash)
  })
})

/**
 * The chain tracker and its watches against a real anvil with demo traffic and real
 * reorgs (`anvil_reorg` at depths 1, 5 and 20). anvil never sends `removed: true`, so
 * everything here rests on parent-hash checks. The client's view (logs minus removed ones)
 * and the store's canonical view must both equal eth_getLogs afterwards.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createPublicClient, encodeFunctionData, http, parseAbi, type Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/scripted-server'
import { startDemoChain, type DemoChain } from '../demo/demo-chain'
import { Engine } from '../engine/engine'
import { createKeyFileSecretBox } from '../store/secret-box'
import type { WatchMessage } from './watch-types'
import { createTrackerWatchProvider } from './tracker-watch'

let demo: DemoChain
let engine: Engine
let dataDir: string
let connectionId: number

beforeAll(async () => {
  demo = await startDemoChain({ blockTime: 1, onError: () => undefined })
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-tracker-'))
  engine = new Engine({ dataDir, secrets: createKeyFileSecretBox(dataDir) })
  connectionId = engine.connections.add({ url: demo.wsUrl }).id
  await waitFor('tracker started', () => engine.connections.liveConnection(connectionId)?.tracker.cursor, 20_000)
})
afterAll(async () => {
  await engine?.close()
  await demo?.stop()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> => {
  const client = createPublicClient({ transport: http(demo.httpUrl) })
  return await client.request({ method: method as never, params: params as never })
}
const key = (l: { blockHash: string; logIndex: number }) => `${l.blockHash}:${l.logIndex}`

describe('chain tracker on anvil', () => {
  it('survives reorgs of depth 1, 5 and 20 with exact removed/replacement delivery', async () => {
    const live = engine.connections.liveConnection(connectionId)!
    const tracker = live.tracker
    const provider = createTrackerWatchProvider(tracker, live.pool)
    const head = await provider.latestBlock()
    const start = tracker.cursor!.firstBlock
    const messages: WatchMessage[] = []
    const heads: WatchMessage[] = []
    const token = demo.tokenAddress.toLowerCase()
    const watch = provider.open(
      {
        kind: 'logs',
        filter: { address: [token] },
        startBlock: start,
        head,
        fetchSnapshot: false,
        listen: true,
        irreversibleOnly: false,
        withProgress: 1,
        chainId: 31337,
      },
      (m) => messages.push(m),
    )
    const headWatch = provider.open(
      { kind: 'newHeads', filter: {}, startBlock: start, head, fetchSnapshot: false, listen: true, irreversibleOnly: false, withProgress: 0, chainId: 31337 },
      (m) => heads.push(m),
    )
    let reorgs = 0
    tracker.on('reorg', () => reorgs++)

    const transfer = encodeFunctionData({
      abi: parseAbi(['function transfer(address to, uint256 value) returns (bool)']),
      functionName: 'transfer',
      args: [demo.accounts[2]!, 7n],
    })
    for (const depth of [1, 5, 20]) {
      await waitFor(`${depth + 2} blocks tracked`, () => tracker.cursor!.number >= start + depth + 2, 40_000, 100)
      const before = tracker.cursor!.number
      const removedBefore = messages.filter((m) => m.type === 'log' && m.removed).length
      // The replacement branch carries a transfer of its own, so replacements have logs too.
      await rpc('anvil_reorg', [depth, [[{ from: demo.accounts[1], to: demo.tokenAddress, data: transfer }, 0]]])
      await waitFor(`reorg ${depth} detected`, () => reorgs >= [1, 5, 20].indexOf(depth) + 1, 20_000, 50)
      await waitFor('tracker past the old tip', () => tracker.cursor!.number > before + 1, 20_000, 100)
      expect(messages.filter((m) => m.type === 'log' && m.removed).length).toBeGreaterThan(removedBefore)
    }
    await tracker.idle()
    const end = tracker.cursor!.number
    await waitFor('watch caught up', () => messages.some((m) => m.type === 'progress' && m.data.block_number === end), 10_000)
    watch.stop()
    headWatch.stop()

    // The client's view: every log added, every removed one taken back, and nothing taken back that was not sent.
    const view = new Map<string, unknown>()
    for (const m of messages) {
      if (m.type !== 'log') continue
      const k = key({ blockHash: m.log.blockHash, logIndex: m.log.logIndex })
      if (m.removed) {
        expect(view.has(k), `removed ${k} was never delivered`).toBe(true)
        view.delete(k)
      } else {
        expect(view.has(k), `${k} delivered twice`).toBe(false)
        view.set(k, m.log)
      }
    }
    const expected = await rpc<{ blockHash: string; logIndex: Hex }[]>('eth_getLogs', [
      { address: demo.tokenAddress, fromBlock: `0x${start.toString(16)}`, toBlock: `0x${end.toString(16)}` },
    ])
    expect([...view.keys()].sort()).toEqual(expected.map((l) => key({ blockHash: l.blockHash, logIndex: Number(l.logIndex) })).sort())

    // The store's canonical view holds every log of every block, exactly.
    const all = await rpc<{ blockHash: string; logIndex: Hex }[]>('eth_getLogs', [{ fromBlock: `0x${start.toString(16)}`, toBlock: `0x${end.toString(16)}` }])
    expect(tracker.store.canonicalLogs(start, end).map(key).sort()).toEqual(
      all.map((l) => key({ blockHash: l.blockHash, logIndex: Number(l.logIndex) })).sort(),
    )

    // Heads: orphaned heads taken back newest first; the surviving heads form the canonical chain.
    const headView = new Map<number, string>()
    let lastRemoved = Number.MAX_SAFE_INTEGER
    for (const m of heads) {
      if (m.type !== 'head') continue
      if (m.data.removed) {
        expect(m.data.block_number).toBeLessThan(lastRemoved)
        lastRemoved = m.data.block_number
        expect(headView.get(m.data.block_number)).toBe(m.data.block_hash)
        headView.delete(m.data.block_number)
      } else {
        lastRemoved = Number.MAX_SAFE_INTEGER
        headView.set(m.data.block_number, m.data.block_hash)
      }
    }
    for (const n of [start, Math.floor((start + end) / 2), end]) {
      const block = await rpc<{ hash: string }>('eth_getBlockByNumber', [`0x${n.toString(16)}`, false])
      expect(headView.get(n)).toBe(block.hash)
    }
    // Ordering: outside reorgs, logs come in (block, index) order.
    const live2 = messages.filter((m): m is Extract<WatchMessage, { type: 'log' }> => m.type === 'log' && !m.removed)
    for (let i = 1; i < live2.length; i++) {
      const [a, b] = [live2[i - 1]!.log, live2[i]!.log]
      if (b.blockHash === a.blockHash) expect(b.logIndex).toBeGreaterThan(a.logIndex)
      else expect(b.blockNumber).toBeGreaterThanOrEqual(a.blockNumber - 20)
    }
  })
})

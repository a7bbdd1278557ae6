/**
 * irreversible_only against a scripted chain whose finality trails the head by 3 blocks:
 * never a removed: true, never a block above finality, even across a reorg that a plain
 * watch on the same tracker does see.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeProvider, type FakeProvider } from '../../../test/helpers/fake-provider'
import { waitFor } from '../../../test/helpers/scripted-server'
import { Engine } from '../engine/engine'
import { createKeyFileSecretBox } from '../store/secret-box'
import type { WatchMessage } from './watch-types'
import { createTrackerWatchProvider } from './tracker-watch'

const LOG = {
  address: '0x8320fe7702b96808f7bbc0d4a888ed1468216cfd',
  topics: ['0xd78a0cb8bb633d06981248b816e7bd33c2a35a6089241d099fa519e361cab902'],
  data: '0x01',
}

let provider: FakeProvider
let engine: Engine
let dataDir: string

beforeAll(async () => {
  provider = await startFakeProvider({ finalityDepth: 3 })
  for (let i = 0; i < 5; i++) provider.mine([LOG])
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-final-'))
  engine = new Engine({ dataDir, secrets: createKeyFileSecretBox(dataDir) })
})
afterAll(async () => {
  await engine.close()
  await provider.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

describe('irreversible_only', () => {
  it('delivers only final blocks and never takes anything back', async () => {
    const { id } = engine.connections.add({ url: provider.url })
    const live = await waitFor('tracker', () => engine.connections.liveConnection(id)?.tracker.cursor && engine.connections.liveConnection(id))
    const watches = createTrackerWatchProvider(live.tracker, live.pool)
    const finalAtSend: { message: WatchMessage; finalized: number }[] = []
    const plain: WatchMessage[] = []
    const request = { kind: 'logs' as const, filter: {}, startBlock: 1, head: 5, fetchSnapshot: false, listen: true, withProgress: 0, chainId: 31337 }
    watches.open({ ...request, irreversibleOnly: true }, (message) => finalAtSend.push({ message, finalized: live.tracker.cursor!.finalized }))
    watches.open({ ...request, irreversibleOnly: false }, (message) => plain.push(message))

    for (let i = 0; i < 4; i++) {
      provider.mine([LOG])
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
    await waitFor('tracker at 9', () => live.tracker.cursor!.number === 9)
    provider.reorg(2, [LOG, LOG])
    await waitFor('reorg seen by the plain watch', () => plain.some((m) => m.type === 'log' && m.removed))
    for (let i = 0; i < 6; i++) {
      provider.mine([LOG])
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
    await waitFor('tracker at 15', () => live.tracker.cursor!.number === 15)
    await live.tracker.idle()
    await waitFor('final blocks delivered', () => finalAtSend.some((m) => m.message.type === 'log' && m.message.log.blockNumber === 12))

    const logs = finalAtSend.filter((m) => m.message.type === 'log')
    expect(logs.length).toBeGreaterThan(8)
    for (const { message, finalized } of logs) {
      if (message.type !== 'log') continue
      expect(message.removed).toBe(false)
      expect(message.irreversible).toBe(true)
      expect(message.log.blockNumber).toBeLessThanOrEqual(finalized)
    }
    // What it delivered is exactly the canonical chain's logs up to finality.
    const finalized = live.tracker.cursor!.finalized
    const canonical = provider.chain.slice(1, finalized + 1).flatMap((e) => e.logs.map((l) => `${String(l.blockHash)}:${Number(l.logIndex)}`))
    expect(logs.map(({ message }) => (message.type === 'log' ? `${message.log.blockHash}:${message.log.logIndex}` : ''))).toEqual(canonical)
    expect(finalAtSend.some((m) => m.message.type === 'listening')).toBe(true)
  })
})

/** A watched address on the demo chain: its transfers, pending and mined transactions appear without any subscription. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/scripted-server'
import { startDemoChain, type DemoChain } from '../demo/demo-chain'
import { createKeyFileSecretBox } from '../store/secret-box'
import { Engine } from './engine'

let demo: DemoChain
let engine: Engine
let dataDir: string

beforeAll(async () => {
  demo = await startDemoChain({ blockTime: 1, onError: () => undefined })
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-watchlist-'))
  engine = new Engine({ dataDir, secrets: createKeyFileSecretBox(dataDir) })
  engine.connections.add({ url: demo.wsUrl })
})
afterAll(async () => {
  await engine?.close()
  await demo?.stop()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

describe('watchlist activity', () => {
  it('collects transfers and pending and mined transactions of a watched address', async () => {
    const address = demo.accounts[1]!.toLowerCase()
    engine.watchlist.upsert({ address, label: 'One', color: '#00ff00', notify: false })
    await waitFor(
      'pending, mined and transfers',
      async () => {
        const activity = await engine.watchlist.activity(address, 50)
        const kinds = new Set(activity.transactions.map((t) => t.kind))
        return kinds.has('pending_transaction') && kinds.has('mined_transaction') && activity.transfers.length > 0 && activity
      },
      45_000,
      250,
    )
    const activity = await engine.watchlist.activity(address, 50)
    for (const tx of activity.transactions) {
      const body =
        tx.kind === 'mined_transaction'
          ? (tx.payload as { transaction: { from: string; to: string } }).transaction
          : (tx.payload as { from: string; to: string })
      expect([body.from.toLowerCase(), body.to?.toLowerCase()]).toContain(address)
    }
    for (const transfer of activity.transfers) expect(transfer.token).toBe(demo.tokenAddress.toLowerCase())
  })
})

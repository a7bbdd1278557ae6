/**
 * A logs watch captured into the store across restarts of the engine, with a reorg that
 * happens while it is away: every canonical log exactly once, orphaned rows marked
 * removed, the cursor resuming at the fork point.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeProvider, type FakeProvider } from '../../../test/helpers/fake-provider'
import { waitFor } from '../../../test/helpers/scripted-server'
import { subscriptionSpecSchema } from '../../shared/subscription-params'
import { Engine } from '../engine/engine'
import { createKeyFileSecretBox } from '../store/secret-box'

const LOG = {
  address: '0x8320fe7702b96808f7bbc0d4a888ed1468216cfd',
  topics: ['0xd78a0cb8bb633d06981248b816e7bd33c2a35a6089241d099fa519e361cab902'],
  data: '0x01',
}

let provider: FakeProvider
let dataDir: string
beforeAll(async () => {
  provider = await startFakeProvider()
  for (let i = 0; i < 10; i++) provider.mine([LOG])
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-watchcap-'))
})
afterAll(async () => {
  await provider.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

const open = () =>
  new Engine({ dataDir, secrets: createKeyFileSecretBox(dataDir), backoff: { initialMs: 20, maxMs: 50 }, log: (m) => process.env.TW_DEBUG && console.log(m) })
const canonicalKeys = (to: number) => provider.chain.slice(1, to + 1).flatMap((e) => e.logs.map((l) => `${String(l.blockHash)}:${Number(l.logIndex)}`))

describe('watch capture', () => {
  it('stores history and live logs once, and resumes at the fork point after a reorg while away', async () => {
    let engine = open()
    const { id: connectionId } = engine.connections.add({ url: provider.url })
    const sub = engine.subscriptions.create({
      connectionId,
      spec: subscriptionSpecSchema.parse({ type: 'logs', params: { address: LOG.address } }),
      watch: { startBlock: -6, fetch: false, listen: true, irreversibleOnly: false },
    })
    const rows = async () => (await engine.events.list({ subscriptionId: sub.id, limit: 1000 })).reverse()
    await waitFor('history 4..10', async () => (await rows()).length === 7)
    expect(engine.subscriptions.list()[0]).toMatchObject({ watch: { startBlock: -6 }, cursor: { number: 10 } })
    provider.mine([LOG, LOG])
    await waitFor('live block 11', async () => (await rows()).length === 9)
    await engine.close()

    // Away: blocks 10 and 11 are replaced, and the chain grows to 14.
    provider.reorg(2, [LOG])
    provider.mine([LOG])
    provider.mine([LOG])
    provider.mine([LOG])

    engine = open()
    engine.start()
    await waitFor('caught up to 14', () => engine.subscriptions.list()[0]?.cursor?.number === 14, 15_000)
    await waitFor('flushed', async () => (await rows()).filter((r) => !r.removed).length === 11)
    const all = await rows()
    const live = all.filter((r) => !r.removed).map((r) => `${r.blockHash}:${r.logIndex}`)
    expect(live).toEqual(canonicalKeys(14).slice(3))
    // The three logs of the orphaned blocks 10 and 11 stay, struck out.
    expect(all.filter((r) => r.removed).map((r) => r.blockNumber)).toEqual([10, 11, 11])
    // No row twice.
    expect(new Set(all.map((r) => `${r.blockHash}:${r.logIndex}`)).size).toBe(all.length)
    await engine.close()
  })

  it('a watch with listen: false completes at the head and stays complete', async () => {
    const engine = open()
    engine.start()
    const connectionId = engine.connections.list()[0]!.id
    const sub = engine.subscriptions.create({
      connectionId,
      spec: subscriptionSpecSchema.parse({ type: 'newHeads' }),
      watch: { startBlock: -2, fetch: false, listen: false, irreversibleOnly: false },
    })
    await waitFor('complete', () => engine.subscriptions.list().find((s) => s.id === sub.id)?.complete === true)
    const heads = (await engine.events.list({ subscriptionId: sub.id, limit: 10 })).reverse()
    const head = provider.chain.length - 1
    expect(heads.map((h) => h.blockNumber)).toEqual([head - 2, head - 1, head])
    expect(heads.map((h) => h.blockHash)).toEqual(provider.chain.slice(head - 2).map((e) => e.block.hash))
    await engine.close()
  })
})

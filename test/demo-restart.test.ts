/**
 * The demo chain is new on every run: a restart on the same data directory must forget the
 * old chain (heads, tracker cursor, watch cursors) instead of waiting for it to come back.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startTidewatch } from '../src/main/app/bootstrap'
import { DEMO_TRANSFERS_LABEL } from '../src/main/demo/demo-starter'
import { createKeyFileSecretBox } from '../src/main/store/secret-box'
import { subscriptionSpecSchema } from '../src/shared/subscription-params'
import { waitFor } from './helpers/scripted-server'

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-demo-restart-'))
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

const start = () =>
  startTidewatch({ dataDir, secrets: createKeyFileSecretBox(dataDir), transport: 'websocket', demo: 'always', demoBlockTime: 1, log: () => undefined })

async function blockHash(httpUrl: string, number: number): Promise<string | undefined> {
  const response = await fetch(httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getBlockByNumber', params: [`0x${number.toString(16)}`, false] }),
  })
  return ((await response.json()) as { result: { hash: string } | null }).result?.hash
}

describe('demo chain restart', () => {
  it('starts over on the new chain, keeping the connection and its subscriptions', async () => {
    const first = await start()
    const id = first.primaryConnectionId()!
    first.engine.subscriptions.create({ connectionId: id, spec: subscriptionSpecSchema.parse({ type: 'logs', params: {} }) })
    await waitFor('old chain tracked past block 5', () => (first.engine.connections.liveConnection(id)?.tracker.cursor?.number ?? 0) >= 5, 30_000)
    await first.close()

    const second = await start()
    expect(second.primaryConnectionId()).toBe(id)
    await waitFor('new chain tracked', () => second.engine.connections.liveConnection(id)?.tracker.cursor?.number !== undefined, 30_000)
    const cursor = second.engine.connections.liveConnection(id)!.tracker.cursor!
    // Tracking began afresh on the new chain, not at the old chain's height.
    expect(cursor.firstBlock).toBeLessThan(5)
    await waitFor('heads of the new chain', async () => (await second.engine.connections.listHeads({ connectionId: id, limit: 10 })).length >= 2, 30_000)
    const tracker = second.engine.connections.liveConnection(id)!.tracker
    const startedAt = tracker.cursor!.number
    await waitFor('the tracker advances on the new chain', () => tracker.cursor!.number >= startedAt + 2, 30_000)
    await waitFor(
      'the logs watch captures the new chain',
      async () => (await second.engine.events.list({ connectionId: id, kind: 'log', limit: 5 })).length > 0,
      30_000,
    )
    // Every captured log is from the new chain: nothing of the old one is left to confuse.
    // History from before the tracker's first block (the demo subscription's) is checked against the node itself.
    const logs = await second.engine.events.list({ connectionId: id, kind: 'log', limit: 1000 })
    const canonicalHash = async (number: number): Promise<string | undefined> =>
      tracker.store.canonicalHash(number) ?? (await blockHash(second.demo!.httpUrl, number))
    for (const log of logs) expect(await canonicalHash(log.blockNumber!), `block ${log.blockNumber}`).toBe(log.blockHash)
    // The person's subscription and the demo's own Transfer subscription, which a restart does not add again.
    expect(second.engine.subscriptions.list(id).map((s) => s.label)).toEqual([DEMO_TRANSFERS_LABEL, null])
    await second.close()
  })
})

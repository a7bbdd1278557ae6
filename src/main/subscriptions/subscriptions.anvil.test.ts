/**
 * Every subscription type against a real anvil running the demo traffic (ERC-20 transfers
 * every block), through the engine into a real SQLite file. Logs are checked against
 * eth_getLogs over the same blocks; anvil lacks alchemy_* and syncing, so those must come
 * out emulated.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createPublicClient, http, pad, parseAbiItem, toEventSelector, type Address, type Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/scripted-server'
import type { CapturedEvent, Subscription } from '../../shared/contract'
import { subscriptionSpecSchema } from '../../shared/subscription-params'
import { startDemoChain, type DemoChain } from '../demo/demo-chain'
import { Engine } from '../engine/engine'
import { createKeyFileSecretBox } from '../store/secret-box'

const TRANSFER = toEventSelector(parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)'))
const OUTSIDER = '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720' as Address // anvil dev account 9, not in the demo traffic

let demo: DemoChain
let engine: Engine
let dataDir: string
let connectionId: number

beforeAll(async () => {
  demo = await startDemoChain({ blockTime: 1 })
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-subs-'))
  engine = new Engine({ dataDir, secrets: createKeyFileSecretBox(dataDir), syncingPollMs: 200 })
  connectionId = engine.connections.add({ name: 'demo', url: demo.wsUrl }).id
  await waitFor('connected', () => engine.connections.list()[0]?.status.state === 'connected')
})
afterAll(async () => {
  await engine?.close()
  await demo?.stop()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

const client = () => createPublicClient({ transport: http(demo.httpUrl) })
const subscribe = (spec: unknown): Subscription => engine.subscriptions.create({ connectionId, spec: subscriptionSpecSchema.parse(spec) })
const eventsOf = async (subscription: Subscription): Promise<CapturedEvent[]> =>
  (await engine.events.list({ subscriptionId: subscription.id, limit: 1000 })).reverse()
const key = (e: { blockHash: string | null; logIndex: number | null }) => `${e.blockHash}:${e.logIndex}`

describe('every subscription type on anvil', () => {
  it('captures native and emulated subscriptions, logs equal to eth_getLogs', async () => {
    const [a1, a2] = demo.accounts.slice(1, 3) as [Address, Address]
    const subs = {
      heads: subscribe({ type: 'newHeads' }),
      tokenLogs: subscribe({ type: 'logs', params: { address: demo.tokenAddress, topics: [TRANSFER] } }),
      // Position 1 any, position 2 one of two recipients.
      orLogs: subscribe({ type: 'logs', params: { topics: [TRANSFER, null, [pad(a1), pad(a2)]] } }),
      pending: subscribe({ type: 'newPendingTransactions' }),
      fullPending: subscribe({ type: 'alchemy_newFullPendingTransactions' }),
      filtered: subscribe({ type: 'alchemy_filteredNewFullPendingTransactions', params: { address: OUTSIDER } }),
      fromOutsider: subscribe({ type: 'alchemy_pendingTransactions', params: { fromAddress: OUTSIDER, hashesOnly: true } }),
      mined: subscribe({ type: 'alchemy_minedTransactions', params: { addresses: [{ to: demo.tokenAddress }] } }),
      syncing: subscribe({ type: 'syncing' }),
    }
    await waitFor('all active', () => engine.subscriptions.list(connectionId).every((s) => s.state === 'active'), 20_000)
    const byId = new Map(engine.subscriptions.list(connectionId).map((s) => [s.id, s]))
    for (const native of [subs.heads, subs.tokenLogs, subs.orLogs, subs.pending]) expect(byId.get(native.id)!.emulated).toBe(false)
    for (const emulated of [subs.fullPending, subs.filtered, subs.fromOutsider, subs.mined, subs.syncing]) {
      expect(byId.get(emulated.id)).toMatchObject({ emulated: true, emulation: expect.stringMatching(/built/) })
    }

    // A transaction of the test's own, from an account the demo traffic never uses.
    const sentAnswer: unknown = await client().request({
      method: 'eth_sendTransaction' as never,
      params: [{ from: OUTSIDER, to: demo.accounts[0], value: '0x1' }] as never,
    })
    const sent = sentAnswer as Hex

    await waitFor('six blocks of logs', async () => new Set((await eventsOf(subs.tokenLogs)).map((e) => e.blockNumber)).size >= 6, 30_000, 200)
    await waitFor('own tx seen everywhere', async () =>
      (await Promise.all([subs.pending, subs.filtered, subs.fromOutsider].map(eventsOf))).every((events) =>
        events.some((e) => e.transactionHash === sent.toLowerCase()),
      ),
    )
    const heads = await eventsOf(subs.heads)
    const lastHead = heads.at(-1)!.blockNumber!
    // Every log up to the last head is in; compare whole blocks from the first one seen.
    await waitFor('one more head', async () => (await eventsOf(subs.heads)).at(-1)!.blockNumber! > lastHead, 10_000)

    for (const [sub, filter] of [
      [subs.tokenLogs, { address: demo.tokenAddress, topics: [TRANSFER] }],
      [subs.orLogs, { topics: [TRANSFER, null, [pad(a1), pad(a2)]] }],
    ] as const) {
      const captured = (await eventsOf(sub)).filter((e) => e.blockNumber! <= lastHead)
      const first = Math.min(...(await eventsOf(subs.tokenLogs)).map((e) => e.blockNumber!))
      const inRange = captured.filter((e) => e.blockNumber! >= first)
      const answer: unknown = await client().request({
        method: 'eth_getLogs',
        params: [{ ...filter, fromBlock: `0x${first.toString(16)}`, toBlock: `0x${lastHead.toString(16)}` } as never],
      })
      const expected = answer as { blockHash: string; logIndex: Hex; topics: string[] }[]
      expect(inRange.map(key).sort()).toEqual(expected.map((l) => `${l.blockHash}:${Number(l.logIndex)}`).sort())
      expect(inRange.every((e) => e.removed === false && e.topics[0] === TRANSFER)).toBe(true)
      if (sub === subs.orLogs) expect(inRange.every((e) => [pad(a1), pad(a2)].map((t) => t.toLowerCase()).includes(e.topics[2]!))).toBe(true)
    }
    expect((await eventsOf(subs.orLogs)).length).toBeGreaterThan(0)

    // Heads: consecutive numbers, parent links intact.
    const headPayloads = (await eventsOf(subs.heads)).map((e) => e.payload as { number: Hex; hash: Hex; parentHash: Hex })
    for (let i = 1; i < headPayloads.length; i++) expect(headPayloads[i]!.parentHash).toBe(headPayloads[i - 1]!.hash)

    // Pending: the full variant carries transactions; filters hold; hashesOnly gives hashes.
    const full = await eventsOf(subs.fullPending)
    expect(full.length).toBeGreaterThan(3)
    expect(full.every((e) => typeof (e.payload as { from?: unknown }).from === 'string')).toBe(true)
    expect(
      (await eventsOf(subs.filtered)).every((e) =>
        [(e.payload as { from: string }).from, (e.payload as { to: string }).to].map((a) => a.toLowerCase()).includes(OUTSIDER.toLowerCase()),
      ),
    ).toBe(true)
    expect((await eventsOf(subs.fromOutsider)).map((e) => String(e.payload).toLowerCase())).toEqual([sent.toLowerCase()])

    // Mined: only transactions to the token, each really in its block.
    const mined = await eventsOf(subs.mined)
    expect(mined.length).toBeGreaterThan(3)
    for (const e of mined.slice(0, 5)) {
      const tx = (e.payload as { removed: boolean; transaction: { hash: Hex; to: string; blockHash: Hex } }).transaction
      expect(tx.to.toLowerCase()).toBe(demo.tokenAddress.toLowerCase())
      const receipt = await client().getTransactionReceipt({ hash: tx.hash })
      expect(receipt.blockHash).toBe(tx.blockHash)
    }

    // Syncing: anvil is never syncing; the polled status arrives once (only changes are events).
    expect((await eventsOf(subs.syncing)).map((e) => e.payload)).toEqual([false])

    // Pause: eth_unsubscribe upstream, nothing more captured; resume picks up again.
    const beforePause = engine.connections.list()[0]!.status.upstreamSubscriptions
    await engine.subscriptions.setPaused(subs.pending.id, true)
    expect(engine.connections.list()[0]!.status.upstreamSubscriptions).toBeLessThan(beforePause)
    const countPaused = (await eventsOf(subs.pending)).length
    await waitFor('two more heads', async () => (await eventsOf(subs.heads)).length >= heads.length + 3, 10_000)
    expect((await eventsOf(subs.pending)).length).toBe(countPaused)
    await engine.subscriptions.setPaused(subs.pending.id, false)
    await waitFor('pending again', async () => (await eventsOf(subs.pending)).length > countPaused, 10_000)
    expect(await engine.subscriptions.remove(subs.pending.id)).toBe(true)
    expect(engine.subscriptions.list(connectionId).some((s) => s.id === subs.pending.id)).toBe(false)
  })
})

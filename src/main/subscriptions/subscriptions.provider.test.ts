/**
 * The engine against a scripted Alchemy-like provider: native alchemy_* and syncing
 * (no emulation), payloads captured as sent, and every subscription delivering again
 * after the provider drops the connection.
 */
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startFakeProvider, type FakeProvider } from '../../../test/helpers/fake-provider'
import { waitFor } from '../../../test/helpers/scripted-server'
import { subscriptionSpecSchema, SUBSCRIPTION_TYPES } from '../../shared/subscription-params'
import { Engine } from '../engine/engine'
import { createKeyFileSecretBox } from '../store/secret-box'

const ADDRESS = '0x6b3595068778dd592e39a122f4f5a5cf09c90fe2'
const TX = {
  blockHash: null,
  blockNumber: null,
  from: '0xa36452fc31f6f482ad823cd1cf5515177d57667f',
  gas: '0x1adb0',
  hash: '0x50bff0736c713458c92dd1848d12f3354149be1363123dae35e94e0f2a9d56bf',
  input: '0x',
  nonce: '0x0',
  to: ADDRESS,
  value: '0x0',
}
const LOG = {
  address: '0x8320fe7702b96808f7bbc0d4a888ed1468216cfd',
  blockHash: '0x61cdb2a09ab99abf791d474f20c2ea89bf8de2923a2d42bb49944c8c993cbf04',
  blockNumber: '0x29e87',
  data: '0x01',
  logIndex: '0x0',
  topics: ['0xd78a0cb8bb633d06981248b816e7bd33c2a35a6089241d099fa519e361cab902'],
  transactionHash: '0xe044554a0a55067caafd07f8020ab9f2af60bdfe337e395ecd84b4877a3d1ab4',
  transactionIndex: '0x0',
}
// The seed's syncing payload shape.
const SYNCING = { syncing: true, status: { startingBlock: 674427, currentBlock: 67400, highestBlock: 674432, pulledStates: 0, knownStates: 0 } }

let provider: FakeProvider
let engine: Engine
let dataDir: string

beforeEach(async () => {
  provider = await startFakeProvider()
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-provider-'))
  engine = new Engine({ dataDir, secrets: createKeyFileSecretBox(dataDir), backoff: { initialMs: 20, maxMs: 50 } })
})
afterEach(async () => {
  await engine.close()
  await provider.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

const specs = {
  newHeads: {},
  logs: { address: LOG.address, topics: [LOG.topics[0]] },
  newPendingTransactions: {},
  alchemy_newFullPendingTransactions: {},
  alchemy_filteredNewFullPendingTransactions: { address: ADDRESS },
  alchemy_pendingTransactions: { toAddress: [ADDRESS] },
  alchemy_minedTransactions: { addresses: [{ to: ADDRESS }] },
  syncing: {},
} as const

describe('engine on an Alchemy-like provider', () => {
  it('uses native subscriptions for every type and keeps them across a dropped connection', async () => {
    const { id: connectionId } = engine.connections.add({ url: provider.url })
    const subscriptions = SUBSCRIPTION_TYPES.map((type) =>
      engine.subscriptions.create({ connectionId, spec: subscriptionSpecSchema.parse({ type, params: specs[type] }) }),
    )
    await waitFor('all active', () => engine.subscriptions.list().every((s) => s.state === 'active'))
    expect(engine.subscriptions.list().every((s) => !s.emulated)).toBe(true)
    // logs and newHeads are watches over the chain tracker, fed by the one upstream newHeads;
    // the six others each hold their own upstream subscription.
    expect([...provider.subscriptions.values()].map((s) => s.params[0]).sort()).toEqual(SUBSCRIPTION_TYPES.filter((t) => t !== 'logs').sort())
    expect(
      subscriptions
        .filter((s) => s.watch !== null)
        .map((s) => s.type)
        .sort(),
    ).toEqual(['logs', 'newHeads'])

    const sendAll = () => {
      provider.mine([
        { address: LOG.address, topics: LOG.topics, data: LOG.data },
        { address: ADDRESS, topics: LOG.topics, data: '0x' },
      ])
      provider.emit('newPendingTransactions', TX.hash)
      provider.emit('alchemy_newFullPendingTransactions', TX)
      provider.emit('alchemy_filteredNewFullPendingTransactions', TX)
      provider.emit('alchemy_pendingTransactions', TX)
      provider.emit('alchemy_minedTransactions', { removed: false, transaction: { ...TX, blockHash: LOG.blockHash, blockNumber: '0x29e87' } })
      provider.emit('syncing', SYNCING)
    }
    sendAll()
    const counts = () => Promise.all(engine.subscriptions.list().map(async (s) => (await engine.events.list({ subscriptionId: s.id, limit: 10 })).length))
    await waitFor('one event each', async () => (await counts()).every((n) => n === 1))

    provider.closeAll(4000, 'connection age limit reached')
    await waitFor(
      'reconnected',
      () => engine.connections.list()[0]!.status.reconnectCount === 1 && provider.subscriptions.size === SUBSCRIPTION_TYPES.length - 1,
    )
    sendAll()
    await waitFor('two events each', async () => (await counts()).every((n) => n === 2))

    const syncing = await engine.events.list({ kind: 'syncing', limit: 10 })
    expect(syncing[0]!.payload).toEqual(SYNCING)
    const logs = await engine.events.list({ kind: 'log', limit: 10 })
    expect(logs.map((l) => l.blockNumber)).toEqual([2, 1])
    expect(logs[0]).toMatchObject({ address: LOG.address, logIndex: 0, removed: false, topics: LOG.topics, blockHash: provider.chain[2]!.block.hash })
    expect(logs[0]!.payload).toMatchObject({ address: LOG.address, data: LOG.data, blockNumber: '0x2', logIndex: '0x0', removed: false })
    const mined = (await engine.events.list({ kind: 'mined_transaction', limit: 10 }))[0]!
    expect(mined).toMatchObject({ transactionHash: TX.hash, blockNumber: 0x29e87, removed: false })
  })

  it('falls back to polling eth_syncing when the provider does not offer the syncing subscription', async () => {
    await provider.close()
    provider = await startFakeProvider({ unsupported: ['syncing'] })
    const { id: connectionId } = engine.connections.add({ url: provider.url })
    const sub = engine.subscriptions.create({ connectionId, spec: subscriptionSpecSchema.parse({ type: 'syncing' }) })
    await waitFor('emulated', () => engine.subscriptions.list()[0]!.emulated)
    expect(engine.subscriptions.list()[0]!.emulation).toMatch(/polling eth_syncing/)
    await waitFor('status captured', async () => (await engine.events.list({ subscriptionId: sub.id, limit: 10 })).length === 1)
    expect(provider.methods).toContain('eth_syncing')
  })

  it('says so when a type cannot be served at all', async () => {
    await provider.close()
    provider = await startFakeProvider({ unsupported: ['newPendingTransactions'] })
    const { id: connectionId } = engine.connections.add({ url: provider.url })
    engine.subscriptions.create({ connectionId, spec: subscriptionSpecSchema.parse({ type: 'newPendingTransactions' }) })
    await waitFor('error', () => engine.subscriptions.list()[0]!.state === 'error')
    expect(engine.subscriptions.list()[0]!.lastError).toMatch(/does not offer newPendingTransactions/)
  })

  it("builds filtered pending transactions from hashes with lookups over the connection's HTTP URL", async () => {
    await provider.close()
    provider = await startFakeProvider({ unsupported: ['alchemy_pendingTransactions'], hashesOnlyPending: true })
    const lookups: string[] = []
    const other = { ...TX, hash: `0x${'1'.repeat(64)}`, to: '0x000000000000000000000000000000000000dead' }
    const rpc = http.createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        const request = JSON.parse(body) as { id: number; method: string; params: string[] }
        lookups.push(request.method)
        const result = request.method === 'eth_getTransactionByHash' ? ([TX, other].find((t) => t.hash === request.params[0]) ?? null) : null
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ jsonrpc: '2.0', id: request.id, result }))
      })
    })
    await new Promise<void>((resolve) => rpc.listen(0, '127.0.0.1', () => resolve()))
    const httpUrl = `http://127.0.0.1:${(rpc.address() as AddressInfo).port}`
    const connection = engine.connections.add({ url: provider.url, httpUrl })
    expect(connection.displayHttpUrl).toBe(`${httpUrl}/`)
    const sub = engine.subscriptions.create({
      connectionId: connection.id,
      spec: subscriptionSpecSchema.parse({ type: 'alchemy_pendingTransactions', params: { toAddress: ADDRESS } }),
    })
    await waitFor('emulated', () => engine.subscriptions.list()[0]!.emulated)
    expect(engine.subscriptions.list()[0]!.emulation).toMatch(/hashes and eth_getTransactionByHash lookups/)
    provider.emit('newPendingTransactions', other.hash)
    provider.emit('newPendingTransactions', TX.hash)
    await waitFor('matching one captured', async () => (await engine.events.list({ subscriptionId: sub.id, limit: 10 })).length === 1)
    expect((await engine.events.list({ subscriptionId: sub.id, limit: 10 }))[0]!.payload).toEqual(TX)
    expect(lookups.filter((m) => m === 'eth_getTransactionByHash')).toHaveLength(2)
    expect(provider.methods).not.toContain('eth_getTransactionByHash')
    rpc.closeAllConnections()
    await new Promise<void>((resolve) => rpc.close(() => resolve()))
  })
})

/**
 * `/v1/rpc` through the real HTTP server and a real ConnectionPool, against a scripted
 * upstream: JSON-RPC 2.0 framing and error codes as PROTOCOL.md section 2 and the seed
 * have them, one upstream subscription shared by identical local ones, forwarded answers
 * unchanged, and results never ahead of the subscription id.
 */
import fs from 'node:fs'
import type { Socket } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { RpcTestClient, type RpcFrame } from '../../../test/helpers/rpc-client'
import { notify, reply, startScriptedServer, waitFor, type RpcRequest, type ScriptedServer } from '../../../test/helpers/scripted-server'
import { RPC_PATH } from '../../shared/rpc-protocol'
import { startHttpServer, type RunningHttpServer } from '../server/http-server'
import { ConnectionPool } from '../upstream/connection-pool'
import { rpcRoute, type RpcRouteOptions } from './rpc-endpoint'
import type { WatchProvider } from '../chain/watch-types'
import { refusedUpgradeStatus } from '../../../test/helpers/upgrade-status'

const TOKEN = 'rpc-test-token-0123456789abcdef0123456789abcd'
const ADDRESS = '0x8320fe7702b96808f7bbc0d4a888ed1468216cfd'
const ADDRESS_CHECKSUMMED = '0x8320fE7702b96808f7bBC0d4A888ed1468216cfD'
const TOPIC = '0xd78a0cb8bb633d06981248b816e7bd33c2a35a6089241d099fa519e361cab902'
const MINED = {
  removed: false,
  transaction: {
    blockHash: `0x${'ab'.repeat(32)}`,
    blockNumber: '0x65',
    from: '0xa36452fc31f6f482ad823cd1cf5515177d57667f',
    gas: '0x1adb0',
    gasPrice: '0x7735c4d40',
    hash: '0x50bff0736c713458c92dd1848d12f3354149be1363123dae35e94e0f2a9d56bf',
    input: '0x',
    nonce: '0x0',
    to: '0x6b3595068778dd592e39a122f4f5a5cf09c90fe2',
    transactionIndex: '0x0',
    value: '0x0',
  },
}
const REVERT = { code: 3, message: 'execution reverted: not allowed', data: '0x08c379a0000000000000000000000000000000000000000000000000000000000000002' }
const SUBSCRIPTION_ID = /^0x[0-9a-f]{32}$/
const TX_HASH = MINED.transaction.hash
const PENDING = { ...MINED.transaction, blockHash: null, blockNumber: null, transactionIndex: null }
// logs and newHeads are served from the chain tracker (rpc-endpoint.chain.test.ts); here the
// subscription mechanics are tested with the types that are relayed from the upstream.
const NO_TRACKER: WatchProvider = {
  latestBlock: () => Promise.reject(new Error('no chain tracker in this test')),
  chainId: () => Promise.reject(new Error('no chain tracker in this test')),
  open: () => {
    throw new Error('no chain tracker in this test')
  },
}

interface UpstreamSubscription {
  id: string
  params: unknown[]
  socket: WebSocket
}

let upstream: ScriptedServer
let pool: ConnectionPool | null
let server: RunningHttpServer | null = null
let rendererRoot: string
const clients: RpcTestClient[] = []
const logs: string[] = []
let live: Map<string, UpstreamSubscription>
/** eth_subscribe answers per type, in place of an id; by default every type is accepted. */
let refusals: Record<string, { code: number; message: string; data?: unknown }>
/** eth_subscribe of these types is not answered (like a provider that stalls) but kept here. */
let unanswered: Set<string>
let stalled: { request: RpcRequest; socket: WebSocket }[]
/** Runs right after an eth_subscribe answer, in the same tick (a provider's first notification often rides the same read). */
let afterSubscribe: ((subscription: UpstreamSubscription) => void) | null

function respond(request: RpcRequest, socket: WebSocket): void {
  const error = (body: { code: number; message: string; data?: unknown }) => socket.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, error: body }))
  switch (request.method) {
    case 'eth_subscribe': {
      const refusal = refusals[String(request.params[0])]
      if (refusal) return error(refusal)
      if (unanswered.has(String(request.params[0]))) return void stalled.push({ request, socket })
      const subscription = { id: `0x${(live.size + 1).toString(16).padStart(32, 'c')}`, params: request.params, socket }
      live.set(subscription.id, subscription)
      reply(socket, request.id, subscription.id)
      afterSubscribe?.(subscription)
      return
    }
    case 'eth_unsubscribe':
      return reply(socket, request.id, live.delete(String(request.params[0])))
    case 'eth_chainId':
      return reply(socket, request.id, '0x1')
    case 'eth_getBalance':
      return reply(socket, request.id, { echoed: request.params })
    case 'eth_call':
      return error(REVERT)
    case 'eth_stall':
      return
    case 'eth_syncing':
      return reply(socket, request.id, { startingBlock: '0x0', currentBlock: '0x10', highestBlock: '0x20' })
    default:
      return error({ code: -32601, message: `the method ${request.method} does not exist/is not available` })
  }
}

const upstreamSubscribes = () => upstream.requests.filter((r) => r.method === 'eth_subscribe')
const upstreamUnsubscribes = () => upstream.requests.filter((r) => r.method === 'eth_unsubscribe')
const liveOf = (type: string) => [...live.values()].filter((s) => s.params[0] === type)

async function serve(options: Partial<RpcRouteOptions> = {}): Promise<string> {
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    rendererRoot,
    routes: [rpcRoute({ pool: () => pool, watches: NO_TRACKER, log: (m) => logs.push(m), ...options })],
  })
  return `ws://127.0.0.1:${server.port}${RPC_PATH}`
}

async function connect(url: string): Promise<RpcTestClient> {
  const client = await RpcTestClient.connect(`${url}?token=${TOKEN}`)
  clients.push(client)
  return client
}

beforeEach(async () => {
  rendererRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-rpc-'))
  live = new Map()
  refusals = {}
  unanswered = new Set()
  stalled = []
  afterSubscribe = null
  logs.length = 0
  upstream = await startScriptedServer(respond)
  pool = new ConnectionPool({ url: upstream.url, backoff: { initialMs: 20, maxMs: 50 } })
  pool.start()
})

afterEach(async () => {
  for (const client of clients.splice(0)) client.close()
  await server?.close()
  server = null
  await pool?.stop()
  await upstream.close()
  fs.rmSync(rendererRoot, { recursive: true, force: true })
})

describe('/v1/rpc subscriptions', () => {
  it('refuses an upgrade without the token with 401', async () => {
    const url = await serve()
    const status = await refusedUpgradeStatus(url)
    expect(status).toBe(401)
  })

  it('shares one upstream subscription between two clients, checksummed or not, and delivers each result unchanged to both', async () => {
    const url = await serve()
    const [a, b] = [await connect(url), await connect(url)]
    const idA = await a.subscribe('alchemy_filteredNewFullPendingTransactions', { address: ADDRESS_CHECKSUMMED })
    const idB = await b.subscribe('alchemy_filteredNewFullPendingTransactions', { address: ADDRESS })
    expect(idA).toMatch(SUBSCRIPTION_ID)
    expect(idB).toMatch(SUBSCRIPTION_ID)
    expect(idA).not.toBe(idB)
    expect(upstreamSubscribes()).toHaveLength(1)
    expect(upstreamSubscribes()[0]!.params).toEqual(['alchemy_filteredNewFullPendingTransactions', { address: ADDRESS }])

    const [subscription] = liveOf('alchemy_filteredNewFullPendingTransactions')
    const second = { ...PENDING, nonce: '0x1', unknownField: 'kept' }
    notify(subscription!.socket, subscription!.id, PENDING)
    notify(subscription!.socket, subscription!.id, second)
    expect(await a.untilResults(idA, 2)).toEqual([PENDING, second])
    expect(await b.untilResults(idB, 2)).toEqual([PENDING, second])
    // The frame is exactly the seed's notification shape.
    expect(a.singles().find((f) => f.method === 'eth_subscription')).toEqual({
      jsonrpc: '2.0',
      method: 'eth_subscription',
      params: { subscription: idA, result: PENDING },
    })
  })

  it('answers eth_unsubscribe true once, false for unknown ids and other sockets, and unsubscribes upstream only when the last one leaves', async () => {
    const url = await serve()
    const [a, b] = [await connect(url), await connect(url)]
    const idA = await a.subscribe('newPendingTransactions')
    const idB = await b.subscribe('newPendingTransactions')
    expect(upstreamSubscribes()).toHaveLength(1)

    expect((await b.call('eth_unsubscribe', [idA])).result).toBe(false)
    expect((await a.call('eth_unsubscribe', [`0x${'0'.repeat(32)}`])).result).toBe(false)
    expect(await a.call('eth_unsubscribe', [idA])).toEqual({ jsonrpc: '2.0', id: expect.any(Number), result: true })
    expect((await a.call('eth_unsubscribe', [idA])).result).toBe(false)

    // B still receives; A, unsubscribed, does not.
    const [subscription] = liveOf('newPendingTransactions')
    notify(subscription!.socket, subscription!.id, TX_HASH)
    await b.untilResults(idB, 1)
    expect(upstreamUnsubscribes()).toHaveLength(0)
    expect(a.results(idA)).toEqual([])

    expect((await b.call('eth_unsubscribe', [idB])).result).toBe(true)
    await waitFor('upstream eth_unsubscribe', () => upstreamUnsubscribes().length === 1)
    expect(upstreamUnsubscribes()[0]!.params).toEqual([subscription!.id])
  })

  it('releases every subscription of a socket when it closes', async () => {
    const url = await serve()
    const client = await connect(url)
    await client.subscribe('newPendingTransactions')
    await client.subscribe('alchemy_filteredNewFullPendingTransactions', { address: ADDRESS })
    expect(live.size).toBe(2)
    client.close()
    await waitFor('both unsubscribed upstream', () => upstreamUnsubscribes().length === 2 && live.size === 0)
  })

  it('sends the subscription id before any result, even when the upstream notifies right behind its answer', async () => {
    afterSubscribe = (subscription) => notify(subscription.socket, subscription.id, TX_HASH)
    const client = await connect(await serve())
    const id = await client.subscribe('newPendingTransactions')
    expect(await client.untilResults(id, 1)).toEqual([TX_HASH])
    const answerAt = client.singles().findIndex((f) => f.result === id)
    const resultAt = client.singles().findIndex((f) => f.method === 'eth_subscription')
    expect(answerAt).toBeLessThan(resultAt)
  })

  it('forwards native alchemy_minedTransactions results unchanged', async () => {
    const client = await connect(await serve())
    const params = { addresses: [{ to: MINED.transaction.to }], includeRemoved: true }
    const id = await client.subscribe('alchemy_minedTransactions', params)
    const [subscription] = liveOf('alchemy_minedTransactions')
    expect(subscription!.params).toEqual(['alchemy_minedTransactions', params])
    notify(subscription!.socket, subscription!.id, MINED)
    expect(await client.untilResults(id, 1)).toEqual([MINED])
  })

  it('emulates syncing where the upstream lacks it and sends the seed shape: { syncing: true, status } with numbers', async () => {
    refusals = { syncing: { code: -32603, message: 'Not implemented' } }
    const url = await serve({ syncingPollMs: 60_000 })
    const client = await connect(url)
    const id = await client.subscribe('syncing')
    expect(await client.untilResults(id, 1)).toEqual([{ syncing: true, status: { startingBlock: 0, currentBlock: 16, highestBlock: 32 } }])
    expect(upstream.requests.some((r) => r.method === 'eth_syncing')).toBe(true)
    // A later subscriber shares the poll and gets the current status too.
    const other = await connect(url)
    const otherId = await other.subscribe('syncing')
    expect(await other.untilResults(otherId, 1)).toEqual([{ syncing: true, status: { startingBlock: 0, currentBlock: 16, highestBlock: 32 } }])
    expect(upstream.requests.filter((r) => r.method === 'eth_syncing')).toHaveLength(1)
  })

  it("answers an eth_subscribe the upstream refuses with the upstream's error, unchanged", async () => {
    refusals = { newPendingTransactions: { code: -32000, message: 'subscription limit reached for this key', data: { limit: 1 } } }
    const client = await connect(await serve())
    const answer = await client.call('eth_subscribe', ['newPendingTransactions'])
    expect(answer.error).toEqual({ code: -32000, message: 'subscription limit reached for this key', data: { limit: 1 } })
    // Nothing is left running: the next attempt asks the upstream again.
    refusals = {}
    expect(await client.subscribe('newPendingTransactions')).toMatch(SUBSCRIPTION_ID)
    expect(upstreamSubscribes()).toHaveLength(2)
  })

  it('answers with a server error when the upstream does not start the subscription in time, and keeps nothing running', async () => {
    unanswered = new Set(['newPendingTransactions'])
    const client = await connect(await serve({ startTimeoutMs: 300 }))
    const answer = await client.call('eth_subscribe', ['newPendingTransactions'])
    expect(answer.error).toMatchObject({ code: -32002, message: expect.stringMatching(/did not start the newPendingTransactions subscription within 300 ms/) })
    // The upstream answers late: the abandoned subscription is unsubscribed at once, nothing reaches the client.
    const [late] = stalled
    reply(late!.socket, late!.request.id, '0xlate')
    notify(late!.socket, '0xlate', TX_HASH)
    await waitFor('late subscription released', () => upstreamUnsubscribes().some((r) => r.params[0] === '0xlate'))
    expect(client.frames.filter((f) => !Array.isArray(f) && f.method === 'eth_subscription')).toEqual([])
  })

  it('refuses subscriptions past the per-connection limit with -32005 and frees a place on unsubscribe', async () => {
    const client = await connect(await serve({ maxSubscriptions: 2 }))
    const first = await client.subscribe('newPendingTransactions')
    await client.subscribe('alchemy_filteredNewFullPendingTransactions', { address: ADDRESS })
    expect((await client.call('eth_subscribe', ['syncing'])).error).toMatchObject({ code: -32005, data: { limit: 2 } })
    expect((await client.call('eth_unsubscribe', [first])).result).toBe(true)
    expect(await client.subscribe('syncing')).toMatch(SUBSCRIPTION_ID)
  })

  it('answers with a server error naming the cause while no upstream connection runs', async () => {
    const client = await connect(await serve())
    const held = pool
    pool = null
    const subscribe = await client.call('eth_subscribe', ['newHeads'])
    const relayed = await client.call('eth_subscribe', ['newPendingTransactions'])
    const forward = await client.call('eth_chainId')
    pool = held
    for (const answer of [subscribe, relayed, forward]) {
      expect(answer.error!.code).toBe(-32002)
      expect(answer.error!.message).toMatch(/No upstream connection is running/)
    }
  })
})

describe('/v1/rpc forwarded methods', () => {
  it('returns the upstream result and the upstream error (code, message, data) unchanged', async () => {
    const client = await connect(await serve())
    expect(await client.call('eth_chainId')).toEqual({ jsonrpc: '2.0', id: 1, result: '0x1' })
    expect((await client.call('eth_getBalance', [ADDRESS, 'latest'])).result).toEqual({ echoed: [ADDRESS, 'latest'] })
    expect(await client.call('eth_call', [{ to: ADDRESS, data: '0x' }, 'latest'])).toEqual({ jsonrpc: '2.0', id: 3, error: REVERT })
    expect((await client.call('debug_nope')).error).toEqual({ code: -32601, message: 'the method debug_nope does not exist/is not available' })
    // A request without params is sent upstream with an empty array.
    expect(upstream.requests.find((r) => r.method === 'eth_chainId' && r.id !== null)?.params).toEqual([])
  })

  it('answers -32002 naming the method when the upstream does not answer in time', async () => {
    const client = await connect(await serve({ requestTimeoutMs: 200 }))
    expect((await client.call('eth_stall')).error).toEqual({
      code: -32002,
      message: 'The upstream did not answer eth_stall: eth_stall got no answer within 200 ms',
    })
  })

  it('echoes string and null ids', async () => {
    const client = await connect(await serve())
    client.send({ jsonrpc: '2.0', id: 'abc', method: 'eth_chainId' })
    expect(await client.answer('abc')).toEqual({ jsonrpc: '2.0', id: 'abc', result: '0x1' })
    client.send({ jsonrpc: '2.0', id: null, method: 'eth_chainId' })
    expect(await client.answer(null)).toEqual({ jsonrpc: '2.0', id: null, result: '0x1' })
  })
})

describe('/v1/rpc errors and batches', () => {
  it('answers a frame that is not JSON with -32700 and id null, and stays usable', async () => {
    const client = await connect(await serve())
    client.send('{"jsonrpc": "2.0", "method": "eth_chainId", "id": 1')
    const error = await client.answer(null)
    expect(error).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } })
    expect(typeof error.error!.message).toBe('string')
    expect((await client.call('eth_chainId')).result).toBe('0x1')
  })

  it('answers requests that are not JSON-RPC request objects with -32600, echoing a valid id', async () => {
    const client = await connect(await serve())
    const cases: [unknown, string | number | null][] = [
      [{ jsonrpc: '2.0', id: 7 }, 7],
      [{ jsonrpc: '1.0', id: 'old', method: 'eth_chainId' }, 'old'],
      [{ id: 8, method: 'eth_chainId' }, 8],
      [{ jsonrpc: '2.0', id: 9, method: 42 }, 9],
      [{ jsonrpc: '2.0', id: 10, method: 'eth_chainId', params: 'x' }, 10],
      [{ jsonrpc: '2.0', id: { nested: true }, method: 'eth_chainId' }, null],
    ]
    for (const [request, id] of cases) {
      const before = client.frames.length
      client.send(request)
      await waitFor('an answer', () => client.frames.length > before)
      expect(client.frames[before], JSON.stringify(request)).toMatchObject({ jsonrpc: '2.0', id, error: { code: -32600 } })
    }
    for (const frame of ['1', '"eth_chainId"', 'null', 'true', '[]']) {
      const before = client.frames.length
      client.send(frame)
      await waitFor('an answer', () => client.frames.length > before)
      expect(client.frames[before], frame).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600 } })
    }
  })

  it('answers unknown subscription types and bad params with -32602 naming the field', async () => {
    const client = await connect(await serve())
    const cases: [unknown, string][] = [
      [['newBlocks'], 'params[0]'],
      [[], 'params[0]'],
      [[42], 'params[0]'],
      [{ type: 'newHeads' }, 'params'],
      [['newHeads', {}, {}], 'params'],
      [['logs', { address: '0x1234' }], 'params[1].address'],
      [['logs', { address: [ADDRESS, 'nope'] }], 'params[1].address[1]'],
      [['logs', { topics: [TOPIC, null, [TOPIC, '0xbad']] }], 'params[1].topics[2][1]'],
      [['logs', { fromBlock: '0x1' }], 'params[1].fromBlock'],
      [['logs', 'not-an-object'], 'params[1]'],
      [['alchemy_filteredNewFullPendingTransactions', {}], 'params[1].address'],
      [['alchemy_pendingTransactions', { hashesOnly: 'yes' }], 'params[1].hashesOnly'],
      [['alchemy_minedTransactions', { addresses: [{ to: 'x' }] }], 'params[1].addresses[0].to'],
      [['newPendingTransactions', { full: true }], 'params[1].full'],
      [['alchemy_filteredNewFullPendingTransactions'], 'params[1]'],
    ]
    for (const [params, field] of cases) {
      const answer = await client.call('eth_subscribe', params)
      expect(answer.error, JSON.stringify(params)).toMatchObject({ code: -32602, data: { field } })
      expect(answer.error!.message, JSON.stringify(params)).toContain(field)
    }
    expect((await client.call('eth_subscribe', ['newBlocks'])).error!.message).toMatch(/unknown subscription type "newBlocks"; expected one of newHeads, logs/)
    expect((await client.call('eth_subscribe', ['alchemy_filteredNewFullPendingTransactions', {}])).error!.message).toBe(
      'Invalid params: params[1].address: required',
    )
    expect((await client.call('eth_subscribe', ['logs', { fromBlock: '0x1' }])).error!.message).toBe(
      'Invalid params: params[1].fromBlock: unknown field; logs takes address, topics',
    )
    expect((await client.call('eth_unsubscribe', [])).error).toMatchObject({ code: -32602, data: { field: 'params' } })
    expect((await client.call('eth_unsubscribe', [5])).error).toMatchObject({ code: -32602, data: { field: 'params[0]' } })
    expect((await client.call('eth_chainId', { by: 'name' })).error).toMatchObject({ code: -32602, data: { field: 'params' } })
    expect(upstreamSubscribes()).toHaveLength(0)
  })

  it('answers a batch with one array in request order, skipping notifications', async () => {
    const client = await connect(await serve())
    client.send([
      { jsonrpc: '2.0', id: 1, method: 'eth_chainId' },
      { jsonrpc: '2.0', method: 'eth_chainId' },
      42,
      { jsonrpc: '2.0', id: 2, method: 'eth_subscribe', params: ['newPendingTransactions'] },
      { jsonrpc: '2.0', id: 3, method: 'eth_subscribe', params: ['nope'] },
      { jsonrpc: '2.0', id: 4, method: 'eth_call', params: [{ to: ADDRESS }, 'latest'] },
      { jsonrpc: '2.0', id: 5 },
    ])
    const batch = await waitFor('the batch answer', () => client.frames.find((f): f is RpcFrame[] => Array.isArray(f)))
    expect(batch).toHaveLength(6)
    expect(batch[0]).toEqual({ jsonrpc: '2.0', id: 1, result: '0x1' })
    expect(batch[1]).toMatchObject({ id: null, error: { code: -32600 } })
    expect(batch[2]).toMatchObject({ id: 2, result: expect.stringMatching(SUBSCRIPTION_ID) })
    expect(batch[3]).toMatchObject({ id: 3, error: { code: -32602 } })
    expect(batch[4]).toEqual({ jsonrpc: '2.0', id: 4, error: REVERT })
    expect(batch[5]).toMatchObject({ id: 5, error: { code: -32600 } })
    // The notification was carried out, only not answered.
    expect(upstream.requests.filter((r) => r.method === 'eth_chainId').length).toBeGreaterThanOrEqual(2)

    // The subscription made in the batch delivers once the batch answer is out.
    const [subscription] = liveOf('newPendingTransactions')
    notify(subscription!.socket, subscription!.id, TX_HASH)
    expect(await client.untilResults(String(batch[2]!.result), 1)).toEqual([TX_HASH])
  })

  it('answers nothing to a notification or a batch of notifications', async () => {
    const client = await connect(await serve())
    client.send({ jsonrpc: '2.0', method: 'eth_chainId' })
    client.send([
      { jsonrpc: '2.0', method: 'eth_chainId' },
      { jsonrpc: '2.0', method: 'eth_call', params: [] },
    ])
    await waitFor('forwarded', () => upstream.requests.filter((r) => r.method === 'eth_chainId' || r.method === 'eth_call').length >= 3)
    expect((await client.call('eth_chainId')).result).toBe('0x1')
    expect(client.frames).toHaveLength(1)
  })

  it('survives odd frames: nested arrays, huge ids, deep nesting, binary frames', async () => {
    const client = await connect(await serve())
    client.send('[[], [1, [2]], {"jsonrpc": "2.0"}]')
    const batch = await waitFor('the batch answer', () => client.frames.find((f): f is RpcFrame[] => Array.isArray(f)))
    expect(batch.map((f) => f.error?.code)).toEqual([-32600, -32600, -32600])

    client.send('{"jsonrpc": "2.0", "id": 1e400, "method": "eth_chainId"}')
    expect(await client.answer(null)).toMatchObject({ error: { code: -32600 } })
    const longId = 'x'.repeat(100_000)
    client.send({ jsonrpc: '2.0', id: longId, method: 'eth_chainId' })
    expect((await client.answer(longId)).result).toBe('0x1')
    client.send(`{"jsonrpc": "2.0", "id": "deep", "method": "eth_getBalance", "params": ${'['.repeat(5000)}${']'.repeat(5000)}}`)
    expect(await client.answer('deep')).toBeDefined()
    client.socket.send(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 'bin', method: 'eth_chainId' })), { binary: true })
    expect((await client.answer('bin')).result).toBe('0x1')
  })

  it('disconnects a client that stops reading instead of buffering without bound', async () => {
    const client = await connect(await serve({ maxBufferedBytes: 64 * 1024 }))
    const id = await client.subscribe('alchemy_newFullPendingTransactions')
    // Stop reading at the TCP level: the server's socket backs up.
    ;(client.socket as unknown as { _socket: Socket })._socket.pause()
    const [subscription] = liveOf('alchemy_newFullPendingTransactions')
    const big = { ...PENDING, input: `0x${'ab'.repeat(256 * 1024)}` }
    for (let i = 0; i < 200 && !logs.some((m) => /read too slowly/.test(m)); i++) {
      notify(subscription!.socket, subscription!.id, big)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await waitFor('disconnected', () => logs.some((m) => /rpc client read too slowly/.test(m)))
    // Its subscription went with it.
    await waitFor('released upstream', () => upstreamUnsubscribes().length === 1)
    expect(id).toMatch(SUBSCRIPTION_ID)
  })
})

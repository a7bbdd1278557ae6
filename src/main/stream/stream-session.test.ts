/**
 * `/v1/stream` through the real HTTP server with a `ws` client: validation and error codes
 * exactly as PROTOCOL.md names them, req_id bookkeeping, start_block resolution into the
 * WatchRequest (against a scripted WatchProvider), and the pending, mined and syncing types
 * on a ConnectionPool to a scripted Alchemy-like provider.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startFakeProvider, type FakeProvider } from '../../../test/helpers/fake-provider'
import { reply, startScriptedServer, waitFor, type ScriptedServer } from '../../../test/helpers/scripted-server'
import { STREAM_ERROR_CODES, STREAM_MESSAGE_TYPES } from '../../shared/stream-protocol'
import { startHttpServer, type RunningHttpServer } from '../server/http-server'
import { ConnectionPool } from '../upstream/connection-pool'
import { streamRoute } from './stream-endpoint'
import type { StreamDeps } from './stream-session'
import type { WatchMessage, WatchProvider, WatchRequest } from '../chain/watch-types'
import type { ChainLog } from '../store/chain-store'
import { refusedUpgradeStatus } from '../../../test/helpers/upgrade-status'
import { getAddress } from 'viem'
import { EventDecoder } from '../decode/event-decoder'
import { JsonRpcError, RequestTimeoutError } from '../rpc/json-rpc-client'
import { encodeCursor } from '../chain/stream-cursor'

const TOKEN = 'stream-test-token-0123456789abcdef0123456789'
const HEAD = 100
const ADDRESS = '0x6b3595068778dd592e39a122f4f5a5cf09c90fe2'
const ADDRESS_MIXED = '0x6B3595068778DD592e39A122f4f5a5cF09C90fE2'
const TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
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
const MINED_TX = { ...TX, blockHash: `0x${'ab'.repeat(32)}`, blockNumber: '0x65', transactionIndex: '0x0' }
// The seed's syncing payload shape.
const SYNCING = { syncing: true, status: { startingBlock: 674427, currentBlock: 67400, highestBlock: 674432, pulledStates: 0, knownStates: 0 } }

interface Message {
  type: string
  req_id: string | null
  data: Record<string, unknown> & { code?: string; details?: Record<string, unknown> }
}

interface OpenedWatch {
  request: WatchRequest
  send: (message: WatchMessage) => void
  stopped: boolean
}

/** A chain tracker stand-in: records each WatchRequest; by default says `listening` (or `complete`) at once. */
class ScriptedWatches implements WatchProvider {
  head = HEAD
  headError: Error | null = null
  readonly opened: OpenedWatch[] = []
  script = (request: WatchRequest, send: (message: WatchMessage) => void): void => {
    send(request.listen ? { type: 'listening', data: { next_block: request.startBlock } } : { type: 'complete', data: {} })
  }

  async latestBlock(): Promise<number> {
    if (this.headError) throw this.headError
    return this.head
  }

  async chainId(): Promise<number> {
    return 1
  }

  open(request: WatchRequest, send: (message: WatchMessage) => void) {
    const watch: OpenedWatch = { request, send, stopped: false }
    this.opened.push(watch)
    this.script(request, send)
    return {
      stop: () => {
        watch.stopped = true
      },
    }
  }
}

interface Client {
  socket: WebSocket
  messages: Message[]
  send(request: unknown): void
  /** The first message so far or later that matches. */
  find(label: string, match: (m: Message) => boolean): Promise<Message>
  /** A request's answer: the first message with this req_id (and type, when given). */
  answer(reqId: string, type?: string): Promise<Message>
  ping(): Promise<void>
}

let rendererRoot: string
let server: RunningHttpServer | null = null
let watches: ScriptedWatches
let pool: ConnectionPool | null = null
let provider: FakeProvider | null = null
let scripted: ScriptedServer | null = null
const clients: WebSocket[] = []
const logs: string[] = []
let pings = 0

async function serve(deps: Partial<StreamDeps> = {}): Promise<string> {
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    rendererRoot,
    routes: [streamRoute({ watches, pool: () => pool, log: (m) => logs.push(m), ...deps })],
  })
  return `ws://127.0.0.1:${server.port}/v1/stream`
}

async function connect(url: string): Promise<Client> {
  const socket = new WebSocket(`${url}?token=${TOKEN}`)
  clients.push(socket)
  const messages: Message[] = []
  socket.on('message', (data) => messages.push(JSON.parse(data.toString()) as Message))
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
  const client: Client = {
    socket,
    messages,
    send: (request) => socket.send(typeof request === 'string' ? request : JSON.stringify(request)),
    find: (label, match) => waitFor(label, () => messages.find(match), 10_000),
    answer: (reqId, type) => client.find(`${type ?? 'answer'} for ${reqId}`, (m) => m.req_id === reqId && (!type || m.type === type)),
    async ping() {
      const reqId = `ping-${++pings}`
      client.send({ type: 'ping', req_id: reqId, data: {} })
      expect(await client.answer(reqId)).toEqual({ type: 'pong', req_id: reqId, data: {} })
    },
  }
  return client
}

async function startPool(url: string): Promise<ConnectionPool> {
  pool = new ConnectionPool({ url, backoff: { initialMs: 20, maxMs: 50 } })
  pool.start()
  return pool
}

beforeEach(() => {
  rendererRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-stream-'))
  watches = new ScriptedWatches()
  logs.length = 0
})

afterEach(async () => {
  for (const socket of clients.splice(0)) socket.terminate()
  await server?.close()
  await pool?.stop()
  await provider?.close()
  await scripted?.close()
  server = null
  pool = null
  provider = null
  scripted = null
  fs.rmSync(rendererRoot, { recursive: true, force: true })
})

describe('/v1/stream connection and validation', () => {
  it('refuses an upgrade without the token with 401', async () => {
    const url = await serve()
    const status = await refusedUpgradeStatus(url)
    expect(status).toBe(401)
  })

  it('answers ping with pong, echoing or generating the req_id', async () => {
    const client = await connect(await serve())
    await client.ping()
    client.send({ type: 'ping', data: {} })
    const pong = await client.find('generated pong', (m) => m.type === 'pong' && m.req_id !== 'ping-1' && m.req_id?.startsWith('tw-') === true)
    expect(pong.data).toEqual({})
  })

  it('answers a frame that is not JSON with invalid_json and req_id null, and stays usable', async () => {
    const client = await connect(await serve())
    client.send('{"type": "ping", ')
    const error = await client.find('invalid_json', (m) => m.type === 'error')
    expect(error).toMatchObject({ type: 'error', req_id: null, data: { code: 'invalid_json' } })
    expect(typeof error.data.message).toBe('string')
    await client.ping()
  })

  it('names the field of every invalid request in details.field and echoes the req_id', async () => {
    const client = await connect(await serve())
    const good = `0x${'1'.repeat(40)}`
    const cases: [unknown, string][] = [
      [{ type: 'logs', listen: true, data: { address: [good, '0x1234'] } }, 'data.address.1'],
      [{ type: 'logs', data: { address: 'not-an-address' } }, 'data.address'],
      [{ type: 'logs', data: { topics: [TOPIC, null, [TOPIC, '0xbad']] } }, 'data.topics.2.1'],
      [{ type: 'logs', data: { topics: ['0xbad'] } }, 'data.topics.0'],
      [{ type: 'logs', data: { fromBlock: '0x1' } }, 'data.fromBlock'],
      [{ type: 'newBlocks', data: {} }, 'type'],
      [{ data: {} }, 'type'],
      [{ type: 'newHeads' }, 'data'],
      [{ type: 'newHeads', data: [] }, 'data'],
      [{ type: 'newHeads', start_block: '5', data: {} }, 'start_block'],
      [{ type: 'newHeads', start_block: 1.5, data: {} }, 'start_block'],
      [{ type: 'newHeads', with_progress: 0, data: {} }, 'with_progress'],
      [{ type: 'newHeads', listen: 'yes', data: {} }, 'listen'],
      [{ type: 'alchemy_filteredNewFullPendingTransactions', data: {} }, 'data.address'],
      [{ type: 'alchemy_pendingTransactions', data: { toAddress: ['0xzz'] } }, 'data.toAddress.0'],
      [{ type: 'alchemy_minedTransactions', data: { addresses: [{ to: '0x12' }] } }, 'data.addresses.0.to'],
      [{ type: 'unlisten', data: {} }, 'data.req_id'],
    ]
    for (const [index, [request, field]] of cases.entries()) {
      const reqId = `bad-${index}`
      client.send({ ...(request as object), req_id: reqId })
      const error = await client.answer(reqId)
      expect(error.type, reqId).toBe('error')
      expect(error.data.code, reqId).toBe('invalid_request')
      expect(error.data.details, reqId).toEqual({ field })
      expect(error.data.message, reqId).toContain(field)
    }
    client.send({ type: 'ping', req_id: 7, data: {} })
    const unreadable = await client.find('non-string req_id', (m) => m.type === 'error' && m.data.details?.field === 'req_id')
    expect(unreadable.req_id).toBeNull()
    expect(watches.opened).toHaveLength(0)
    await client.ping()
  })

  it('exports the contract names exactly as PROTOCOL.md lists them', () => {
    expect([...STREAM_ERROR_CODES].sort()).toEqual([
      'duplicate_req_id',
      'internal_error',
      'invalid_cursor',
      'invalid_json',
      'invalid_request',
      'start_block_out_of_range',
      'too_many_requests',
      'unsupported_upstream',
      'upstream_error',
      'upstream_unavailable',
    ])
    expect([...STREAM_MESSAGE_TYPES].sort()).toEqual([
      'complete',
      'error',
      'head',
      'listening',
      'log',
      'mined_transaction',
      'pending_transaction',
      'pong',
      'progress',
      'syncing',
      'unlistened',
    ])
  })
})

describe('/v1/stream req_id bookkeeping', () => {
  it('rejects a req_id that is still live with duplicate_req_id, and frees it when the request ends', async () => {
    const client = await connect(await serve())
    client.send({ type: 'newHeads', req_id: 'heads', listen: true, data: {} })
    await client.answer('heads', 'listening')
    client.send({ type: 'logs', req_id: 'heads', listen: true, data: {} })
    const error = await client.answer('heads', 'error')
    expect(error.data.code).toBe('duplicate_req_id')
    expect(watches.opened).toHaveLength(1)

    client.send({ type: 'unlisten', req_id: 'u1', data: { req_id: 'heads' } })
    expect(await client.answer('heads', 'unlistened')).toEqual({ type: 'unlistened', req_id: 'heads', data: { success: true } })
    const before = client.messages.length
    client.send({ type: 'logs', req_id: 'heads', listen: true, data: {} })
    await waitFor('second watch', () => watches.opened.length === 2)
    await waitFor('listening again', () => client.messages.slice(before).find((m) => m.req_id === 'heads' && m.type === 'listening'))
    expect(client.messages.slice(before).some((m) => m.type === 'error')).toBe(false)
  })

  it('generates a req_id when absent and stamps it on every message of the request', async () => {
    watches.script = (request, send) => {
      send({
        type: 'head',
        data: { block_number: 101, block_hash: '0x01', parent_hash: '0x00', timestamp: 1, removed: false, irreversible: false, header: { number: '0x65' } },
      })
      send({ type: 'listening', data: { next_block: 102 } })
    }
    const client = await connect(await serve())
    client.send({ type: 'newHeads', listen: true, data: {} })
    const head = await client.find('head', (m) => m.type === 'head')
    expect(head.req_id).toMatch(/^tw-\d+$/)
    const listening = await client.find('listening', (m) => m.type === 'listening')
    expect(listening).toEqual({ type: 'listening', req_id: head.req_id, data: { next_block: 102 } })
  })

  it('unlisten stops the watch, answers success false for an unknown req_id, and nothing follows', async () => {
    const client = await connect(await serve())
    client.send({ type: 'logs', req_id: 'l', listen: true, data: {} })
    await client.answer('l', 'listening')
    client.send({ type: 'unlisten', data: { req_id: 'l' } })
    expect((await client.answer('l', 'unlistened')).data).toEqual({ success: true })
    expect(watches.opened[0]!.stopped).toBe(true)
    // A late message from the stopped watch is not relayed.
    watches.opened[0]!.send({ type: 'progress', data: { block_number: 101, block_hash: '0x01', cursor: 'c101' } })
    client.send({ type: 'unlisten', data: { req_id: 'l' } })
    await client.find('second unlistened', (m) => m.type === 'unlistened' && m.data.success === false)
    client.send({ type: 'unlisten', data: { req_id: 'never-was' } })
    expect(await client.answer('never-was')).toEqual({ type: 'unlistened', req_id: 'never-was', data: { success: false } })
    await client.ping()
    expect(client.messages.some((m) => m.type === 'progress')).toBe(false)
  })

  it('answers too_many_requests past maxLiveRequests; ended requests free their place', async () => {
    const client = await connect(await serve({ maxLiveRequests: 3 }))
    // listen: false requests that complete do not stay live.
    client.send({ type: 'newHeads', req_id: 'once', data: {} })
    expect(await client.answer('once')).toEqual({ type: 'complete', req_id: 'once', data: {} })
    for (const id of ['a', 'b', 'c']) client.send({ type: 'newHeads', req_id: id, listen: true, data: {} })
    for (const id of ['a', 'b', 'c']) await client.answer(id, 'listening')
    client.send({ type: 'newHeads', req_id: 'd', listen: true, data: {} })
    const error = await client.answer('d')
    expect(error.data).toMatchObject({ code: 'too_many_requests' })
    client.send({ type: 'unlisten', data: { req_id: 'b' } })
    await client.answer('b', 'unlistened')
    client.send({ type: 'newHeads', req_id: 'd', listen: true, data: {} })
    await client.answer('d', 'listening')
    await client.ping()
  })

  it('allows 1,000 live requests on one connection and refuses the 1,001st', async () => {
    const client = await connect(await serve())
    for (let i = 0; i < 1000; i += 1) client.send({ type: 'newHeads', req_id: `r${i}`, listen: true, data: {} })
    await waitFor('1,000 listening', () => client.messages.filter((m) => m.type === 'listening').length === 1000)
    client.send({ type: 'logs', req_id: 'r1000', listen: true, data: {} })
    expect((await client.answer('r1000')).data).toMatchObject({ code: 'too_many_requests' })
    expect(client.messages.some((m) => m.type === 'error' && m.req_id !== 'r1000')).toBe(false)
  })

  it('stops every live watch when the client disconnects', async () => {
    const client = await connect(await serve())
    for (const id of ['a', 'b']) client.send({ type: 'logs', req_id: id, listen: true, data: {} })
    await client.answer('b', 'listening')
    client.socket.close()
    await waitFor('watches stopped', () => watches.opened.every((w) => w.stopped))
  })
})

describe('/v1/stream logs and newHeads', () => {
  it('resolves start_block against H and refuses it outside genesis..H+1', async () => {
    const client = await connect(await serve())
    const resolved: [number | undefined, number][] = [
      [undefined, HEAD + 1],
      [HEAD + 1, HEAD + 1],
      [0, 0],
      [-3, HEAD - 3],
      [-HEAD, 0],
    ]
    for (const [index, [startBlock, expected]] of resolved.entries()) {
      client.send({ type: 'logs', req_id: `ok-${index}`, listen: true, ...(startBlock === undefined ? {} : { start_block: startBlock }), data: {} })
      await client.answer(`ok-${index}`, 'listening')
      expect(watches.opened.at(-1)!.request).toMatchObject({ startBlock: expected, head: HEAD })
    }
    for (const startBlock of [HEAD + 2, -(HEAD + 1)]) {
      client.send({ type: 'newHeads', req_id: `out-${startBlock}`, listen: true, start_block: startBlock, data: {} })
      const error = await client.answer(`out-${startBlock}`)
      expect(error.data).toMatchObject({ code: 'start_block_out_of_range', details: { start_block: startBlock, latest_block: HEAD } })
    }
    expect(watches.opened).toHaveLength(resolved.length)
    await client.ping()
  })

  it('builds the WatchRequest: lowercase filter, topics per position, fetch, listen, irreversible_only, with_progress', async () => {
    const client = await connect(await serve())
    client.send({
      type: 'logs',
      req_id: 'transfers',
      fetch: true,
      listen: true,
      start_block: -5,
      irreversible_only: true,
      with_progress: 5,
      data: { address: [ADDRESS_MIXED], topics: [TOPIC.toUpperCase().replace('0X', '0x'), null, [TOPIC, TOPIC]] },
    })
    await client.answer('transfers', 'listening')
    expect(watches.opened[0]!.request).toEqual({
      kind: 'logs',
      filter: { address: [ADDRESS], topics: [[TOPIC], null, [TOPIC, TOPIC]] },
      startBlock: HEAD - 5,
      head: HEAD,
      fetchSnapshot: false,
      listen: true,
      irreversibleOnly: true,
      withProgress: 5,
      chainId: 1,
    })
    client.send({ type: 'logs', req_id: 'one', data: { address: ADDRESS_MIXED } })
    await client.answer('one', 'complete')
    expect(watches.opened[1]!.request).toMatchObject({ filter: { address: [ADDRESS] }, listen: false, withProgress: 0, irreversibleOnly: false })

    client.send({ type: 'newHeads', req_id: 'snap', fetch: true, listen: true, data: {} })
    await client.answer('snap', 'listening')
    expect(watches.opened.at(-1)!.request).toMatchObject({ kind: 'newHeads', filter: {}, fetchSnapshot: true, startBlock: HEAD + 1 })
    // With start_block, the history ends at H: no separate snapshot.
    client.send({ type: 'newHeads', req_id: 'hist', fetch: true, listen: true, start_block: -2, data: {} })
    await client.answer('hist', 'listening')
    expect(watches.opened.at(-1)!.request).toMatchObject({ kind: 'newHeads', fetchSnapshot: false, startBlock: HEAD - 2 })
  })

  it('adds decoded (event and arguments) to a log whose event is known, and sends other logs without it', async () => {
    watches.script = () => undefined
    const decoder = new EventDecoder([])
    const client = await connect(
      await serve({
        decodeLog: (topics, data) => {
          const decoded = decoder.decode(topics, data)
          return decoded && { event: decoded.event, args: decoded.args }
        },
      }),
    )
    client.send({ type: 'logs', req_id: 'd', listen: true, data: {} })
    await waitFor('watch', () => watches.opened[0])
    const from = '0x00000000000000000000000000000000000000a1'
    const to = '0x00000000000000000000000000000000000000b2'
    const transfer = {
      address: ADDRESS,
      topics: [TOPIC, `0x${from.slice(2).padStart(64, '0')}`, `0x${to.slice(2).padStart(64, '0')}`],
      data: `0x${1234n.toString(16).padStart(64, '0')}`,
    }
    const unknown = { address: ADDRESS, topics: [`0x${'12'.repeat(32)}`], data: '0x' }
    const chainLog = (raw: { address: string; topics: string[]; data: string }, logIndex: number): ChainLog => ({
      ...raw,
      blockNumber: 5,
      blockHash: '0x05',
      transactionHash: '0xaa',
      transactionIndex: 0,
      logIndex,
      raw,
    })
    watches.opened[0]!.send({ type: 'log', log: chainLog(transfer, 0), removed: false, irreversible: false, stored: true })
    watches.opened[0]!.send({ type: 'log', log: chainLog(unknown, 1), removed: false, irreversible: false, stored: true })
    await client.find('second log', (m) => m.req_id === 'd' && m.type === 'log' && m.data.log_index === 1)
    const [first, second] = client.messages.filter((m) => m.req_id === 'd' && m.type === 'log')
    expect(first!.data.decoded).toEqual({ event: 'Transfer', args: { from: getAddress(from), to: getAddress(to), value: '1234' } })
    expect(first!.data.log).toEqual(transfer)
    expect(second!.data).not.toHaveProperty('decoded')
  })

  it('relays watch messages in the envelope and ends the request on complete or error', async () => {
    watches.script = () => undefined
    const client = await connect(await serve())
    client.send({ type: 'logs', req_id: 'w', start_block: 99, with_progress: 1, data: {} })
    await waitFor('watch', () => watches.opened[0])
    const { send } = watches.opened[0]!
    const log = { address: ADDRESS, topics: [TOPIC], data: '0x', blockNumber: '0x63', logIndex: '0x0' }
    const chainLog: ChainLog = { ...log, blockNumber: 99, blockHash: '0x63', transactionHash: '0xaa', transactionIndex: 0, logIndex: 0, raw: log }
    send({ type: 'log', log: chainLog, removed: false, irreversible: false, stored: true })
    send({ type: 'progress', data: { block_number: 99, block_hash: '0x63', cursor: 'c99' } })
    send({ type: 'complete', data: {} })
    await client.answer('w', 'complete')
    expect(client.messages.filter((m) => m.req_id === 'w')).toEqual([
      {
        type: 'log',
        req_id: 'w',
        data: { block_number: 99, block_hash: '0x63', transaction_hash: '0xaa', log_index: 0, removed: false, irreversible: false, log },
      },
      { type: 'progress', req_id: 'w', data: { block_number: 99, block_hash: '0x63', cursor: 'c99' } },
      { type: 'complete', req_id: 'w', data: {} },
    ])
    // The req_id is free again, and the finished watch was stopped.
    expect(watches.opened[0]!.stopped).toBe(true)
    client.send({ type: 'logs', req_id: 'w', listen: true, data: {} })
    await waitFor('second watch', () => watches.opened[1])
    watches.opened[1]!.send({ type: 'error', data: { code: 'upstream_error', message: 'eth_getLogs failed', details: { code: -32005 } } })
    const error = await client.find('watch error', (m) => m.req_id === 'w' && m.type === 'error')
    expect(error.data).toEqual({ code: 'upstream_error', message: 'eth_getLogs failed', details: { code: -32005 } })
    client.send({ type: 'unlisten', data: { req_id: 'w' } })
    await client.find('unlistened false', (m) => m.type === 'unlistened' && m.req_id === 'w')
    expect(client.messages.findLast((m) => m.type === 'unlistened')!.data).toEqual({ success: false })
  })

  it('resumes by cursor: the watch gets the cursor block; bad cursors get invalid_cursor with the reason', async () => {
    const client = await connect(await serve())
    const hash = `0x${'ab'.repeat(32)}`
    client.send({ type: 'logs', req_id: 'resume', cursor: encodeCursor({ chainId: 1, number: 90, hash }), listen: true, with_progress: 1, data: {} })
    await client.answer('resume', 'listening')
    expect(watches.opened[0]!.request).toMatchObject({ startBlock: 91, head: HEAD, resume: { number: 90, hash }, chainId: 1, withProgress: 1 })

    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [{ cursor: 'not-a-cursor' }, { code: 'invalid_cursor', details: { field: 'cursor', reason: 'malformed' } }],
      [{ cursor: '' }, { code: 'invalid_cursor', details: { field: 'cursor', reason: 'malformed' } }],
      [
        { cursor: encodeCursor({ chainId: 5, number: 90, hash }) },
        { code: 'invalid_cursor', details: { field: 'cursor', reason: 'other_chain', cursor_chain_id: 5, chain_id: 1 } },
      ],
      [
        { cursor: encodeCursor({ chainId: 1, number: 90, hash }), start_block: 10 },
        { code: 'invalid_request', details: { field: 'cursor' } },
      ],
      [{ cursor: 42 }, { code: 'invalid_request', details: { field: 'cursor' } }],
    ]
    for (const [i, [fields, expected]] of cases.entries()) {
      client.send({ type: 'newHeads', req_id: `bad-${i}`, listen: true, data: {}, ...fields })
      const answer = await client.answer(`bad-${i}`)
      expect(answer, JSON.stringify(fields)).toMatchObject({ type: 'error', data: expected })
    }
    // None of the bad ones reached the chain tracker, and the request's req_id is free again.
    expect(watches.opened).toHaveLength(1)
    client.send({ type: 'newHeads', req_id: 'bad-0', listen: true, data: {} })
    await client.answer('bad-0', 'listening')
  })

  it('answers upstream_unavailable when the upstream does not answer, upstream_error when it answers an error', async () => {
    watches.headError = new RequestTimeoutError('eth_blockNumber', 100)
    const client = await connect(await serve())
    client.send({ type: 'newHeads', req_id: 'h', listen: true, data: {} })
    expect((await client.answer('h')).data).toMatchObject({
      code: 'upstream_unavailable',
      message: expect.stringContaining('eth_blockNumber got no answer within 100 ms'),
    })
    watches.headError = new JsonRpcError(-32000, 'eth_blockNumber: header not found')
    client.send({ type: 'newHeads', req_id: 'h2', listen: true, data: {} })
    expect((await client.answer('h2')).data).toMatchObject({ code: 'upstream_error', details: { code: -32000 } })
    await client.ping()
  })
})

describe('/v1/stream pending, mined and syncing types', () => {
  it('sends pending_transaction from native subscriptions: full object, or hash only', async () => {
    provider = await startFakeProvider()
    await startPool(provider.url)
    const client = await connect(await serve())
    client.send({
      type: 'alchemy_pendingTransactions',
      req_id: 'full',
      listen: true,
      start_block: -10,
      irreversible_only: true,
      data: { toAddress: [ADDRESS_MIXED] },
    })
    client.send({ type: 'newPendingTransactions', req_id: 'hashes', listen: true, data: {} })
    expect(await client.answer('full')).toEqual({ type: 'listening', req_id: 'full', data: { next_block: HEAD + 1 } })
    await client.answer('hashes', 'listening')
    const upstream = [...provider.subscriptions.values()].find((s) => s.params[0] === 'alchemy_pendingTransactions')!
    expect(upstream.params[1]).toEqual({ toAddress: [ADDRESS] })

    provider.emit('alchemy_pendingTransactions', TX)
    provider.emit('newPendingTransactions', TX.hash)
    expect(await client.answer('full', 'pending_transaction')).toEqual({
      type: 'pending_transaction',
      req_id: 'full',
      data: { hash: TX.hash, transaction: TX },
    })
    expect(await client.answer('hashes', 'pending_transaction')).toEqual({
      type: 'pending_transaction',
      req_id: 'hashes',
      data: { hash: TX.hash, transaction: null },
    })
  })

  it('sends mined_transaction from a native alchemy_minedTransactions', async () => {
    provider = await startFakeProvider()
    await startPool(provider.url)
    const client = await connect(await serve())
    client.send({ type: 'alchemy_minedTransactions', req_id: 'mined', listen: true, data: { addresses: [{ to: ADDRESS }] } })
    await client.answer('mined', 'listening')
    provider.emit('alchemy_minedTransactions', { removed: false, transaction: MINED_TX })
    provider.emit('alchemy_minedTransactions', { removed: true, transaction: { hash: MINED_TX.hash } })
    await waitFor('two mined', () => client.messages.filter((m) => m.type === 'mined_transaction').length === 2)
    expect(client.messages.filter((m) => m.type === 'mined_transaction').map((m) => m.data)).toEqual([
      { block_number: 101, block_hash: MINED_TX.blockHash, hash: MINED_TX.hash, removed: false, transaction: MINED_TX },
      { block_number: null, block_hash: null, hash: MINED_TX.hash, removed: true, transaction: null },
    ])
  })

  it('sends syncing status as decimal numbers from the seed-shaped subscription payload, after the fetch snapshot', async () => {
    provider = await startFakeProvider()
    await startPool(provider.url)
    const client = await connect(await serve())
    client.send({ type: 'syncing', req_id: 's', fetch: true, listen: true, data: {} })
    await client.answer('s', 'listening')
    provider.emit('syncing', SYNCING)
    provider.emit('syncing', { syncing: false })
    await waitFor('two live statuses', () => client.messages.filter((m) => m.req_id === 's').length === 4)
    expect(client.messages.filter((m) => m.req_id === 's')).toEqual([
      { type: 'syncing', req_id: 's', data: { syncing: false, status: null } },
      { type: 'listening', req_id: 's', data: { next_block: HEAD + 1 } },
      { type: 'syncing', req_id: 's', data: SYNCING },
      { type: 'syncing', req_id: 's', data: { syncing: false, status: null } },
    ])
  })

  it('converts an eth_syncing result with hex quantities, for the snapshot and the polled emulation', async () => {
    const HEX_STATUS = { startingBlock: '0x0', currentBlock: '0x1a', highestBlock: '0x2b', pulledStates: '0x10', knownStates: '0x0' }
    const DECIMAL_STATUS = { startingBlock: 0, currentBlock: 26, highestBlock: 43, pulledStates: 16, knownStates: 0 }
    scripted = await startScriptedServer((request, socket) => {
      if (request.method === 'eth_subscribe')
        return socket.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, error: { code: -32603, message: 'Not implemented' } }))
      if (request.method === 'eth_syncing') return reply(socket, request.id, HEX_STATUS)
      reply(socket, request.id, null)
    })
    await startPool(scripted.url)
    const client = await connect(await serve())
    client.send({ type: 'syncing', req_id: 'once', fetch: true, data: {} })
    await client.answer('once', 'complete')
    expect(client.messages.filter((m) => m.req_id === 'once')).toEqual([
      { type: 'syncing', req_id: 'once', data: { syncing: true, status: DECIMAL_STATUS } },
      { type: 'complete', req_id: 'once', data: {} },
    ])
    client.send({ type: 'syncing', req_id: 'live', listen: true, data: {} })
    expect(await client.answer('live')).toEqual({ type: 'listening', req_id: 'live', data: { next_block: HEAD + 1 } })
    expect(await client.answer('live', 'syncing')).toEqual({ type: 'syncing', req_id: 'live', data: { syncing: true, status: DECIMAL_STATUS } })
    // With fetch, the emulation's first poll repeats the snapshot and is not sent again.
    client.send({ type: 'syncing', req_id: 'both', fetch: true, listen: true, data: {} })
    await client.answer('both', 'listening')
    // The runner logs the emulation once its first poll was delivered.
    await waitFor('emulation started', () => logs.some((line) => line.startsWith('request both: syncing: upstream does not offer it')))
    await client.ping()
    expect(client.messages.filter((m) => m.req_id === 'both').map((m) => m.type)).toEqual(['syncing', 'listening'])
  })

  it('listen: false ends a pending request with complete at once', async () => {
    provider = await startFakeProvider()
    await startPool(provider.url)
    const client = await connect(await serve())
    client.send({ type: 'alchemy_newFullPendingTransactions', req_id: 'p', fetch: true, data: {} })
    expect(await client.answer('p')).toEqual({ type: 'complete', req_id: 'p', data: {} })
    expect(provider.subscriptions.size).toBe(0)
  })

  it('answers unsupported_upstream when the type cannot be built on the upstream', async () => {
    provider = await startFakeProvider({ unsupported: ['newPendingTransactions', 'alchemy_newFullPendingTransactions'] })
    await startPool(provider.url)
    const client = await connect(await serve())
    client.send({ type: 'newPendingTransactions', req_id: 'p', listen: true, data: {} })
    expect((await client.answer('p', 'error')).data).toMatchObject({ code: 'unsupported_upstream' })
    client.send({ type: 'alchemy_newFullPendingTransactions', req_id: 'f', listen: true, data: {} })
    expect((await client.answer('f', 'error')).data).toMatchObject({ code: 'unsupported_upstream' })
    await client.ping()
  })

  it('answers upstream_error with the JSON-RPC error in details', async () => {
    scripted = await startScriptedServer((request, socket) => {
      if (request.method === 'eth_subscribe')
        return socket.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, error: { code: -32000, message: 'boom', data: { why: 'test' } } }))
      reply(socket, request.id, null)
    })
    await startPool(scripted.url)
    const client = await connect(await serve())
    client.send({ type: 'alchemy_minedTransactions', req_id: 'm', listen: true, data: {} })
    const error = await client.answer('m', 'error')
    expect(error.data).toMatchObject({ code: 'upstream_error', details: { code: -32000, data: { why: 'test' } } })
    expect(String(error.data.details!.message)).toContain('boom')
    // The request ended: its req_id is free and nothing keeps retrying.
    client.send({ type: 'unlisten', data: { req_id: 'm' } })
    expect((await client.answer('m', 'unlistened')).data).toEqual({ success: false })
    const subscribes = scripted.requests.filter((r) => r.method === 'eth_subscribe').length
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(scripted.requests.filter((r) => r.method === 'eth_subscribe').length).toBe(subscribes)
  })

  it('answers upstream_unavailable when there is no upstream connection', async () => {
    const client = await connect(await serve())
    client.send({ type: 'syncing', req_id: 's', listen: true, data: {} })
    expect((await client.answer('s')).data).toMatchObject({ code: 'upstream_unavailable', details: { reason: 'no_upstream' } })
    await client.ping()
  })

  it('releases the upstream subscriptions when the client disconnects', async () => {
    provider = await startFakeProvider()
    await startPool(provider.url)
    const client = await connect(await serve())
    client.send({ type: 'alchemy_pendingTransactions', req_id: 'a', listen: true, data: {} })
    client.send({ type: 'syncing', req_id: 'b', listen: true, data: {} })
    await client.answer('a', 'listening')
    await client.answer('b', 'listening')
    expect(provider.subscriptions.size).toBe(2)
    client.socket.close()
    await waitFor('upstream unsubscribed', () => provider!.subscriptions.size === 0)
  })
})

/**
 * `/v1/rpc` in front of a real anvil (a block a second): newHeads as mined, a viem client
 * using Tidewatch as its WebSocket provider, and the types anvil lacks (alchemy_*,
 * syncing) served by emulation in the seed's shapes.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createPublicClient, webSocket, type Block } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RpcTestClient } from '../../../test/helpers/rpc-client'
import { waitFor } from '../../../test/helpers/scripted-server'
import { RPC_PATH } from '../../shared/rpc-protocol'
import { startAnvil, type AnvilProcess } from '../demo/anvil-process'
import { startHttpServer, type RunningHttpServer } from '../server/http-server'
import type { ConnectionPool } from '../upstream/connection-pool'
import { createTrackerWatchProvider } from '../chain/tracker-watch'
import { LiveConnection } from '../engine/live-connection'
import { SqliteChainStore } from '../store/sqlite-chain-store'
import { openDatabase, type Db } from '../store/database'
import { rpcRoute } from './rpc-endpoint'

const TOKEN = 'rpc-anvil-token-0123456789abcdef0123456789abc'
// anvil dev accounts 0 and 9; both unlocked, so eth_sendTransaction works from either.
const ACCOUNT_0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const OUTSIDER = '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720'

let anvil: AnvilProcess
let connection: LiveConnection
let pool: ConnectionPool
let db: Db
let server: RunningHttpServer
let rendererRoot: string
let url: string
const clients: RpcTestClient[] = []
const logs: string[] = []

beforeAll(async () => {
  anvil = await startAnvil({ blockTime: 1 })
  rendererRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-rpc-anvil-'))
  // A connection as the app runs it: its pool, its one newHeads subscription, its chain tracker.
  db = openDatabase(path.join(rendererRoot, 'db.sqlite'))
  db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'anvil', 'user', 'x', 'x', 0)").run()
  connection = new LiveConnection({ id: 1, url: anvil.wsUrl, httpUrl: null, chainStore: new SqliteChainStore(db, 1), log: (m) => logs.push(m) })
  connection.start()
  pool = connection.pool
  const watches = createTrackerWatchProvider(connection.tracker, pool)
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    rendererRoot,
    routes: [rpcRoute({ pool: () => pool, watches, log: (m) => logs.push(m), syncingPollMs: 200 })],
  })
  url = `ws://127.0.0.1:${server.port}${RPC_PATH}?token=${TOKEN}`
})
afterAll(async () => {
  for (const client of clients) client.close()
  await server?.close()
  await connection?.stop()
  db?.close()
  await anvil?.stop()
  fs.rmSync(rendererRoot, { recursive: true, force: true })
})

async function connect(): Promise<RpcTestClient> {
  const client = await RpcTestClient.connect(url)
  clients.push(client)
  return client
}

type Head = { number: string; hash: string; parentHash: string }

describe('/v1/rpc on anvil', () => {
  it('delivers newHeads notifications as blocks are mined', async () => {
    const client = await connect()
    const id = await client.subscribe('newHeads')
    const heads = (await client.untilResults(id, 2, 10_000)) as Head[]
    expect(Number(heads[1]!.number)).toBe(Number(heads[0]!.number) + 1)
    expect(heads[1]!.parentHash).toBe(heads[0]!.hash)
    expect((await client.call('eth_unsubscribe', [id])).result).toBe(true)
  })

  it('serves a viem client: getBlockNumber, and watchBlockNumber/watchBlocks over eth_subscribe', async () => {
    const viem = createPublicClient({ transport: webSocket(url) })
    try {
      const direct = await fetch(anvil.httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
      })
      const anvilHead = BigInt(((await direct.json()) as { result: string }).result)
      const blockNumber = await viem.getBlockNumber()
      expect(blockNumber >= anvilHead && blockNumber <= anvilHead + 1n).toBe(true)

      const numbers: bigint[] = []
      const blocks: Block[] = []
      const errors: Error[] = []
      // viem's option types resolve `poll` wrongly under TypeScript 6 (ReturnType of its generic
      // Transport), so `poll: false` needs a cast; at runtime viem reads it as documented.
      const subscribe = { poll: false } as unknown as { poll?: true }
      const unwatchNumbers = viem.watchBlockNumber({ ...subscribe, onBlockNumber: (n) => numbers.push(n), onError: (e) => errors.push(e) })
      const unwatchBlocks = viem.watchBlocks({ ...subscribe, onBlock: (b) => blocks.push(b), onError: (e) => errors.push(e) })
      await waitFor('two blocks through both watches', () => numbers.length >= 2 && blocks.length >= 2, 15_000)
      // Both watches subscribed (no polling), served by the chain tracker: the connection's one newHeads subscription is all the upstream sees.
      expect(pool.getStatus().upstreamSubscriptions).toBe(1)
      unwatchNumbers()
      unwatchBlocks()
      expect(errors).toEqual([])
      expect(numbers[1]).toBe(numbers[0]! + 1n)
      expect(blocks[1]!.parentHash).toBe(blocks[0]!.hash)
      expect(blocks[1]!.number).toBe(blocks[0]!.number! + 1n)
    } finally {
      ;(await viem.transport.getRpcClient()).close()
    }
  })

  it('emulates alchemy_pendingTransactions (anvil lacks it) and delivers a transaction sent through /v1/rpc', async () => {
    const client = await connect()
    const id = await client.subscribe('alchemy_pendingTransactions', { fromAddress: OUTSIDER })
    const sent = await client.call('eth_sendTransaction', [{ from: OUTSIDER, to: ACCOUNT_0, value: '0x1' }])
    expect(sent.result).toMatch(/^0x[0-9a-f]{64}$/)
    const [tx] = (await client.untilResults(id, 1, 10_000)) as { hash: string; from: string; to: string }[]
    expect(tx).toMatchObject({ hash: sent.result, from: OUTSIDER.toLowerCase(), to: ACCOUNT_0.toLowerCase() })
    expect(logs.some((m) => /alchemy_pendingTransactions.*built from newPendingTransactions/.test(m))).toBe(true)
  })

  it('takes geth\'s ["newPendingTransactions", true] for full transactions, and no param or false for hashes', async () => {
    const client = await connect()
    const full = await client.subscribe('newPendingTransactions', true)
    const hashes = await client.subscribe('newPendingTransactions', false)
    const sent = await client.call('eth_sendTransaction', [{ from: OUTSIDER, to: ACCOUNT_0, value: '0x2' }])
    const [tx] = (await client.untilResults(full, 1, 10_000)) as { hash: string; from: string; value: string }[]
    expect(tx).toMatchObject({ hash: sent.result, from: OUTSIDER.toLowerCase(), value: '0x2' })
    expect(await client.untilResults(hashes, 1, 10_000)).toEqual([sent.result])
  })

  it('emulates syncing (anvil lacks it): an id, then false, as a geth node says "not syncing"', async () => {
    const client = await connect()
    const id = await client.subscribe('syncing')
    expect(id).toMatch(/^0x[0-9a-f]{32}$/)
    expect(await client.untilResults(id, 1, 10_000)).toEqual([false])
    expect(logs.some((m) => /syncing.*polling eth_syncing/.test(m))).toBe(true)
  })
})

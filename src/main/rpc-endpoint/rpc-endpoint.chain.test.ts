/**
 * `logs` and `newHeads` on /v1/rpc are served from the chain tracker (PROTOCOL.md section 2):
 * against a scripted provider that reorganizes, drops its sockets and goes silent on
 * demand, every client's replayed view (add on removed: false, delete on removed: true)
 * equals the canonical chain, removals come before the replacement logs, nothing arrives
 * twice, and the raw objects are the provider's own.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startFakeProvider, type FakeProvider } from '../../../test/helpers/fake-provider'
import { RpcTestClient } from '../../../test/helpers/rpc-client'
import { waitFor } from '../../../test/helpers/scripted-server'
import { RPC_PATH } from '../../shared/rpc-protocol'
import { createTrackerWatchProvider } from '../chain/tracker-watch'
import { LiveConnection } from '../engine/live-connection'
import { startHttpServer, type RunningHttpServer } from '../server/http-server'
import { SqliteChainStore } from '../store/sqlite-chain-store'
import { openDatabase, type Db } from '../store/database'
import { rpcRoute } from './rpc-endpoint'

const TOKEN = 'rpc-chain-token-0123456789abcdef0123456789abc'
const ADDRESS = '0x8320fe7702b96808f7bbc0d4a888ed1468216cfd'
const TOPIC = '0xd78a0cb8bb633d06981248b816e7bd33c2a35a6089241d099fa519e361cab902'
const LOG = { address: ADDRESS, topics: [TOPIC], data: '0x01', blockTimestamp: '0x6553f100' }
const OTHER = { address: '0x1111111111111111111111111111111111111111', topics: [TOPIC], data: '0x02' }

let provider: FakeProvider
let connection: LiveConnection
let db: Db
let dir: string
let server: RunningHttpServer
let url: string
const clients: RpcTestClient[] = []
const logs: string[] = []

beforeEach(async () => {
  provider = await startFakeProvider()
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-rpc-chain-'))
  db = openDatabase(path.join(dir, 'db.sqlite'))
  db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'x', 'user', 'x', 'x', 0)").run()
  logs.length = 0
  connection = new LiveConnection({
    id: 1,
    url: provider.url,
    httpUrl: null,
    chainStore: new SqliteChainStore(db, 1),
    backoff: { initialMs: 20, maxMs: 100 },
    heartbeat: { idleMs: 300, deadlineMs: 300 },
    log: (m) => logs.push(m),
  })
  connection.start()
  provider.mine()
  await waitFor('tracking', () => connection.tracker.cursor?.number === 1)
  const watches = createTrackerWatchProvider(connection.tracker, connection.pool)
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    rendererRoot: dir,
    routes: [rpcRoute({ pool: () => connection.pool, watches, log: (m) => logs.push(m) })],
  })
  url = `ws://127.0.0.1:${server.port}${RPC_PATH}?token=${TOKEN}`
})

afterEach(async () => {
  for (const client of clients.splice(0)) client.close()
  await server.close()
  await connection.stop()
  await provider.close()
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

async function connect(): Promise<RpcTestClient> {
  const client = await RpcTestClient.connect(url)
  clients.push(client)
  return client
}

type RawLog = Record<string, unknown> & { blockHash: string; logIndex: string; removed?: boolean }

/** A client's view after applying every notification in order; fails on a duplicate or a removal of something never seen. */
function replay(results: unknown[]): RawLog[] {
  const held = new Map<string, RawLog>()
  for (const log of results as RawLog[]) {
    const key = `${log.blockHash}:${log.logIndex}`
    if (log.removed === true) {
      expect(held.has(key), `removal of ${key} never delivered`).toBe(true)
      held.delete(key)
    } else {
      expect(held.has(key), `${key} delivered twice`).toBe(false)
      held.set(key, log)
    }
  }
  return [...held.values()]
}

const canonical = (from: number) => provider.chain.slice(from).flatMap((e) => e.logs.filter((l) => l.address === ADDRESS))
const upstreamLogSubscriptions = () => [...provider.subscriptions.values()].filter((s) => s.params[0] === 'logs').length

describe('/v1/rpc logs and newHeads from the chain tracker', () => {
  it('delivers every matching log once in order, and on a reorg the removed logs again before the replacements', async () => {
    const [a, b] = [await connect(), await connect()]
    const idA = await a.subscribe('logs', { address: ADDRESS })
    const idB = await b.subscribe('logs', { address: ADDRESS, topics: [TOPIC] })
    const heads = await a.subscribe('newHeads')
    const from = provider.chain.length
    for (let i = 0; i < 4; i++) provider.mine([LOG, OTHER, LOG])
    await a.untilResults(idA, 8)
    // Blocks from + 2 and + 3 are replaced by a branch with one log each.
    provider.reorg(2, [LOG])
    provider.mine([LOG])
    const expected = canonical(from)
    await waitFor('A converged', () => JSON.stringify(replay(a.results(idA))) === JSON.stringify(expected))
    await waitFor('B converged', () => JSON.stringify(replay(b.results(idB))) === JSON.stringify(expected))

    const results = a.results(idA) as RawLog[]
    const firstRemoval = results.findIndex((l) => l.removed === true)
    // The four logs of the two orphaned blocks, newest first, flagged removed, before any replacement.
    expect(results.slice(firstRemoval, firstRemoval + 4).map((l) => [Number(l.blockNumber), Number(l.logIndex), l.removed])).toEqual([
      [from + 3, 2, true],
      [from + 3, 0, true],
      [from + 2, 2, true],
      [from + 2, 0, true],
    ])
    expect(results.slice(firstRemoval + 4).every((l) => l.removed !== true)).toBe(true)
    // Raw objects as the provider sent them, unknown fields included.
    expect(results[0]).toEqual(provider.chain[from]!.logs[0])
    // newHeads: every canonical head, replacement heads after the reorg, no removal.
    const headResults = (await a.untilResults(heads, 7)) as { hash: string; number: string }[]
    expect(headResults.map((h) => Number(h.number))).toEqual([from, from + 1, from + 2, from + 3, from + 2, from + 3, from + 4])
    expect(headResults.slice(-3).map((h) => h.hash)).toEqual(provider.chain.slice(from + 2).map((e) => e.block.hash))
    // No upstream logs subscription at all: the connection's newHeads drives everything.
    expect(upstreamLogSubscriptions()).toBe(0)
  })

  it('fills the gap of an upstream drop before live notifications resume', async () => {
    const client = await connect()
    const id = await client.subscribe('logs', { address: ADDRESS })
    const from = provider.chain.length
    provider.mine([LOG])
    await client.untilResults(id, 1)
    provider.closeAll()
    // Mined while Tidewatch reconnects: their newHeads notifications are lost with the socket.
    for (let i = 0; i < 3; i++) provider.mine([LOG, LOG])
    await waitFor('reconnected', () => logs.some((m) => /reconnect/i.test(m)) && connection.pool.getStatus().state === 'connected')
    provider.mine([LOG])
    await waitFor('caught up', () => replay(client.results(id)).length === canonical(from).length)
    expect(replay(client.results(id))).toEqual(canonical(from))
    expect((client.results(id) as RawLog[]).map((l) => Number(l.blockNumber))).toEqual(canonical(from).map((l) => Number(l.blockNumber)))
  })

  it('fills the gap of a silent (half-open) upstream once the heartbeat replaces the socket', async () => {
    const client = await connect()
    const id = await client.subscribe('logs', { address: ADDRESS })
    const from = provider.chain.length
    provider.mine([LOG])
    await client.untilResults(id, 1)
    provider.goSilent()
    for (let i = 0; i < 2; i++) provider.mine([LOG])
    // New sockets are answered again; the silent one is replaced when its heartbeat deadline passes.
    provider.speakAgain()
    await waitFor('heartbeat replaced the socket', () => connection.pool.getStatus().reconnectCount > 0, 15_000)
    provider.mine([LOG])
    await waitFor('caught up', () => replay(client.results(id)).length === canonical(from).length, 15_000)
    expect(replay(client.results(id))).toEqual(canonical(from))
  })
})

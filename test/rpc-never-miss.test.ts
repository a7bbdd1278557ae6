/**
 * The never-miss promise for clients behind /v1/rpc (PROTOCOL.md section 2), with real
 * clients: viem (`watchEvent` over `webSocket`, `poll: false`) and ethers 6
 * (`WebSocketProvider`, `contract.on`) subscribe through Tidewatch, whose upstream to a real
 * anvil is cut at random by a fault proxy, goes silent (half-open) past the heartbeat
 * deadline, and is reorganized at depths 1, 3 and 8. The clients never lose their own
 * connection; what each holds at the end (add on removed: false, delete on removed: true)
 * must equal eth_getLogs exactly, with nothing delivered twice.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Contract, WebSocketProvider, type ContractEventPayload } from 'ethers'
import { createPublicClient, encodeEventTopics, parseAbi, webSocket, type Log } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTrackerWatchProvider } from '../src/main/chain/tracker-watch'
import { startAnvil, type AnvilProcess } from '../src/main/demo/anvil-process'
import { startTrafficGenerator, type TrafficGenerator } from '../src/main/demo/traffic-generator'
import { LiveConnection } from '../src/main/engine/live-connection'
import { rpcRoute } from '../src/main/rpc-endpoint/rpc-endpoint'
import { startHttpServer, type RunningHttpServer } from '../src/main/server/http-server'
import { SqliteChainStore } from '../src/main/store/sqlite-chain-store'
import { openDatabase, type Db } from '../src/main/store/database'
import { RPC_PATH } from '../src/shared/rpc-protocol'
import { startFaultProxy, type FaultProxy } from './helpers/fault-proxy'
import { waitFor } from './helpers/scripted-server'
import { httpRpc } from './helpers/node-rpc'

const TOKEN = 'rpc-never-miss-token-0123456789abcdef012345'
const ERC20 = parseAbi(['event Transfer(address indexed from, address indexed to, uint256 value)'])
const TRANSFER = encodeEventTopics({ abi: ERC20, eventName: 'Transfer' })[0]

let anvil: AnvilProcess
let traffic: TrafficGenerator
let proxy: FaultProxy
let db: Db
let dir: string
let connection: LiveConnection
let server: RunningHttpServer
const logs: string[] = []

beforeAll(async () => {
  anvil = await startAnvil({ blockTime: 1 })
  traffic = await startTrafficGenerator({ httpUrl: anvil.httpUrl, onError: () => undefined })
  proxy = await startFaultProxy(anvil.port)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-rpc-nevermiss-'))
  db = openDatabase(path.join(dir, 'tidewatch.sqlite'))
  db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'anvil', 'user', 'x', 'x', 0)").run()
  // As the app runs a connection, with a heartbeat short enough for the test to wait out.
  connection = new LiveConnection({
    id: 1,
    url: `ws://127.0.0.1:${proxy.port}`,
    httpUrl: null,
    chainStore: new SqliteChainStore(db, 1),
    backoff: { initialMs: 50, maxMs: 500 },
    heartbeat: { idleMs: 500, deadlineMs: 1_000 },
    log: (m) => logs.push(m),
  })
  connection.start()
  const watches = createTrackerWatchProvider(connection.tracker, connection.pool)
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    rendererRoot: dir,
    routes: [rpcRoute({ pool: () => connection.pool, watches, log: (m) => logs.push(m) })],
  })
  await waitFor('tracking', () => connection.tracker.cursor !== undefined, 30_000)
})

afterAll(async () => {
  await server?.close()
  await connection?.stop()
  await proxy?.close()
  await traffic?.stop()
  await anvil?.stop()
  db?.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

const rpc = <T>(method: string, params: unknown[] = []): Promise<T> => httpRpc<T>(anvil.httpUrl, method, params)
const head = async () => Number(await rpc<string>('eth_blockNumber'))
const untilHead = async (n: number) => {
  while ((await head()) < n) await new Promise((resolve) => setTimeout(resolve, 200))
}

interface Seen {
  blockNumber: number
  key: string
}

/** A client's view: add on removed false, delete on removed true; throws on a duplicate or a removal of something never held. */
class View {
  readonly held = new Map<string, Seen>()
  readonly problems: string[] = []
  apply(log: { blockHash: string | null; logIndex: number | null; blockNumber: bigint | number | null; removed: boolean }): void {
    const key = `${log.blockHash}:${Number(log.logIndex)}`
    if (log.removed) {
      if (!this.held.delete(key)) this.problems.push(`removal of ${key}, never delivered`)
    } else if (this.held.has(key)) this.problems.push(`${key} delivered twice`)
    else this.held.set(key, { blockNumber: Number(log.blockNumber), key })
  }
  keysFrom(from: number, to: number): string[] {
    return [...this.held.values()]
      .filter((s) => s.blockNumber >= from && s.blockNumber <= to)
      .map((s) => s.key)
      .sort()
  }
}

const expectedKeys = async (filter: Record<string, unknown>, from: number, to: number) =>
  (await rpc<{ blockHash: string; logIndex: string }[]>('eth_getLogs', [{ ...filter, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${to.toString(16)}` }]))
    .map((l) => `${l.blockHash}:${Number(l.logIndex)}`)
    .sort()

describe('never miss a beat behind /v1/rpc', () => {
  it('viem and ethers see exactly eth_getLogs through upstream cuts, a silent upstream and reorgs of depth 1, 3 and 8', { timeout: 240_000 }, async () => {
    const url = `ws://127.0.0.1:${server.port}${RPC_PATH}?token=${TOKEN}`
    const token = traffic.tokenAddress.toLowerCase() as `0x${string}`

    const viemView = new View()
    const viem = createPublicClient({ transport: webSocket(url) })
    // viem's option types resolve `poll` wrongly under TypeScript 6; at runtime it reads it as documented.
    const subscribe = { poll: false } as unknown as { poll?: true }
    const viemErrors: Error[] = []
    const unwatch = viem.watchEvent({
      ...subscribe,
      address: token,
      onLogs: (batch: Log[]) => batch.forEach((l) => viemView.apply(l)),
      onError: (e) => viemErrors.push(e),
    })

    const ethersView = new View()
    /**
     * ethers 6 drops a `removed: true` log before any listener: it re-routes it to an orphan
     * event whose tag (the whole Log object) never equals the one `log.removedEvent()`
     * registers, so `contract.on` never hears of a reorg. An ethers app that wants
     * retractions reads them from the subscription's frames, as this one does.
     */
    class RetractingProvider extends WebSocketProvider {
      override async _processMessage(message: string): Promise<void> {
        const frame = JSON.parse(message) as {
          method?: string
          params?: { result?: { removed?: boolean; blockHash: string; logIndex: string; blockNumber: string; topics?: string[] } }
        }
        const log = frame.method === 'eth_subscription' ? frame.params?.result : undefined
        if (log?.removed === true && log.topics?.[0] === TRANSFER)
          ethersView.apply({ blockHash: log.blockHash, logIndex: Number(log.logIndex), blockNumber: Number(log.blockNumber), removed: true })
        return super._processMessage(message)
      }
    }
    const ethers = new RetractingProvider(url)
    const contract = new Contract(token, ['event Transfer(address indexed from, address indexed to, uint256 value)'], ethers)
    await contract.on('Transfer', (...args: unknown[]) => {
      const { log } = args.at(-1) as ContractEventPayload
      ethersView.apply({ blockHash: log.blockHash, logIndex: log.index, blockNumber: log.blockNumber, removed: false })
    })

    // Both are subscribed once Tidewatch's watches exist; everything after this block is theirs to see.
    await waitFor('both subscribed', () => viemView.held.size > 0 && ethersView.held.size > 0, 30_000)
    const from = (await head()) + 1

    proxy.startCutting(500, 2_500)
    for (const depth of [1, 3, 8]) {
      await untilHead((await head()) + Math.max(depth, 3))
      await rpc('anvil_reorg', [depth, [[{ from: traffic.accounts[1], to: traffic.accounts[2], value: '0x1' }, 0]]])
    }
    await untilHead((await head()) + 2)
    proxy.stopCutting()
    expect(proxy.cuts).toBeGreaterThan(4)

    // Half-open: the open upstream socket goes silent past the heartbeat deadline while blocks keep coming.
    // Only a socket that is open can go silent: wait out the reconnect of the last cut first.
    await waitFor('connected after the last cut', () => connection.pool.getStatus().state === 'connected', 20_000)
    const reconnectsBefore = connection.pool.getStatus().reconnectCount
    proxy.silenceOpen()
    await untilHead((await head()) + 3)
    await waitFor('heartbeat replaced the silent socket', () => connection.pool.getStatus().reconnectCount > reconnectsBefore, 20_000)

    const end = (await head()) + 1
    await untilHead(end + 1)
    await waitFor('tracker past the end', () => (connection.tracker.cursor?.number ?? 0) > end, 30_000)
    const all = await expectedKeys({ address: token }, from, end)
    const transfers = await expectedKeys({ address: token, topics: [TRANSFER] }, from, end)
    await waitFor('viem converged', () => JSON.stringify(viemView.keysFrom(from, end)) === JSON.stringify(all), 30_000).catch(() => undefined)
    await waitFor('ethers converged', () => JSON.stringify(ethersView.keysFrom(from, end)) === JSON.stringify(transfers), 30_000).catch(() => undefined)

    unwatch()
    await contract.removeAllListeners()
    await ethers.destroy()
    ;(await viem.transport.getRpcClient()).close()

    expect(viemErrors).toEqual([])
    expect(viemView.problems).toEqual([])
    expect(ethersView.problems).toEqual([])
    expect(viemView.keysFrom(from, end)).toEqual(all)
    expect(ethersView.keysFrom(from, end)).toEqual(transfers)
    expect(all.length).toBeGreaterThan(10)
    // Tidewatch saw the reorgs and the drops it had to make good.
    expect(logs.filter((m) => /reorg: \d+ block/.test(m)).length).toBeGreaterThanOrEqual(3)
    expect(logs.some((m) => /heartbeat/i.test(m))).toBe(true)
  })
})

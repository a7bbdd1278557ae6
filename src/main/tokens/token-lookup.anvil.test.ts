/**
 * Token metadata read from a real anvil: the demo's ERC-20 (string symbol), a contract
 * answering symbol() with a bytes32 (as MKR does), one that reverts everything, and an
 * address without code; then cache hits that send no eth_call at all.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPublicClient, http, padHex, stringToHex, toHex, type Hex } from 'viem'
import { waitFor } from '../../../test/helpers/scripted-server'
import { startAnvil, type AnvilProcess } from '../demo/anvil-process'
import { loadDemoTokenArtifact } from '../demo/traffic-generator'
import { RequestTimeoutError } from '../rpc/json-rpc-client'
import { openDatabase, type Db } from '../store/database'
import { TokenMetadataStore } from '../store/token-metadata-store'
import { ConnectionPool } from '../upstream/connection-pool'
import type { TokenMetadata } from '../../shared/contract'
import type { RpcRequest } from './read-token-metadata'
import { TokenLookup } from './token-lookup'

const CONNECTION = 1
const SYMBOL = '0x95d89b41'
const DECIMALS = '0x313ce567'

/**
 * Runtime code that answers each 4-byte selector with fixed return data and reverts on
 * anything else: dispatch on calldata[0:4], CODECOPY the answer into memory, RETURN it.
 */
function answeringContract(answers: Record<string, Hex>): Hex {
  const entries = Object.entries(answers)
  const hex2 = (n: number): string => n.toString(16).padStart(4, '0')
  const head = '60003560e01c' // PUSH1 0 CALLDATALOAD PUSH1 224 SHR: the selector
  const bodiesAt = 6 + 11 * entries.length + 4
  const dataAt = bodiesAt + 16 * entries.length
  let dispatch = ''
  let bodies = ''
  let data = ''
  entries.forEach(([selector, answer], index) => {
    const bytes = answer.slice(2)
    const length = bytes.length / 2
    const offset = dataAt + data.length / 2
    // DUP1 PUSH4 selector EQ PUSH2 body JUMPI
    dispatch += `8063${selector.slice(2)}1461${hex2(bodiesAt + 16 * index)}57`
    // JUMPDEST PUSH2 len PUSH2 offset PUSH1 0 CODECOPY PUSH2 len PUSH1 0 RETURN
    bodies += `5b61${hex2(length)}61${hex2(offset)}60003961${hex2(length)}6000f3`
    data += bytes
  })
  const fallback = '600080fd' // PUSH1 0 DUP1 REVERT
  return `0x${head}${dispatch}${fallback}${bodies}${data}`
}

let anvil: AnvilProcess
let pool: ConnectionPool
let dataDir: string
let db: Db
let demoToken: string
const bytes32Token = '0x00000000000000000000000000000000000b3232'
const revertingContract = '0x000000000000000000000000000000000000dead'
const noCode = '0x1111111111111111111111111111111111111111'
const ethCalls: string[] = []

/** The pool's request, counting eth_calls by target. */
const countingRequest: RpcRequest = (method, params) => {
  if (method === 'eth_call') ethCalls.push((params[0] as { to: string }).to)
  return pool.request(method, params, 10_000)
}

function newLookup(onResolved: (tokens: TokenMetadata[]) => void = () => undefined, request: RpcRequest = countingRequest) {
  return new TokenLookup({ store: new TokenMetadataStore(db), requester: () => request, onResolved })
}

/** Looks the addresses up and waits for them to be announced. */
async function resolve(lookup: TokenLookup, addresses: string[], received: TokenMetadata[]): Promise<TokenMetadata[]> {
  lookup.lookup(CONNECTION, addresses)
  await lookup.idle()
  return waitFor('tokens announced', () => addresses.every((a) => received.some((t) => t.address === a.toLowerCase())) && received)
}

beforeAll(async () => {
  anvil = await startAnvil()
  pool = new ConnectionPool({ url: anvil.wsUrl })
  pool.start()
  const [deployer] = await pool.request<string[]>('eth_accounts')
  const artifact = await loadDemoTokenArtifact()
  const hash = await pool.request<Hex>('eth_sendTransaction', [{ from: deployer, data: artifact.bytecode }])
  const receipt = await createPublicClient({ transport: http(anvil.httpUrl) }).waitForTransactionReceipt({ hash, pollingInterval: 50 })
  demoToken = receipt.contractAddress!
  await pool.request('anvil_setCode', [
    bytes32Token,
    answeringContract({ [SYMBOL]: padHex(stringToHex('MKR'), { dir: 'right', size: 32 }), [DECIMALS]: toHex(18, { size: 32 }) }),
  ])
  await pool.request('anvil_setCode', [revertingContract, answeringContract({})])
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-tokens-'))
  db = openDatabase(path.join(dataDir, 'tokens.sqlite'))
  db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (?, 'anvil', 'user', '', '', 0)").run(CONNECTION)
})

afterAll(async () => {
  await pool?.stop()
  await anvil?.stop()
  db?.close()
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
})

describe('token metadata from anvil', () => {
  it('reads a string symbol and decimals once, then answers from the store without an eth_call', async () => {
    const received: TokenMetadata[] = []
    const lookup = newLookup((tokens) => received.push(...tokens))
    expect(lookup.lookup(CONNECTION, [demoToken])).toEqual([])
    const [token] = await resolve(lookup, [demoToken], received)
    expect(token).toEqual({ connectionId: CONNECTION, address: demoToken.toLowerCase(), symbol: 'TWD', decimals: 18 })
    expect(ethCalls.filter((to) => to === demoToken)).toHaveLength(2)

    // Asked again (any case), and asked after a restart: known at once, nothing sent.
    ethCalls.length = 0
    expect(lookup.lookup(CONNECTION, [demoToken.toUpperCase().replace('0X', '0x')])).toEqual([token])
    expect(newLookup().lookup(CONNECTION, [demoToken])).toEqual([token])
    await lookup.idle()
    expect(ethCalls).toEqual([])
  })

  it('reads a bytes32 symbol (MKR-style)', async () => {
    const received: TokenMetadata[] = []
    const [token] = await resolve(
      newLookup((tokens) => received.push(...tokens)),
      [bytes32Token],
      received,
    )
    expect(token).toMatchObject({ symbol: 'MKR', decimals: 18 })
  })

  it('keeps a contract that reverts, and an address without code, as "no metadata" without asking again', async () => {
    const received: TokenMetadata[] = []
    const lookup = newLookup((tokens) => received.push(...tokens))
    const tokens = await resolve(lookup, [revertingContract, noCode], received)
    expect(tokens).toEqual(
      expect.arrayContaining([
        { connectionId: CONNECTION, address: revertingContract, symbol: null, decimals: null },
        { connectionId: CONNECTION, address: noCode, symbol: null, decimals: null },
      ]),
    )
    ethCalls.length = 0
    expect(lookup.lookup(CONNECTION, [revertingContract, noCode])).toHaveLength(2)
    expect(ethCalls).toEqual([])
  })

  it('does not keep a failure that may pass (a timeout): tries again by itself after a pause, a few times', async () => {
    const address = '0x2222222222222222222222222222222222222222'
    let calls = 0
    const timingOut: RpcRequest = async () => {
      calls += 1
      throw new RequestTimeoutError('eth_call', 10)
    }
    const received: TokenMetadata[] = []
    let clock = 1_000_000
    const lookup = new TokenLookup({
      store: new TokenMetadataStore(db),
      requester: () => timingOut,
      onResolved: (t) => received.push(...t),
      retryAfterMs: 200,
      maxAttempts: 2,
      now: () => clock,
    })
    lookup.lookup(CONNECTION, [address])
    await lookup.idle()
    expect(calls).toBe(2)
    expect(new TokenMetadataStore(db).get(CONNECTION, address)).toBeUndefined()
    // Asked again within the pause: not read again.
    lookup.lookup(CONNECTION, [address])
    await lookup.idle()
    expect(calls).toBe(2)
    // After the pause it reads again on its own; then it has had its attempts.
    await waitFor('second attempt', () => calls === 4, 5_000)
    await lookup.idle()
    // Well past the pause, asked again: the attempts are spent.
    clock += 10_000
    lookup.lookup(CONNECTION, [address])
    await lookup.idle()
    expect(calls).toBe(4)
    expect(received).toEqual([])
    lookup.stop()
  })

  it('waits for a connection that is down and reads once it is up', async () => {
    let connected = false
    const received: TokenMetadata[] = []
    const lookup = new TokenLookup({
      store: new TokenMetadataStore(db),
      requester: () => (connected ? countingRequest : null),
      onResolved: (t) => received.push(...t),
    })
    const address = '0x4444444444444444444444444444444444444444'
    lookup.lookup(CONNECTION, [address])
    await lookup.idle()
    expect(received).toEqual([])
    connected = true
    lookup.resume(CONNECTION)
    await waitFor('read after resume', () => received.length === 1, 5_000)
    expect(received[0]).toMatchObject({ address, symbol: null, decimals: null })
  })

  it('reads at most `concurrency` tokens at a time', async () => {
    let inFlight = 0
    let most = 0
    const measuring: RpcRequest = async (method, params) => {
      inFlight += 1
      most = Math.max(most, inFlight)
      try {
        return await pool.request(method, params, 10_000)
      } finally {
        inFlight -= 1
      }
    }
    const addresses = Array.from({ length: 12 }, (_, i) => `0x${(0x3000 + i).toString(16).padStart(40, '0')}`)
    const lookup = new TokenLookup({ store: new TokenMetadataStore(db), requester: () => measuring, onResolved: () => undefined, concurrency: 2 })
    lookup.lookup(CONNECTION, addresses)
    await lookup.idle()
    // Two tokens at a time, each with its symbol() and decimals() calls side by side.
    expect(most).toBeLessThanOrEqual(4)
    expect(most).toBeGreaterThan(1)
    expect(addresses.every((a) => new TokenMetadataStore(db).get(CONNECTION, a))).toBe(true)
  })
})

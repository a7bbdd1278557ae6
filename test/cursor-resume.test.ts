/**
 * Resume by cursor end to end (PROTOCOL.md section 1, rule 4), with a real anvil behind a
 * fault proxy and a headless Tidewatch process: a client reads logs and heads to a progress
 * cursor and disconnects; `anvil_reorg` replaces the blocks it saw; it comes back with the
 * cursors. Once with Tidewatch up the whole time, once with Tidewatch `kill -9`'d and
 * restarted on the same data dir while the client is away. What the client holds (add on
 * removed: false, delete on removed: true) must equal eth_getLogs and eth_getBlockByNumber
 * exactly, raw objects included, with nothing delivered twice.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { encodeFunctionData, parseAbi } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAnvil, type AnvilProcess } from '../src/main/demo/anvil-process'
import { startTrafficGenerator, type TrafficGenerator } from '../src/main/demo/traffic-generator'
import { startFaultProxy } from './helpers/fault-proxy'
import { startServe, type ServeProcess } from './helpers/headless-process'
import { logView, StreamClient, type StreamMessage } from './helpers/stream-client'
import { httpRpc } from './helpers/node-rpc'

let anvil: AnvilProcess
let traffic: TrafficGenerator
const dirs: string[] = []

beforeAll(async () => {
  anvil = await startAnvil({ blockTime: 1 })
  traffic = await startTrafficGenerator({ httpUrl: anvil.httpUrl, onError: () => undefined })
})
afterAll(async () => {
  await traffic?.stop()
  await anvil?.stop()
  dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true }))
})

const rpc = <T>(method: string, params: unknown[] = []): Promise<T> => httpRpc<T>(anvil.httpUrl, method, params)
const head = async () => Number(await rpc<string>('eth_blockNumber'))
const hex = (n: number) => `0x${n.toString(16)}`

/** A client's heads after applying removals: block number -> the head message data. */
function headView(messages: StreamMessage[]): Map<number, StreamMessage['data']> {
  const byHash = new Map<string, StreamMessage['data']>()
  for (const m of messages) {
    if (m.type !== 'head') continue
    const hash = String(m.data.block_hash)
    if (m.data.removed) {
      if (!byHash.delete(hash)) throw new Error(`removed head ${hash} was never delivered`)
    } else {
      if (byHash.has(hash)) throw new Error(`head ${hash} delivered twice`)
      byHash.set(hash, m.data)
    }
  }
  const byNumber = new Map<number, StreamMessage['data']>()
  for (const data of byHash.values()) {
    const n = Number(data.block_number)
    if (byNumber.has(n)) throw new Error(`two heads kept at block ${n}`)
    byNumber.set(n, data)
  }
  return byNumber
}

const lastProgress = (messages: StreamMessage[]) =>
  messages.filter((m) => m.type === 'progress').at(-1)!.data as { block_number: number; block_hash: string; cursor: string }

describe('resume by cursor across a reorg while the client is away', () => {
  for (const restart of [false, true]) {
    it(restart ? 'with Tidewatch killed (-9) and restarted meanwhile' : 'with Tidewatch up the whole time', { timeout: 180_000 }, async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-cursor-'))
      dirs.push(dataDir)
      const proxy = await startFaultProxy(anvil.port)
      const args = ['--rpc', `ws://127.0.0.1:${proxy.port}`]
      let serve: ServeProcess = await startServe(args, dataDir)
      const token = traffic.tokenAddress.toLowerCase()
      proxy.startCutting(1_500, 4_000)

      let client = await StreamClient.connect(serve.baseUrl, serve.token)
      const from = (await head()) - 2
      client.send({ type: 'logs', req_id: 'logs', start_block: from, listen: true, with_progress: 1, data: { address: token } })
      client.send({ type: 'newHeads', req_id: 'heads', start_block: from, listen: true, with_progress: 1, data: {} })
      await client.until(
        'six blocks of each',
        (m) => ['logs', 'heads'].every((id) => m.filter((x) => x.req_id === id && x.type === 'progress').length >= 6),
        60_000,
      )
      client.close()
      // What the client fully processed: everything up to its last progress of each request.
      const seen = { logs: lastProgress(client.of('logs')), heads: lastProgress(client.of('heads')) }
      const kept = (id: 'logs' | 'heads') =>
        client.of(id).filter((m) => (m.type !== 'log' && m.type !== 'head') || Number(m.data.block_number) <= seen[id].block_number)
      const before = { logs: kept('logs'), heads: kept('heads') }
      if (restart) expect(await serve.kill('SIGKILL')).toBe(null)

      // Away: every block from two below the cursor up to the head is replaced, the new branch with a transfer of its own.
      const cursorBlock = Math.min(seen.logs.block_number, seen.heads.block_number)
      const depth = (await head()) - (cursorBlock - 2) + 1
      const transfer = encodeFunctionData({ abi: parseAbi(['function transfer(address to, uint256 amount) returns (bool)']), args: [traffic.accounts[3]!, 7n] })
      await rpc('anvil_reorg', [depth, [[{ from: traffic.accounts[1], to: token, data: transfer }, 0]]])

      if (restart) serve = await startServe(args, dataDir)
      client = await StreamClient.connect(serve.baseUrl, serve.token)
      client.send({ type: 'logs', req_id: 'logs', cursor: seen.logs.cursor, listen: true, with_progress: 1, data: { address: token } })
      client.send({ type: 'newHeads', req_id: 'heads', cursor: seen.heads.cursor, listen: true, with_progress: 1, data: {} })
      const end = (await head()) + 2
      await client
        .until(
          'caught up',
          (m) => ['logs', 'heads'].every((id) => m.some((x) => x.req_id === id && x.type === 'progress' && Number(x.data.block_number) >= end)),
          60_000,
        )
        .catch((error: unknown) => {
          throw new Error(`${String(error)}\nlast messages: ${JSON.stringify(client.messages.slice(-3))}\nserve output:\n${serve.output().slice(-3000)}`)
        })
      proxy.stopCutting()
      const after = { logs: client.of('logs'), heads: client.of('heads') }
      expect([...after.logs, ...after.heads].filter((m) => m.type === 'error')).toEqual([])
      // The reorg reached blocks the client had seen, and it was told.
      expect(after.logs.filter((m) => m.type === 'log' && m.data.removed === true).length).toBeGreaterThan(0)
      expect(after.heads.filter((m) => m.type === 'head' && m.data.removed === true).length).toBeGreaterThanOrEqual(3)

      // Logs: exactly eth_getLogs over the range, raw objects deep-equal, nothing twice (logView throws on that).
      const upTo = (m: StreamMessage) => (m.type !== 'log' && m.type !== 'head') || Number(m.data.block_number) <= end
      const view = logView([...before.logs, ...after.logs].filter(upTo))
      const expected = await rpc<Record<string, unknown>[]>('eth_getLogs', [{ address: token, fromBlock: hex(from), toBlock: hex(end) }])
      expect(expected.length).toBeGreaterThan(5)
      expect([...view.keys()].sort()).toEqual(expected.map((l) => `${String(l.blockHash)}:${Number(l.logIndex)}`).sort())
      for (const log of expected) expect(view.get(`${String(log.blockHash)}:${Number(log.logIndex)}`)!.log).toEqual(log)

      // Heads: one per block, the canonical one, its header as the node has it.
      const heads = headView([...before.heads, ...after.heads].filter(upTo))
      expect([...heads.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: end - from + 1 }, (_, i) => from + i))
      for (let n = from; n <= end; n++) {
        const { transactions: _t, uncles: _u, withdrawals: _w, ...header } = await rpc<Record<string, unknown>>('eth_getBlockByNumber', [hex(n), false])
        expect(heads.get(n)!.header, `block ${n}`).toEqual(header)
      }

      client.close()
      expect(await serve.kill('SIGTERM')).toBe(0)
      await proxy.close()
    })
  }
})

/**
 * The never-miss promise end to end, with a real anvil, real SQLite files and a headless
 * Tidewatch process: connections cut at random by a fault proxy, a kill -9 and restart,
 * and a stream client that reconnects with start_block = last progress + 1. What the store
 * holds and what clients received must equal eth_getLogs, exactly.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAnvil, type AnvilProcess } from '../src/main/demo/anvil-process'
import { startTrafficGenerator, type TrafficGenerator } from '../src/main/demo/traffic-generator'
import { startFaultProxy } from './helpers/fault-proxy'
import { startServe } from './helpers/headless-process'
import { logView, StreamClient } from './helpers/stream-client'
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

const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-nevermiss-'))
  dirs.push(dir)
  return dir
}

const rpc = <T>(method: string, params: unknown[] = []): Promise<T> => httpRpc<T>(anvil.httpUrl, method, params)
const head = async () => Number(await rpc<string>('eth_blockNumber'))
const logKeys = (logs: { blockHash: string; logIndex: string }[]) => logs.map((l) => `${l.blockHash}:${Number(l.logIndex)}`).sort()

/** The tracker's store: canonical blocks contiguous from the first one, logs equal to eth_getLogs. */
async function checkStore(dataDir: string): Promise<{ first: number; last: number }> {
  const db = new Database(path.join(dataDir, 'tidewatch.sqlite'), { readonly: true })
  try {
    const cursor = db.prepare('SELECT first_block AS first, number AS last FROM chain_cursor').get() as { first: number; last: number }
    const numbers = (db.prepare('SELECT number FROM chain_blocks WHERE canonical = 1 ORDER BY number').all() as { number: number }[]).map((r) => r.number)
    expect(numbers).toEqual(Array.from({ length: cursor.last - cursor.first + 1 }, (_, i) => cursor.first + i))
    const stored = db.prepare('SELECT block_hash AS blockHash, log_index AS logIndex FROM chain_logs WHERE canonical = 1').all() as {
      blockHash: string
      logIndex: number
    }[]
    const expected = await rpc<{ blockHash: string; logIndex: string }[]>('eth_getLogs', [
      { fromBlock: `0x${cursor.first.toString(16)}`, toBlock: `0x${cursor.last.toString(16)}` },
    ])
    expect(stored.map((l) => `${l.blockHash}:${l.logIndex}`).sort()).toEqual(logKeys(expected))
    expect(expected.length).toBeGreaterThan(0)
    return cursor
  } finally {
    db.close()
  }
}

describe('never miss a beat', () => {
  it('loses and repeats nothing while a fault proxy cuts the upstream connection at random', { timeout: 180_000 }, async () => {
    const proxy = await startFaultProxy(anvil.port)
    const dataDir = tempDir()
    const serve = await startServe(['--rpc', `ws://127.0.0.1:${proxy.port}`], dataDir)
    const live = await StreamClient.connect(serve.baseUrl, serve.token)
    const from = await head()
    live.send({ type: 'logs', req_id: 'live', start_block: from, listen: true, with_progress: 1, data: {} })
    await live.until('listening', (m) => m.some((x) => x.req_id === 'live' && x.type === 'listening'))

    const t0 = Date.now()
    const phase = (name: string) => console.log(`[fault proxy] ${name} at ${Date.now() - t0} ms`)
    proxy.startCutting(300, 1500)
    const cutUntil = (await head()) + 12
    while ((await head()) < cutUntil) await new Promise((resolve) => setTimeout(resolve, 250))
    proxy.stopCutting()
    phase('cuts stopped')
    expect(proxy.cuts).toBeGreaterThan(4)

    const end = await head()
    await live
      .until('live caught up', (m) => m.some((x) => x.req_id === 'live' && x.type === 'progress' && Number(x.data.block_number) >= end), 60_000)
      .catch((error: unknown) => {
        throw new Error(`${String(error)}\nlast messages: ${JSON.stringify(live.messages.slice(-3))}\nserve output:\n${serve.output().slice(-3000)}`)
      })
    const expectedLive = await rpc<{ blockHash: string; logIndex: string }[]>('eth_getLogs', [
      { fromBlock: `0x${from.toString(16)}`, toBlock: `0x${end.toString(16)}` },
    ])
    const liveView = [...logView(live.of('live')).values()].filter((l) => Number(l.block_number) <= end)
    expect(liveView.map((l) => `${String(l.block_hash)}:${String(l.log_index)}`).sort()).toEqual(logKeys(expectedLive))

    // A history client over everything: from genesis, no listening.
    phase('live caught up')
    const history = await StreamClient.connect(serve.baseUrl, serve.token)
    history.send({ type: 'logs', req_id: 'all', start_block: 0, listen: false, data: {} })
    await history
      .until('complete', (m) => m.some((x) => x.req_id === 'all' && (x.type === 'complete' || x.type === 'error')), 60_000)
      .catch((error: unknown) => {
        throw new Error(`${String(error)}\nlast messages: ${JSON.stringify(history.messages.slice(-3))}\nserve output:\n${serve.output().slice(-3000)}`)
      })
    expect(history.of('all').filter((m) => m.type === 'error')).toEqual([])
    const H = Math.max(
      ...history
        .of('all')
        .filter((m) => m.type === 'log')
        .map((m) => Number(m.data.block_number)),
    )
    const all = await rpc<{ blockHash: string; logIndex: string; blockNumber: string }[]>('eth_getLogs', [{ fromBlock: '0x0', toBlock: `0x${H.toString(16)}` }])
    expect([...logView(history.of('all')).keys()].sort()).toEqual(logKeys(all))

    phase('history complete')
    await checkStore(dataDir)
    live.close()
    history.close()
    expect(await serve.kill('SIGTERM')).toBe(0)
    expect(serve.output()).toMatch(/reconnecting/)
    await proxy.close()
  })

  it('fills the gap after kill -9 and a restart; a client resuming at last progress + 1 sees everything once', { timeout: 180_000 }, async () => {
    const dataDir = tempDir()
    let serve = await startServe(['--rpc', anvil.wsUrl], dataDir)
    let client = await StreamClient.connect(serve.baseUrl, serve.token)
    const from = (await head()) - 3
    client.send({ type: 'logs', req_id: 'r', start_block: from, listen: true, with_progress: 1, data: {} })
    await client.until('a few blocks', (m) => m.filter((x) => x.type === 'progress').length >= 6, 30_000)
    const received = [...client.of('r')]
    client.close()
    expect(await serve.kill('SIGKILL')).toBe(null)

    // Blocks keep coming while Tidewatch is down.
    const downAt = await head()
    while ((await head()) < downAt + 4) await new Promise((resolve) => setTimeout(resolve, 250))

    serve = await startServe(['--rpc', anvil.wsUrl], dataDir)
    const lastProgress = Math.max(...received.filter((m) => m.type === 'progress').map((m) => Number(m.data.block_number)))
    // Keep only what the client had fully processed: everything up to its last progress.
    const kept = received.filter((m) => m.type !== 'log' || Number(m.data.block_number) <= lastProgress)
    client = await StreamClient.connect(serve.baseUrl, serve.token)
    client.send({ type: 'logs', req_id: 'r', start_block: lastProgress + 1, listen: true, with_progress: 1, data: {} })
    const end = (await head()) + 2
    await client.until('caught up after restart', (m) => m.some((x) => x.type === 'progress' && Number(x.data.block_number) >= end), 60_000)
    const combined = [...kept, ...client.of('r')].filter((m) => m.type !== 'log' || Number(m.data.block_number) <= end)
    const expected = await rpc<{ blockHash: string; logIndex: string }[]>('eth_getLogs', [
      { fromBlock: `0x${from.toString(16)}`, toBlock: `0x${end.toString(16)}` },
    ])
    expect([...logView(combined).keys()].sort()).toEqual(logKeys(expected))

    const cursor = await checkStore(dataDir)
    expect(cursor.last).toBeGreaterThan(downAt + 3)
    client.close()
    expect(await serve.kill('SIGTERM')).toBe(0)
  })
})

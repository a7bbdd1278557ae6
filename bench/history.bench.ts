/**
 * `npm run bench:history`: history through a `logs` watch with `start_block: -N`, from
 * `eth_getLogs` to the store, beside a plain viem `getLogs` loop over the same range.
 *
 * A local anvil (its own process) gets a small contract compiled here with solc
 * (`emitTransfers(first, count)`: ERC-20 `Transfer(address indexed from, address indexed to,
 * uint256 value)` events numbered first … first + count − 1, `from` = address(n + 1)) and
 * enough transactions to hold BENCH_HISTORY_LOGS matching logs, BENCH_HISTORY_LOGS_PER_BLOCK
 * a block in transactions of BENCH_HISTORY_LOGS_PER_TX, one block after another. Log n of the
 * chain (in block and log index order) carries value n: the store is checked against that.
 *
 * 1. Tidewatch: the whole Engine, a connection to anvil's WebSocket, and a `logs`
 *    subscription for the contract's Transfer events with watch options `startBlock: -N`, N
 *    the chain's height: every block is history. Below the tracker's first block (the head
 *    when the connection came up) the watch serves from `eth_getLogs` ranges
 *    (tracker-watch.ts `fromUpstream`, backfill-range.ts halving what the node refuses or
 *    what is too large for Tidewatch); capture stores each log once in chain_logs with an
 *    events row pointing at it. Timed from `subscriptions.create` to the engine's
 *    `eventsAppended` for the last log. Afterwards the store is read back: one row per log,
 *    distinct (block_hash, log_index), values 0 … N − 1 in chain order.
 * 2. viem: `createPublicClient` on the same anvil, the same transport, and a loop of
 *    `getLogs({ address, event, fromBlock, toBlock })` over the same blocks in ranges of the
 *    size Tidewatch settled on (the size of most of its successful ranges), counting logs.
 * 3. Bare client: the same ranges over one `ws` socket, each answer JSON.parse'd and counted:
 *    what anvil and the transport allow.
 *
 * Environment: BENCH_HISTORY_LOGS (default 1,000,000; rounded up to whole blocks),
 * BENCH_HISTORY_LOGS_PER_BLOCK (100), BENCH_HISTORY_LOGS_PER_TX (25), BENCH_HISTORY_BLOCK_STRIDE (1:
 * logs in every block; k: in every k-th block, the others empty; BENCHMARKS.md only with 1),
 * BENCH_HISTORY_TRANSPORT=ws|http (ws: the connection has only anvil's WebSocket URL, and viem
 * uses `webSocket`; http: the connection has its HTTP URL too, which Tidewatch then uses for
 * plain requests, and viem uses `http`), BENCH_TIMEOUT_MS (1,200,000 for the Tidewatch
 * phase), BENCH_PROFILE=1 (a CPU profile of the Tidewatch phase into bench/.profiles/;
 * BENCHMARKS.md is then left alone), BENCH_WRITE=0 (do not touch BENCHMARKS.md),
 * BENCH_VERBOSE=1 (print the engine's log). BENCHMARKS.md is written only at the full size.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { createPublicClient, encodeFunctionData, http, parseAbiItem, toEventSelector, webSocket, type Abi, type Address, type Hex } from 'viem'
import WebSocket from 'ws'
import { expect, test } from 'vitest'
import { startAnvil, type AnvilProcess } from '../src/main/demo/anvil-process'
import { DATABASE_FILE, Engine } from '../src/main/engine/engine'
import { SqliteChainStore } from '../src/main/store/sqlite-chain-store'
import { EventStore } from '../src/main/store/event-store'
import type { SqliteWriter } from '../src/main/store/sqlite-writer'
import { createKeyFileSecretBox } from '../src/main/store/secret-box'
import { ConnectionPool } from '../src/main/upstream/connection-pool'
import { subscriptionSpecSchema } from '../src/shared/subscription-params'
import { writeSection } from './benchmarks-md'
import { cpuProfiler } from './engine-path'
import { cpuBusy, envInt, gitCommit, machine, versionOf } from './run-context'

const FULL_LOGS = 1_000_000
const LOGS_PER_BLOCK = envInt('BENCH_HISTORY_LOGS_PER_BLOCK', 100)
const LOGS_PER_TX = envInt('BENCH_HISTORY_LOGS_PER_TX', 25)
const TXS_PER_BLOCK = Math.ceil(LOGS_PER_BLOCK / LOGS_PER_TX)
const SEEDED_BLOCKS = Math.ceil(envInt('BENCH_HISTORY_LOGS', FULL_LOGS) / LOGS_PER_BLOCK)
const LOGS = SEEDED_BLOCKS * LOGS_PER_BLOCK
/** Every STRIDE-th block holds logs, the ones between are empty (a sparser history); 1: every block. */
const STRIDE = Math.max(1, envInt('BENCH_HISTORY_BLOCK_STRIDE', 1))
const TRANSPORT = process.env.BENCH_HISTORY_TRANSPORT === 'http' ? 'http' : 'ws'
const TIMEOUT_MS = envInt('BENCH_TIMEOUT_MS', 1_200_000)
const PROFILE = Boolean(process.env.BENCH_PROFILE && process.env.BENCH_PROFILE !== '0')
const VERBOSE = process.env.BENCH_VERBOSE === '1'
const FULL_SIZE = LOGS >= FULL_LOGS && STRIDE === 1
const WRITE = FULL_SIZE && !PROFILE && process.env.BENCH_WRITE !== '0'
/** anvil's block gas limit: far above what a block of transfers needs. */
const GAS_LIMIT = 1_000_000_000

const benchDir = path.dirname(fileURLToPath(import.meta.url))
const int = (n: number): string => Math.round(n).toLocaleString('en-US')
const pct = (n: number): string => `${n.toFixed(1)} %`
const hex = (n: number | bigint): Hex => `0x${n.toString(16)}`
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const TRANSFER_EVENT = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)')
const TRANSFER_TOPIC = toEventSelector(TRANSFER_EVENT)

const EMITTER_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// Emits ERC-20 Transfer events numbered first .. first + count - 1: value n, from address(n + 1), to the caller.
contract TransferEmitter {
    event Transfer(address indexed from, address indexed to, uint256 value);

    function emitTransfers(uint256 first, uint256 count) external {
        unchecked {
            for (uint256 n = first; n < first + count; n++) emit Transfer(address(uint160(n + 1)), msg.sender, n);
        }
    }
}
`

/* ------------------------------------------------------------------ chain */

function compileEmitter(): { abi: Abi; bytecode: Hex } {
  const input = {
    language: 'Solidity',
    sources: { 'TransferEmitter.sol': { content: EMITTER_SOURCE } },
    settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: 'cancun', outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
  }
  // In a child process: solc's WebAssembly heap, once grown, would stay in this process's RSS.
  const compiled = execFileSync(process.execPath, ['-e', "process.stdout.write(require('solc').compile(require('node:fs').readFileSync(0, 'utf8')))"], {
    cwd: path.join(benchDir, '..'),
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  })
  const output = JSON.parse(compiled) as {
    errors?: { severity: string; formattedMessage: string }[]
    contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>
  }
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`)
  const contract = output.contracts?.['TransferEmitter.sol']?.TransferEmitter
  if (!contract) throw new Error('solc produced no TransferEmitter')
  return { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` }
}

interface RpcAnswer<T> {
  id: number
  result?: T
  error?: { code: number; message: string }
}

/** JSON-RPC over anvil's HTTP endpoint, one call or a batch (anvil answers a batch's calls concurrently). */
async function rpcBatch<T>(anvil: AnvilProcess, calls: { method: string; params: unknown[] }[]): Promise<T[]> {
  const response = await fetch(anvil.httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(calls.map((call, id) => ({ jsonrpc: '2.0', id, ...call }))),
  })
  const answers = (await response.json()) as RpcAnswer<T>[]
  return calls.map((call, id) => {
    const answer = answers.find((a) => a.id === id)
    if (!answer || answer.error) throw new Error(`${call.method}: ${answer?.error?.message ?? 'no answer'}`)
    return answer.result as T
  })
}

const rpc = async <T>(anvil: AnvilProcess, method: string, params: unknown[] = []): Promise<T> => (await rpcBatch<T>(anvil, [{ method, params }]))[0]!

interface Seeded {
  address: Address
  /** The chain's height once seeded (the last seeded block). */
  head: number
  firstLogBlock: number
  seconds: number
  transactions: number
}

/**
 * Deploys the emitter, then mines SEEDED_BLOCKS blocks of LOGS_PER_BLOCK Transfer logs, log n
 * of the chain carrying value n, each after STRIDE − 1 empty blocks. anvil runs with
 * --no-mining: each block's transactions go in one JSON-RPC batch (nonces set here), then evm_mine.
 */
async function seed(anvil: AnvilProcess): Promise<Seeded> {
  const started = performance.now()
  const { abi, bytecode } = compileEmitter()
  const [from] = await rpc<Address[]>(anvil, 'eth_accounts')
  let nonce = Number(await rpc<Hex>(anvil, 'eth_getTransactionCount', [from, 'pending']))
  const deployHash = await rpc<Hex>(anvil, 'eth_sendTransaction', [{ from, data: bytecode, gas: hex(1_000_000), nonce: hex(nonce++) }])
  await rpc(anvil, 'evm_mine')
  const receipt = await rpc<{ contractAddress: Address | null; status: Hex }>(anvil, 'eth_getTransactionReceipt', [deployHash])
  if (!receipt.contractAddress || receipt.status !== '0x1') throw new Error('the emitter was not deployed')
  const address = receipt.contractAddress.toLowerCase() as Address
  const firstLogBlock = Number(await rpc<Hex>(anvil, 'eth_blockNumber')) + STRIDE
  // Gas well above what a transfer costs (about 2,000 each here).
  const gas = hex(60_000 + 5_000 * LOGS_PER_TX)
  let next = 0
  let transactions = 0
  for (let block = 0; block < SEEDED_BLOCKS; block++) {
    if (STRIDE > 1) await rpc(anvil, 'anvil_mine', [hex(STRIDE - 1)])
    const calls: { method: string; params: unknown[] }[] = []
    for (let tx = 0; tx < TXS_PER_BLOCK; tx++) {
      const count = Math.min(LOGS_PER_TX, LOGS_PER_BLOCK - tx * LOGS_PER_TX)
      const data = encodeFunctionData({ abi, functionName: 'emitTransfers', args: [BigInt(next), BigInt(count)] })
      calls.push({ method: 'eth_sendTransaction', params: [{ from, to: address, data, gas, nonce: hex(nonce++) }] })
      next += count
    }
    await rpcBatch(anvil, calls)
    await rpc(anvil, 'evm_mine')
    transactions += calls.length
    if (block % 1_000 === 999) console.log(`  seeded ${int(block + 1)} of ${int(SEEDED_BLOCKS)} blocks`)
  }
  const head = Number(await rpc<Hex>(anvil, 'eth_blockNumber'))
  const expectedHead = firstLogBlock + (SEEDED_BLOCKS - 1) * STRIDE
  if (head !== expectedHead) throw new Error(`seeding: the chain is at ${head}, not ${expectedHead}`)
  // Every transaction mined and succeeded: the last block's receipts, and the sender's nonce.
  const last = await rpc<{ transactions: Hex[] }>(anvil, 'eth_getBlockByNumber', [hex(head), false])
  const receipts = await rpcBatch<{ status: Hex; logs: unknown[] }>(
    anvil,
    last.transactions.map((hash) => ({ method: 'eth_getTransactionReceipt', params: [hash] })),
  )
  const lastLogs = receipts.reduce((sum, r) => sum + (r.status === '0x1' ? r.logs.length : 0), 0)
  if (last.transactions.length !== TXS_PER_BLOCK || lastLogs !== LOGS_PER_BLOCK) throw new Error(`seeding: the last block holds ${lastLogs} logs`)
  if (Number(await rpc<Hex>(anvil, 'eth_getTransactionCount', [from, 'latest'])) !== nonce) throw new Error('seeding: not every transaction was mined')
  return { address, head, firstLogBlock, seconds: (performance.now() - started) / 1000, transactions }
}

/* ------------------------------------------------------------------ meters */

const procStatus = (field: string): number | null => {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync('/proc/self/status', 'utf8'))
    return match ? Number(match[1]) * 1024 : null
  } catch {
    return null
  }
}

/**
 * Peak RSS over a phase: the kernel's high-water mark (VmHWM), reset at the start through
 * /proc/self/clear_refs, where Linux allows it; else RSS sampled every 100 ms.
 */
function rssMeter(): { stop(): { startMb: number; peakMb: number; how: string } } {
  const start = process.memoryUsage.rss()
  let sampled = start
  const timer = setInterval(() => (sampled = Math.max(sampled, process.memoryUsage.rss())), 100)
  let kernel = false
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5')
    kernel = procStatus('VmHWM') !== null
  } catch {
    // Not Linux, or not allowed: the samples stand.
  }
  return {
    stop() {
      clearInterval(timer)
      sampled = Math.max(sampled, process.memoryUsage.rss())
      const hwm = kernel ? procStatus('VmHWM') : null
      return hwm !== null
        ? { startMb: start / 2 ** 20, peakMb: hwm / 2 ** 20, how: 'the kernel’s high-water mark VmHWM, reset at the start of the phase' }
        : { startMb: start / 2 ** 20, peakMb: sampled / 2 ** 20, how: '`process.memoryUsage.rss()` sampled every 100 ms' }
    },
  }
}

/** RSS of another process (anvil), from /proc; null where that cannot be read. */
function rssOf(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : null
  } catch {
    return null
  }
}

/** CPU time of another process (anvil), from /proc, in ms; null where that cannot be read. */
function cpuMsOf(pid: number): number | null {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 a second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return null
  }
}

/** Wall time spent in methods of the real classes, measured around the real (sync or async) methods. */
function methodMeter(targets: [label: string, proto: object, method: string][]): { stop(): Map<string, number> } {
  const spent = new Map<string, number>()
  const restore: (() => void)[] = []
  for (const [label, proto, method] of targets) {
    const target = proto as Record<string, (...args: unknown[]) => unknown>
    const original = target[method]!
    spent.set(label, 0)
    target[method] = function (this: unknown, ...args: unknown[]): unknown {
      const started = performance.now()
      const add = () => spent.set(label, spent.get(label)! + performance.now() - started)
      const result = original.apply(this, args)
      if (result instanceof Promise) return result.finally(add)
      add()
      return result
    }
    restore.push(() => (target[method] = original))
  }
  return {
    stop() {
      restore.forEach((undo) => undo())
      return spent
    },
  }
}

interface RangeCall {
  from: number
  to: number
  ms: number
  logs: number | null
  error: string | null
}

/**
 * Every `eth_getLogs` over a block range that goes through a ConnectionPool: range, time,
 * answer size or failure; other requests counted and timed by method.
 */
function rangeRecorder(): { calls: RangeCall[]; others: Map<string, { count: number; ms: number }>; stop(): void } {
  const proto = ConnectionPool.prototype as unknown as { request: (method: string, params?: readonly unknown[], timeoutMs?: number) => Promise<unknown> }
  const original = proto.request
  const calls: RangeCall[] = []
  const others = new Map<string, { count: number; ms: number }>()
  proto.request = async function (this: ConnectionPool, method: string, params: readonly unknown[] = [], timeoutMs?: number): Promise<unknown> {
    const filter = params[0] as { fromBlock?: string; toBlock?: string } | undefined
    if (method !== 'eth_getLogs' || filter?.fromBlock === undefined || filter.toBlock === undefined) {
      const started = performance.now()
      try {
        return await original.call(this, method, params, timeoutMs)
      } finally {
        const entry = others.get(method) ?? { count: 0, ms: 0 }
        others.set(method, { count: entry.count + 1, ms: entry.ms + performance.now() - started })
      }
    }
    const call: RangeCall = { from: Number(filter.fromBlock), to: Number(filter.toBlock), ms: 0, logs: null, error: null }
    calls.push(call)
    const started = performance.now()
    try {
      const answer = await original.call(this, method, params, timeoutMs)
      call.logs = Array.isArray(answer) ? answer.length : null
      return answer
    } catch (error) {
      call.error = error instanceof Error ? error.message : String(error)
      throw error
    } finally {
      call.ms = performance.now() - started
    }
  }
  return { calls, others, stop: () => (proto.request = original) }
}

/** A full GC when the worker runs with --expose-gc (the bench config passes it). */
function collectGarbage(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

/* ------------------------------------------------------------------ Tidewatch */

interface TidewatchResult {
  seconds: number
  rate: number
  rssStartMb: number
  rssPeakMb: number
  rssHow: string
  anvilRssPeakMb: number | null
  cpuPercent: number
  anvilCpuPercent: number | null
  writerPercent: number
  times: Map<string, number>
  ranges: RangeCall[]
  /** The tracker's range for its first block, and every other request, by method. */
  otherRequests: string
  settledRange: number
  committed: number
  errors: string[]
  profile: string | null
  check: StoreCheck
}

interface StoreCheck {
  rows: number
  distinct: number
  /** Rows whose value is not their position in chain order (or whose columns are wrong). */
  wrong: number
  firstWrong: string | null
  removed: number
}

/** The store read back: one events row per log, distinct (block_hash, log_index), log n of the chain carrying value n. */
function checkStore(file: string, seeded: Seeded): StoreCheck {
  const db = new Database(file, { readonly: true })
  try {
    const rows = (db.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'log'").get() as { n: number }).n
    const distinct = (db.prepare("SELECT COUNT(*) AS n FROM (SELECT DISTINCT block_hash, log_index FROM events WHERE kind = 'log')").get() as { n: number }).n
    const removed = (db.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'log' AND removed = 1").get() as { n: number }).n
    const walk = db
      .prepare(
        // A watch's events row points at the log stored once in chain_logs (EventStore's join).
        `SELECT e.block_number, e.log_index, COALESCE(e.address, l.address), COALESCE(e.topics, l.topics), COALESCE(e.data, l.data), COALESCE(e.tx_hash, l.tx_hash)
         FROM events e LEFT JOIN chain_logs l ON e.address IS NULL AND l.connection_id = e.connection_id AND l.block_hash = e.block_hash AND l.log_index = e.log_index
         WHERE e.kind = 'log' ORDER BY e.block_number, e.log_index`,
      )
      .raw()
      .iterate() as IterableIterator<[number, number, string | null, string | null, string | null, string | null]>
    let n = 0
    let wrong = 0
    let firstWrong: string | null = null
    for (const [blockNumber, logIndex, address, topics, data, txHash] of walk) {
      const block = seeded.firstLogBlock + Math.floor(n / LOGS_PER_BLOCK) * STRIDE
      const fromTopic = `0x${(n + 1).toString(16).padStart(64, '0')}`
      const ok =
        blockNumber === block &&
        logIndex === n % LOGS_PER_BLOCK &&
        address === seeded.address &&
        topics?.split(',')[1] === fromTopic &&
        data !== null &&
        BigInt(data) === BigInt(n) &&
        txHash !== null
      if (!ok) {
        wrong += 1
        firstWrong ??= `log ${n}: block ${blockNumber} index ${logIndex} data ${data} (expected block ${block} index ${n % LOGS_PER_BLOCK} value ${n})`
      }
      n += 1
    }
    return { rows, distinct, wrong, firstWrong, removed }
  } finally {
    db.close()
  }
}

/** The most frequent size among the watch's successful ranges (the last, shorter one aside when there are others). */
function settledSize(ranges: RangeCall[]): number {
  const sizes = ranges.filter((r) => r.error === null).map((r) => r.to - r.from + 1)
  const counted = new Map<number, number>()
  for (const size of sizes.length > 1 ? sizes.slice(0, -1) : sizes) counted.set(size, (counted.get(size) ?? 0) + 1)
  return [...counted].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0] ?? 0
}

async function tidewatch(anvil: AnvilProcess, seeded: Seeded): Promise<TidewatchResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewatch-bench-history-'))
  try {
    const engine = new Engine({ dataDir, secrets: createKeyFileSecretBox(dataDir), log: (message) => VERBOSE && console.log(`  [engine] ${message}`) })
    const errors: string[] = []
    engine.on('storeError', (error) => errors.push(error.message))
    let committed = 0
    let committedAt = 0
    const allCommitted = new Promise<void>((resolve) =>
      engine.on('eventsAppended', ({ count }) => {
        committed += count
        if (committed >= LOGS && committedAt === 0) {
          committedAt = performance.now()
          resolve()
        }
      }),
    )
    const eventStore = (engine as unknown as { store: { events: EventStore } }).store.events
    // The store's writer (private): its drain() is where the main thread waits for commits.
    const writer = (eventStore as unknown as { writer: SqliteWriter }).writer
    let phase: Omit<TidewatchResult, 'check' | 'committed' | 'errors'>
    try {
      const connection = engine.connections.add({ name: 'anvil', url: anvil.wsUrl, ...(TRANSPORT === 'http' ? { httpUrl: anvil.httpUrl } : {}) })
      // Connected, and the tracker at the head (its first block): the clock measures history, not connecting.
      await until('the connection and its tracker', () => engine.connections.liveConnection(connection.id)?.tracker.cursor?.number === seeded.head)
      collectGarbage()
      const spec = subscriptionSpecSchema.parse({ type: 'logs', params: { address: seeded.address, topics: [TRANSFER_TOPIC] } })
      if (spec.type !== 'logs') throw new Error('not a logs spec')
      const profiler = PROFILE ? await cpuProfiler(500) : null
      const recorder = rangeRecorder()
      // Methods called per request, block or batch only: a meter around a per-log call would cost the rate it measures.
      const spent = methodMeter([
        ['ConnectionPool.request (eth_getLogs ranges and the rest: waiting for anvil, receiving, JSON.parse)', ConnectionPool.prototype, 'request'],
        ['ChainStore.canonicalHash', SqliteChainStore.prototype, 'canonicalHash'],
        ['the main thread blocked in the SQLite writer’s drain() (backpressure, flushes)', writer, 'drain'],
      ])
      const rss = rssMeter()
      const anvilCpuBefore = cpuMsOf(anvil.pid)
      let anvilRssPeak = rssOf(anvil.pid)
      const anvilSampler = setInterval(() => {
        const now = rssOf(anvil.pid)
        if (now !== null) anvilRssPeak = Math.max(anvilRssPeak ?? 0, now)
      }, 250)
      const writerBefore = eventStore.writerBusyMs()
      const cpu = process.cpuUsage()
      const startedAt = performance.now()
      engine.subscriptions.create({
        connectionId: connection.id,
        spec,
        watch: { startBlock: -seeded.head, fetch: false, listen: true, irreversibleOnly: false },
      })
      let timer: NodeJS.Timeout | undefined
      let times: Map<string, number>
      let memory: ReturnType<ReturnType<typeof rssMeter>['stop']>
      const timeout = new Promise<never>(
        (_, reject) =>
          (timer = setTimeout(
            () =>
              reject(new Error(`Tidewatch: only ${int(committed)} of ${int(LOGS)} logs committed after ${int(TIMEOUT_MS)} ms; errors: ${errors.join('; ')}`)),
            TIMEOUT_MS,
          )),
      )
      try {
        await Promise.race([allCommitted, timeout])
      } finally {
        clearTimeout(timer)
        clearInterval(anvilSampler)
        // In the reverse order of wrapping: the meter wraps the recorder's wrapper.
        times = spent.stop()
        recorder.stop()
        memory = rss.stop()
      }
      const used = process.cpuUsage(cpu)
      const writerMs = eventStore.writerBusyMs() - writerBefore
      const anvilCpuAfter = cpuMsOf(anvil.pid)
      const profile = (await profiler?.stop('history-tidewatch')) ?? null
      // The watch's history ranges end below the tracker's first block (the head); the tracker's own range for the head block aside.
      const history = recorder.calls.filter((r) => r.to < seeded.head)
      const seconds = (committedAt - startedAt) / 1000
      phase = {
        seconds,
        rate: LOGS / seconds,
        rssStartMb: memory.startMb,
        rssPeakMb: memory.peakMb,
        rssHow: memory.how,
        anvilRssPeakMb: anvilRssPeak === null ? null : anvilRssPeak / 2 ** 20,
        cpuPercent: (used.user + used.system) / 10_000 / seconds,
        anvilCpuPercent: anvilCpuBefore === null || anvilCpuAfter === null ? null : (anvilCpuAfter - anvilCpuBefore) / 10 / seconds,
        writerPercent: writerMs / 10 / seconds,
        times,
        ranges: history,
        otherRequests: [
          ...recorder.calls.filter((r) => r.to >= seeded.head).map((r) => `eth_getLogs ${r.from}-${r.to} (the tracker's first block) ${int(r.ms)} ms`),
          ...[...recorder.others].map(([method, { count, ms }]) => `${method} ×${count} ${int(ms)} ms`),
        ].join(', '),
        settledRange: settledSize(history),
        profile,
      }
      // Anything more (a duplicate would add a row) is committed by now or never: give it a moment.
      await sleep(500)
    } finally {
      await engine.close()
    }
    return { ...phase, committed, errors, check: checkStore(path.join(dataDir, DATABASE_FILE), seeded) }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

/* ------------------------------------------------------------------ baselines */

interface LoopResult {
  seconds: number
  rate: number
  logs: number
  ranges: number
  cpuPercent: number
  rssPeakMb: number
  lastValue: bigint | null
}

/** Consecutive ranges of `size` blocks from block 0 to the head: what both loops walk. */
function rangesOf(head: number, size: number): [number, number][] {
  const ranges: [number, number][] = []
  for (let from = 0; from <= head; from += size) ranges.push([from, Math.min(head, from + size - 1)])
  return ranges
}

/**
 * A plain viem loop: getLogs with the event (viem decodes each log's args), counting, storing
 * nothing. Over HTTP viem refuses answers over 10 MiB by default (maxResponseBodySize): lifted,
 * so that it can take Tidewatch's ranges.
 */
async function viemLoop(anvil: AnvilProcess, seeded: Seeded, size: number): Promise<LoopResult> {
  const transport = TRANSPORT === 'http' ? http(anvil.httpUrl, { timeout: 120_000, maxResponseBodySize: false }) : webSocket(anvil.wsUrl, { timeout: 120_000 })
  const client = createPublicClient({ transport })
  // The socket is open before the clock starts, as Tidewatch's connection is.
  await client.getBlockNumber()
  collectGarbage()
  const rss = rssMeter()
  const cpu = process.cpuUsage()
  const started = performance.now()
  let logs = 0
  let lastValue: bigint | null = null
  const ranges = rangesOf(seeded.head, size)
  for (const [from, to] of ranges) {
    const found = await client.getLogs({ address: seeded.address, event: TRANSFER_EVENT, fromBlock: BigInt(from), toBlock: BigInt(to) })
    logs += found.length
    if (found.length > 0) lastValue = found[found.length - 1]!.args.value ?? null
  }
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  const memory = rss.stop()
  if (TRANSPORT === 'ws') (await (client.transport as unknown as { getRpcClient(): Promise<{ close(): void }> }).getRpcClient()).close()
  return {
    seconds,
    rate: logs / seconds,
    logs,
    ranges: ranges.length,
    cpuPercent: (used.user + used.system) / 10_000 / seconds,
    rssPeakMb: memory.peakMb,
    lastValue,
  }
}

/** The same ranges over one bare `ws` socket: each answer JSON.parse'd and counted (anvil's and the transport's rate). */
async function bareLoop(anvil: AnvilProcess, seeded: Seeded, size: number): Promise<LoopResult> {
  const ws = new WebSocket(anvil.wsUrl, { maxPayload: 2 ** 31 - 1 })
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  let waiting: ((answer: { result?: unknown[]; error?: { message: string } }) => void) | null = null
  ws.on('message', (data: Buffer) => waiting?.(JSON.parse(data.toString('utf8')) as { result?: unknown[] }))
  collectGarbage()
  const rss = rssMeter()
  const cpu = process.cpuUsage()
  const started = performance.now()
  let logs = 0
  const ranges = rangesOf(seeded.head, size)
  try {
    for (const [index, [from, to]] of ranges.entries()) {
      const answer = await new Promise<{ result?: unknown[]; error?: { message: string } }>((resolve) => {
        waiting = resolve
        const filter = { address: seeded.address, topics: [TRANSFER_TOPIC], fromBlock: hex(from), toBlock: hex(to) }
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: index, method: 'eth_getLogs', params: [filter] }))
      })
      if (!answer.result) throw new Error(`eth_getLogs ${from}-${to}: ${answer.error?.message ?? 'no result'}`)
      logs += answer.result.length
    }
  } finally {
    ws.terminate()
  }
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  return {
    seconds,
    rate: logs / seconds,
    logs,
    ranges: ranges.length,
    cpuPercent: (used.user + used.system) / 10_000 / seconds,
    rssPeakMb: rss.stop().peakMb,
    lastValue: null,
  }
}

/* ------------------------------------------------------------------ report */

test(`history: start_block -N over ${int(LOGS)} matching logs, eth_getLogs to the store, beside a viem getLogs loop`, { timeout: TIMEOUT_MS * 3 }, async () => {
  const benchStarted = performance.now()
  const busyBefore = await cpuBusy(1_000)
  const anvil = await startAnvil({ extraArgs: ['--no-mining', '--gas-limit', String(GAS_LIMIT)] })
  let seeded: Seeded
  let tw: TidewatchResult
  let viem: LoopResult
  let bare: LoopResult
  try {
    console.log(
      `history bench: seeding ${int(LOGS)} logs (${int(SEEDED_BLOCKS)} blocks of ${LOGS_PER_BLOCK}, ${TXS_PER_BLOCK} transactions a block${STRIDE > 1 ? `, every ${STRIDE}th block` : ''})`,
    )
    seeded = await seed(anvil)
    console.log(`  seeded in ${seeded.seconds.toFixed(1)} s; head ${int(seeded.head)}; Tidewatch phase`)
    tw = await tidewatch(anvil, seeded)
    console.log(`  Tidewatch ${int(tw.rate)} logs/s in ${tw.seconds.toFixed(1)} s; viem phase, ranges of ${int(tw.settledRange)} blocks`)
    const size = tw.settledRange > 0 ? tw.settledRange : 500
    viem = await viemLoop(anvil, seeded, size)
    console.log(`  viem ${int(viem.rate)} logs/s; bare client phase`)
    bare = await bareLoop(anvil, seeded, size)
  } finally {
    await anvil.stop()
  }
  const date = new Date().toISOString().slice(0, 10)
  const commit = gitCommit()
  const ratio = tw.rate / viem.rate
  const check = tw.check
  const lossFree = check.rows === LOGS && check.distinct === LOGS && check.wrong === 0 && check.removed === 0 && tw.errors.length === 0
  const okRanges = tw.ranges.filter((r) => r.error === null)
  const refused = tw.ranges.filter((r) => r.error !== null)
  const rangeMs = okRanges.reduce((sum, r) => sum + r.ms, 0) + refused.reduce((sum, r) => sum + r.ms, 0)
  const sizesTried = [...new Set(tw.ranges.map((r) => r.to - r.from + 1))]
  const refusals = refused.length
    ? `${refused.length} refused or failed (${[...new Set(refused.map((r) => `${int(r.to - r.from + 1)} blocks: ${r.error!.split(';')[0]!}`))].join('; ')}), ${(refused.reduce((sum, r) => sum + r.ms, 0) / 1000).toFixed(1)} s spent on them`
    : 'none refused'
  const transportLabel = TRANSPORT === 'ws' ? 'WebSocket' : 'HTTP'
  const command = `${process.env.BENCH_HISTORY_LOGS ? `BENCH_HISTORY_LOGS=${process.env.BENCH_HISTORY_LOGS} ` : ''}${TRANSPORT === 'http' ? 'BENCH_HISTORY_TRANSPORT=http ' : ''}npm run bench:history`

  const mainTable = [
    '| Client | Rate | Wall | Ratio to viem | Peak RSS (bench process) | Result |',
    '|---|---:|---:|---:|---:|---|',
    `| Tidewatch: Engine, \`logs\` subscription with \`startBlock: -${int(seeded.head)}\`, eth_getLogs → chain_logs + events (SQLite) | **${int(tw.rate)} logs/s** | ${tw.seconds.toFixed(1)} s | **${ratio.toFixed(2)}** | ${int(tw.rssPeakMb)} MiB (${int(tw.rssStartMb)} at start) | ${lossFree ? `${int(check.rows)} rows, ${int(check.distinct)} distinct (block_hash, log_index), every value in chain order` : `**${int(check.rows)} rows, ${int(check.distinct)} distinct, ${int(check.wrong)} wrong, ${int(check.removed)} removed**`} |`,
    `| viem ${versionOf('viem')} \`getLogs({ address, event, fromBlock, toBlock })\` loop, ${int(tw.settledRange)}-block ranges, ${transportLabel}, counting only | **${int(viem.rate)} logs/s** | ${viem.seconds.toFixed(1)} s | 1.00 | ${int(viem.rssPeakMb)} MiB | ${int(viem.logs)} logs counted |`,
    `| Bare \`ws\` client: same ranges, \`JSON.parse\` and count | ${int(bare.rate)} logs/s | ${bare.seconds.toFixed(1)} s | ${(bare.rate / viem.rate).toFixed(2)} | ${int(bare.rssPeakMb)} MiB | ${int(bare.logs)} logs counted |`,
  ].join('\n')

  const context: [string, string][] = [
    [
      'Seeding',
      `${seeded.seconds.toFixed(1)} s: ${int(seeded.transactions)} transactions (${LOGS_PER_TX} Transfer logs each, ${TXS_PER_BLOCK} a block) in ${int(SEEDED_BLOCKS)} blocks ${STRIDE > 1 ? `(every ${STRIDE}th) of ` : ''}${int(seeded.firstLogBlock)}-${int(seeded.head)}, compile and deploy included`,
    ],
    [
      'Tidewatch eth_getLogs ranges',
      `${int(tw.ranges.length)} requests, sizes tried ${sizesTried.map(int).join(', ')} blocks; ${int(okRanges.length)} answered, settled at ${int(tw.settledRange)} blocks (${int(tw.settledRange * LOGS_PER_BLOCK)} logs an answer); ${refusals}; ${(rangeMs / 1000).toFixed(1)} s waiting for range answers in all`,
    ],
    ['Tidewatch phase: other upstream requests', tw.otherRequests || 'none'],
    [
      'Tidewatch phase: time',
      [
        `process CPU ${pct(tw.cpuPercent)} of one core (all threads; ${((tw.cpuPercent * 10 * tw.seconds * 1000) / LOGS).toFixed(1)} µs a log)`,
        `SQLite writer thread busy ${pct(tw.writerPercent)}`,
        ...[...tw.times].map(([label, ms]) => `${label} ${pct(ms / 10 / tw.seconds)}`),
        tw.anvilCpuPercent === null ? 'anvil CPU unknown' : `anvil CPU ${pct(tw.anvilCpuPercent)}`,
      ].join('; ') + ' (shares of the wall time)',
    ],
    ['viem phase', `process CPU ${pct(viem.cpuPercent)} of one core; ${int(viem.ranges)} requests; last value ${String(viem.lastValue)}`],
    ['Bare client phase', `process CPU ${pct(bare.cpuPercent)} of one core`],
    [
      'anvil',
      `${versionOf('@foundry-rs/anvil')}; peak RSS during the Tidewatch phase ${tw.anvilRssPeakMb === null ? 'unknown' : `${int(tw.anvilRssPeakMb)} MiB`}`,
    ],
    ['Peak RSS', tw.rssHow],
  ]

  const markdown = `## History: \`start_block: -N\` over ${int(LOGS)} logs

Command: \`${command}\` (source \`bench/history.bench.ts\`).

A local anvil (its own process, \`--no-mining\`, blocks mined by \`evm_mine\`) holds ${int(LOGS)} matching logs: a contract compiled with solc ${versionOf('solc')} whose \`emitTransfers(first, count)\` emits ERC-20 \`Transfer(address indexed, address indexed, uint256)\` events, ${LOGS_PER_BLOCK} a block in ${TXS_PER_BLOCK} transactions, over ${int(SEEDED_BLOCKS)} blocks; log n of the chain carries value n.

- **Tidewatch**: the whole \`Engine\` with a connection to anvil over ${transportLabel}${TRANSPORT === 'ws' ? ' (no HTTP URL)' : ' (its WebSocket URL and its HTTP URL, which plain requests use)'} and a \`logs\` subscription for the contract's Transfer events with watch options \`startBlock: -${int(seeded.head)}\` (the chain's height: every block is history). Below the tracker's first block (the head) the watch reads \`eth_getLogs\` ranges (\`tracker-watch.ts\` \`fromUpstream\`; \`backfill-range.ts\` starts at 2,000 blocks, halves what the node refuses or what exceeds Tidewatch's 64 MiB answer limit, and grows only while answers hold under 1,000 logs), and capture stores each log once in \`chain_logs\` with an \`events\` row pointing at it. Timed from \`subscriptions.create\` (the connection up, its tracker at the head) to the engine's \`eventsAppended\` for the last log. Afterwards the store is read back: one row per log, distinct (block_hash, log_index), and log n's value n in chain order.
- **viem**: \`createPublicClient\` with viem's \`${TRANSPORT === 'ws' ? 'webSocket' : 'http'}\` transport on the same anvil, and a loop of \`getLogs({ address, event, fromBlock, toBlock })\` (viem formats each log and decodes its args) over the same blocks in ranges of ${int(tw.settledRange)} blocks, the size Tidewatch settled on; it counts the logs and stores nothing${TRANSPORT === 'http' ? " (viem's 10 MiB limit on an HTTP answer lifted: \`maxResponseBodySize: false\`)" : ''}.
- **Bare client**: the same ranges over one \`ws\` socket, each answer \`JSON.parse\`d and counted: what anvil and the transport allow.

Measured ${date} at commit ${commit} on ${machine()}; anvil ${versionOf('@foundry-rs/anvil')}, viem ${versionOf('viem')}; the CPUs were ${pct(busyBefore * 100)} busy in the second before the run${busyBefore > 0.15 ? ' (other work was running: expect lower and noisier numbers)' : ''}. Peak RSS is the bench process's (${tw.rssHow}).

${mainTable}

No goal is set for this one (issue 11): the figure is Tidewatch's rate beside viem's, ${ratio.toFixed(2)} here.

| Context | |
|---|---|
${context.map((r) => `| ${r.join(' | ')} |`).join('\n')}

Profile the Tidewatch phase with \`BENCH_PROFILE=1 BENCH_HISTORY_LOGS=200000 npm run bench:history\`, then \`node bench/profile-summary.mjs bench/.profiles/<file>.cpuprofile\`.
`

  const strip = (text: string) => text.replace(/\*\*|`/g, '')
  console.log(
    [
      '',
      `history benchmark, ${date}, commit ${commit}: ${machine()}; CPUs ${pct(busyBefore * 100)} busy before the run`,
      `  Tidewatch  ${int(tw.rate).padStart(9)} logs/s  ${tw.seconds.toFixed(1).padStart(6)} s  peak RSS ${int(tw.rssPeakMb)} MiB (${int(tw.rssStartMb)} at start)  ${lossFree ? 'no loss, no duplicates' : 'WRONG'}`,
      `  viem       ${int(viem.rate).padStart(9)} logs/s  ${viem.seconds.toFixed(1).padStart(6)} s  (${int(viem.logs)} logs)`,
      `  bare ws    ${int(bare.rate).padStart(9)} logs/s  ${bare.seconds.toFixed(1).padStart(6)} s`,
      `  Tidewatch / viem ${ratio.toFixed(2)}`,
      ...context.map(([label, value]) => `  ${strip(label)}: ${strip(value)}`),
      ...(VERBOSE ? tw.ranges.map((r) => `  range ${r.from}-${r.to}: ${int(r.ms)} ms, ${r.error ?? `${int(r.logs ?? 0)} logs`}`) : []),
      ...(tw.profile ? [`  CPU profile: ${tw.profile}; summary: node bench/profile-summary.mjs ${tw.profile}`] : []),
      ...(check.firstWrong ? [`  first wrong row: ${check.firstWrong}`] : []),
      ...(tw.errors.length ? [`  store errors: ${tw.errors.join('; ')}`] : []),
      `  bench wall time ${((performance.now() - benchStarted) / 1000).toFixed(1)} s${WRITE ? '; BENCHMARKS.md updated' : ''}`,
      '',
    ].join('\n'),
  )
  if (WRITE && lossFree) writeSection('history', markdown)

  // The benchmark fails on wrong results only; speed is reported, not asserted.
  expect(tw.errors).toEqual([])
  expect(check.rows).toBe(LOGS)
  expect(check.distinct).toBe(LOGS)
  expect(check.wrong).toBe(0)
  expect(check.removed).toBe(0)
  expect(viem.logs).toBe(LOGS)
  expect(bare.logs).toBe(LOGS)
})

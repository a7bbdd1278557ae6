/**
 * Fuzzing the capture path from the upstream's side: a scripted provider sends heads, logs,
 * pending and mined transactions and syncing payloads with fields out of range, of the
 * wrong type, missing or extra, whole payloads of the wrong shape, malformed frames,
 * notifications for unknown subscription ids and frames over the size limit, to a real
 * LiveConnection (its ConnectionPool and chain tracker) and a SubscriptionRunner per type
 * capturing into a real SQLite file, as the engine wires them.
 *
 * After every batch: the process is alive and connected, the store holds everything it held
 * before plus exactly the inputs an independent oracle (below) calls valid, every invalid
 * input was logged naming its field, each distinct problem only once, and no log line
 * contains the URL's key.
 *
 * Seeded: the seed is printed; FUZZ_SEED=<n> replays a run, FUZZ_LOG=1 prints its log lines.
 * Bounded to about 12 s of batches.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { subscriptionSpecSchema, type SubscriptionType } from '../../src/shared/subscription-params'
import { LiveConnection } from '../../src/main/engine/live-connection'
import { ConnectionStore } from '../../src/main/store/connection-store'
import { SqliteChainStore } from '../../src/main/store/sqlite-chain-store'
import { openDatabase, type Db } from '../../src/main/store/database'
import { EventStore } from '../../src/main/store/event-store'
import { HeadStore } from '../../src/main/store/head-store'
import { createKeyFileSecretBox } from '../../src/main/store/secret-box'
import { SubscriptionStore } from '../../src/main/store/subscription-store'
import { SubscriptionRunner } from '../../src/main/subscriptions/subscription-runner'
import { problemKey } from '../../src/main/upstream/problem-log'
import { MAX_FRAME_BYTES } from '../../src/main/upstream/upstream-socket'
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider'
import { waitFor } from '../helpers/scripted-server'

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 0x7de5eed
const BATCH_BUDGET_MS = 12_000
const KEY = 'fuzzKey0123456789abcdefABCDEF'

/** mulberry32: small, seedable, good enough to pick mutations. */
function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

// ---- The oracle: what the capture path must accept, written from the protocol, not from the code under test.

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const hexDigits = (v: unknown, max: number): v is string => typeof v === 'string' && new RegExp(`^0x[0-9a-fA-F]{1,${max}}$`).test(v)
const FIELD_KINDS = {
  /** Becomes a JavaScript number: must fit one exactly. */
  safeQuantity: (v: unknown) => hexDigits(v, 64) && BigInt(v) <= MAX_SAFE,
  /** Kept as a decimal string: any 256-bit quantity. */
  quantity: (v: unknown) => hexDigits(v, 64),
  hash: (v: unknown) => typeof v === 'string' && /^0x[0-9a-fA-F]{64}$/.test(v),
  address: (v: unknown) => typeof v === 'string' && /^0x[0-9a-fA-F]{40}$/.test(v),
  data: (v: unknown) => typeof v === 'string' && /^0x[0-9a-fA-F]*$/.test(v),
  topics: (v: unknown) => Array.isArray(v) && v.every((t) => FIELD_KINDS.hash(t)),
  /** Syncing progress: the seed's decimal numbers or eth_syncing's hex quantities. */
  syncQuantity: (v: unknown) =>
    (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'string' && (/^\d{1,15}$/.test(v) || FIELD_KINDS.safeQuantity(v))),
  bool: (v: unknown) => typeof v === 'boolean',
  status: (v: unknown) => v === null || isObject(v),
}
type FieldKind = keyof typeof FIELD_KINDS
interface Field {
  name: string
  kind: FieldKind
  required: boolean
  /** Null stands for absent (a pending transaction's blockNumber), except where it makes no sense. */
  nullable: boolean
}
const field = (name: string, kind: FieldKind, required = false, nullable = !required): Field => ({ name, kind, required, nullable })

const HEAD_FIELDS = [
  field('number', 'safeQuantity', true),
  field('hash', 'hash', true),
  field('parentHash', 'hash', true),
  field('timestamp', 'safeQuantity', true),
  field('gasUsed', 'quantity', true),
  field('gasLimit', 'quantity', true),
  field('baseFeePerGas', 'quantity'),
]
const LOG_FIELDS = [
  field('address', 'address', true),
  field('topics', 'topics', true),
  field('data', 'data', true),
  field('blockNumber', 'safeQuantity'),
  field('blockHash', 'hash'),
  field('transactionHash', 'hash'),
  field('transactionIndex', 'safeQuantity'),
  field('logIndex', 'safeQuantity'),
]
const TX_FIELDS = [
  field('hash', 'hash', true),
  field('blockNumber', 'safeQuantity'),
  field('blockHash', 'hash'),
  field('transactionIndex', 'safeQuantity'),
  field('to', 'address'),
]
// `syncing` is the seed's flag: true or false, never null.
const SYNCING_FIELDS = [field('syncing', 'bool', false, false), field('status', 'status')]
const PROGRESS_FIELDS = [field('startingBlock', 'syncQuantity'), field('currentBlock', 'syncQuantity'), field('highestBlock', 'syncQuantity')]

function fieldsValid(record: Record<string, unknown>, fields: Field[]): boolean {
  return fields.every((f) => {
    const value = record[f.name]
    if (value === undefined) return !f.required
    if (value === null) return f.nullable
    return FIELD_KINDS[f.kind](value)
  })
}
const txValid = (raw: unknown): boolean => (typeof raw === 'string' ? FIELD_KINDS.hash(raw) : isObject(raw) && fieldsValid(raw, TX_FIELDS))
const VALID: Record<Captured, (raw: unknown) => boolean> = {
  heads: (raw) => isObject(raw) && fieldsValid(raw, HEAD_FIELDS),
  logs: (raw) => isObject(raw) && fieldsValid(raw, LOG_FIELDS),
  newPendingTransactions: txValid,
  alchemy_newFullPendingTransactions: txValid,
  alchemy_filteredNewFullPendingTransactions: txValid,
  alchemy_pendingTransactions: txValid,
  alchemy_minedTransactions: (raw) => (isObject(raw) && 'transaction' in raw ? txValid(raw.transaction) : txValid(raw)),
  syncing: (raw) => {
    if (typeof raw === 'boolean') return true
    if (!isObject(raw) || !fieldsValid(raw, SYNCING_FIELDS)) return false
    const status = 'status' in raw ? raw.status : raw
    return status === null || status === undefined || (isObject(status) && fieldsValid(status, PROGRESS_FIELDS))
  },
}

// ---- Inputs: a valid payload per type, then one mutation of it.

type RunnerType = Exclude<SubscriptionType, 'newHeads'>
/** Heads are captured by the LiveConnection (into the heads table); every other type by a SubscriptionRunner. */
type Captured = 'heads' | RunnerType
const RUNNER_TYPES: RunnerType[] = [
  'logs',
  'newPendingTransactions',
  'alchemy_newFullPendingTransactions',
  'alchemy_filteredNewFullPendingTransactions',
  'alchemy_pendingTransactions',
  'alchemy_minedTransactions',
  'syncing',
]
const PARAMS: Partial<Record<RunnerType, unknown>> = {
  logs: { address: '0x8320fe7702b96808f7bbc0d4a888ed1468216cfd' },
  alchemy_filteredNewFullPendingTransactions: { address: '0x6b3595068778dd592e39a122f4f5a5cf09c90fe2' },
}

const BAD_QUANTITIES = ['0xffffffffffffffff', '0x20000000000000', `0x${'f'.repeat(64)}`, `0x${'f'.repeat(65)}`, '0x', '-0x1', '0xg1', '1e21']
const BAD_HASHES = ['0x1234', `0x${'a'.repeat(63)}`, `0x${'a'.repeat(66)}`, `0x${'z'.repeat(64)}`]
const WRONG_TYPES: unknown[] = [
  12345,
  2 ** 64,
  -1,
  1.5,
  true,
  false,
  null,
  [],
  ['0x1'],
  {},
  { nested: { deep: [1, 2, { x: null }] } },
  '',
  'garbage',
  'x'.repeat(10_000),
]

interface Input {
  type: Captured
  payload: unknown
  valid: boolean
  /** What a log line about this input must say (for invalid ones). */
  expected: RegExp | null
}

function generator(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const hex = (bytes: number): string => `0x${Array.from({ length: bytes * 2 }, () => '0123456789abcdef'[Math.floor(random() * 16)]).join('')}`
  const quantity = (max: number): string => `0x${Math.floor(random() * max).toString(16)}`
  const tx = (): Record<string, unknown> => ({
    hash: hex(32),
    from: hex(20),
    to: hex(20),
    nonce: quantity(1_000),
    value: quantity(1e18),
    input: '0x',
    blockHash: null,
    blockNumber: null,
    transactionIndex: null,
  })
  const templates: Record<Captured, () => unknown> = {
    heads: () => ({
      number: quantity(2 ** 40),
      hash: hex(32),
      parentHash: hex(32),
      timestamp: quantity(2 ** 32),
      gasUsed: quantity(3e7),
      gasLimit: quantity(3e7),
      baseFeePerGas: quantity(1e10),
      miner: hex(20),
    }),
    logs: () => ({
      address: '0x8320fe7702b96808f7bbc0d4a888ed1468216cfd',
      topics: [hex(32), hex(32)],
      data: hex(32),
      blockNumber: quantity(2 ** 40),
      blockHash: hex(32),
      transactionHash: hex(32),
      transactionIndex: quantity(300),
      logIndex: quantity(1_000),
      removed: false,
    }),
    newPendingTransactions: () => (random() < 0.8 ? hex(32) : tx()),
    alchemy_newFullPendingTransactions: tx,
    alchemy_filteredNewFullPendingTransactions: tx,
    alchemy_pendingTransactions: tx,
    alchemy_minedTransactions: () => ({
      removed: false,
      transaction: { ...tx(), blockHash: hex(32), blockNumber: quantity(2 ** 40), transactionIndex: quantity(300) },
    }),
    syncing: () => ({
      syncing: true,
      status: {
        startingBlock: Math.floor(random() * 1e6),
        currentBlock: Math.floor(random() * 1e6),
        highestBlock: Math.floor(random() * 1e6),
        pulledStates: 0,
      },
    }),
  }
  const fieldsOf: Record<Captured, Field[]> = {
    heads: HEAD_FIELDS,
    logs: LOG_FIELDS,
    newPendingTransactions: TX_FIELDS,
    alchemy_newFullPendingTransactions: TX_FIELDS,
    alchemy_filteredNewFullPendingTransactions: TX_FIELDS,
    alchemy_pendingTransactions: TX_FIELDS,
    alchemy_minedTransactions: TX_FIELDS,
    syncing: [...SYNCING_FIELDS, ...PROGRESS_FIELDS],
  }
  const badValue = (kind: FieldKind): unknown => {
    const r = random()
    if (r < 0.45) return pick(WRONG_TYPES)
    if (kind === 'hash' || kind === 'address') return pick(BAD_HASHES)
    if (kind === 'syncQuantity') return pick([2 ** 64, 2 ** 53, -5, ...BAD_QUANTITIES])
    return pick(BAD_QUANTITIES)
  }
  const logPrefix = (type: Captured): string => (type === 'heads' ? 'newHeads payload rejected: ' : `${type} result skipped: `)

  return (type: Captured): Input => {
    let payload = templates[type]()
    let about: string | null = null
    const mutation = random()
    if (type === 'newPendingTransactions' && typeof payload === 'string') {
      if (mutation < 0.5) payload = pick([...WRONG_TYPES, ...BAD_HASHES])
    } else if (mutation < 0.1) {
      payload = pick(WRONG_TYPES)
    } else if (mutation < 0.9) {
      // One field out of range, of the wrong type, or missing; in the transaction of a mined one, or the status of a syncing one.
      const fields = fieldsOf[type]
      const target = pick(fields)
      const record = (
        type === 'alchemy_minedTransactions'
          ? (payload as { transaction: Record<string, unknown> }).transaction
          : type === 'syncing' && PROGRESS_FIELDS.includes(target)
            ? (payload as { status: Record<string, unknown> }).status
            : payload
      ) as Record<string, unknown>
      if (random() < 0.2) delete record[target.name]
      else record[target.name] = badValue(target.kind)
      about = target.name
    } else {
      // Extra fields are the upstream's business: kept as sent (PROTOCOL.md rule 7).
      ;(payload as Record<string, unknown>)[`extra_${Math.floor(random() * 1e6)}`] = pick(WRONG_TYPES)
    }
    const valid = VALID[type](payload)
    // The line names the field at fault; a payload of the wrong shape as a whole, the type.
    const expected = valid ? null : new RegExp(`${logPrefix(type)}.*${about ? `\\b${about}\\b` : ''}`)
    return { type, payload, valid, expected }
  }
}

// ---- The rig: a LiveConnection and a runner per type on one SQLite file, wired as engine.ts wires them.

let provider: FakeProvider
let dataDir: string
let db: Db
let events: EventStore
let heads: HeadStore
let live: LiveConnection
let connectionId: number
const streams = new Map<RunnerType, number>()
const runners: SubscriptionRunner[] = []
const logs: string[] = []
const crashes: unknown[] = []
const storeErrors: Error[] = []
const onCrash = (error: unknown): void => {
  crashes.push(error)
}

beforeAll(async () => {
  console.log(`upstream fuzz: seed ${SEED} (FUZZ_SEED=${SEED} replays this run)`)
  process.on('uncaughtExceptionMonitor', onCrash)
  provider = await startFakeProvider()
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-fuzz-'))
  db = openDatabase(path.join(dataDir, 'fuzz.sqlite'))
  const url = `${provider.url}/v2/${KEY}`
  connectionId = new ConnectionStore(db, createKeyFileSecretBox(dataDir)).add({ name: 'fuzz', url, kind: 'user' }).id
  const subscriptions = new SubscriptionStore(db)
  events = new EventStore(db, { onError: (error) => storeErrors.push(error) })
  heads = new HeadStore(db, { writeGate: (write) => events.exclusive(write), onError: (error) => storeErrors.push(error) })
  live = new LiveConnection({
    id: connectionId,
    url,
    httpUrl: null,
    chainStore: new SqliteChainStore(db, connectionId, { writeGate: (write) => events.exclusive(write), queue: events }),
    backoff: { initialMs: 20, maxMs: 100 },
    log: (m) => logs.push(m),
  })
  live.on('head', (head) => heads.enqueue({ connectionId, ...head, txCount: null, receivedAt: Date.now() }))
  live.on('txCount', (hash, txCount) => heads.enqueueTxCount(connectionId, hash, txCount))
  live.start()
  for (const type of RUNNER_TYPES) {
    const streamId = subscriptions.internalStream(connectionId, `fuzz:${type}`)
    streams.set(type, streamId)
    const runner = new SubscriptionRunner({
      pool: live.pool,
      spec: subscriptionSpecSchema.parse({ type, params: PARAMS[type] ?? {} }),
      sink: (event) => events.enqueue(connectionId, streamId, event),
      log: (m) => logs.push(`[${type}] ${m}`),
    })
    runner.start()
    runners.push(runner)
  }
  await waitFor(
    'every subscription active upstream',
    () => runners.every((r) => r.getStatus().state === 'active') && provider.subscriptions.size === RUNNER_TYPES.length + 1,
  )
})

afterAll(async () => {
  process.off('uncaughtExceptionMonitor', onCrash)
  await Promise.all(runners.map((r) => r.stop()))
  await live?.stop()
  heads?.flush()
  events?.close()
  db?.close()
  await provider?.close()
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
})

/** Subscription ids by type, as the provider issued them on the current socket. */
function upstreamId(type: string): string {
  return [...provider.subscriptions.values()].find((s) => s.params[0] === type)!.id
}

function send(input: Input): void {
  const type = input.type === 'heads' ? 'newHeads' : input.type
  expect(provider.emit(type, input.payload)).toBe(1)
}

/** Frames no JSON-RPC peer should send, each with the words its log line must carry. */
function sendMalformedFrames(random: () => number): RegExp[] {
  const socket = provider.subscriptions.get(upstreamId('newHeads'))!.socket
  const frames: [string | Buffer, RegExp][] = [
    ['{"jsonrpc":"2.0",', /Malformed frame from upstream \(not JSON\)/],
    [Buffer.from([0xff, 0x00, 0x13]), /Malformed frame from upstream \(not JSON \(binary frame\)\)/],
    ['[1, "two", null]', /Malformed frame from upstream \(not a JSON-RPC object\)/],
    [
      JSON.stringify({ jsonrpc: '2.0', id: 1_000_000 + Math.floor(random() * 1e6), result: '0x1' }),
      /Malformed frame from upstream \(answer to unknown or timed-out request id \d+\)/,
    ],
    [
      JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { result: {} } }),
      /Malformed frame from upstream \(eth_subscription without params\.subscription and params\.result\)/,
    ],
    [
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'eth_subscription',
        params: { subscription: `0x${Math.floor(random() * 1e12).toString(16)}`, result: { hash: KEY } },
      }),
      /notification for subscription .*which this connection does not hold; ignored/,
    ],
  ]
  for (const [frame] of frames) socket.send(frame, { binary: Buffer.isBuffer(frame) })
  return frames.map(([, expected]) => expected)
}

const PROBLEM = /result skipped|payload rejected|Malformed frame|does not hold|frame of more than|answer skipped/

describe('the upstream capture path under fuzzing', () => {
  it('survives every batch, keeps what it captured, captures exactly the valid inputs and logs each problem once, never with the key', async () => {
    const random = prng(SEED)
    const next = generator(random)
    const expectedCounts = new Map<Captured, number>([['heads', 0], ...RUNNER_TYPES.map((t) => [t, 0] as [Captured, number])])
    const mustBeLogged: RegExp[] = []
    let kept = new Set<number>()
    let keptHeads = new Set<number>()
    const started = Date.now()
    let batch = 0
    let sentInputs = 0
    let oversized = 0

    // At least three batches (one with an oversized frame) however slow the machine is.
    while (batch < 3 || Date.now() - started < BATCH_BUDGET_MS) {
      batch += 1
      if (random() < 0.5) mustBeLogged.push(...sendMalformedFrames(random))
      for (let i = 0; i < 40; i++) {
        const input = next(random() < 0.2 ? 'heads' : RUNNER_TYPES[Math.floor(random() * RUNNER_TYPES.length)]!)
        send(input)
        sentInputs += 1
        if (input.valid) expectedCounts.set(input.type, expectedCounts.get(input.type)! + 1)
        else mustBeLogged.push(input.expected!)
      }
      // Last on the socket, after everything above: once it is stored, every frame before it was handled.
      send({ type: 'newPendingTransactions', payload: `0x${batch.toString(16).padStart(64, 'e')}`, valid: true, expected: null })
      expectedCounts.set('newPendingTransactions', expectedCounts.get('newPendingTransactions')! + 1)

      // Everything valid arrives; nothing else does.
      const counts = (): Map<Captured, number> => {
        events.flush()
        heads.flush()
        const all = events.list({ connectionId, limit: 1_000_000 })
        return new Map<Captured, number>([
          ['heads', heads.list({ connectionId, limit: 1_000_000 }).length],
          ...RUNNER_TYPES.map((t) => [t, all.filter((e) => e.streamId === streams.get(t)).length] as [Captured, number]),
        ])
      }
      // On a timeout the comparison below shows which type is short.
      await waitFor(`batch ${batch} captured (seed ${SEED})`, () => [...expectedCounts].every(([type, n]) => counts().get(type)! >= n)).catch(() => undefined)
      expect(Object.fromEntries(counts()), `batch ${batch}, seed ${SEED}`).toEqual(Object.fromEntries(expectedCounts))

      // Everything captured before is still there.
      const ids = new Set(events.list({ connectionId, limit: 1_000_000 }).map((e) => e.id))
      const headIds = new Set(heads.list({ connectionId, limit: 1_000_000 }).map((h) => h.id))
      expect([...kept].filter((id) => !ids.has(id))).toEqual([])
      expect([...keptHeads].filter((id) => !headIds.has(id))).toEqual([])
      kept = ids
      keptHeads = headIds

      // A frame over the limit now and then: a logged reconnect, then every subscription is back.
      if (batch % 7 === 2) {
        oversized += 1
        const before = live.getStatus().reconnectCount
        provider.subscriptions.get(upstreamId('newHeads'))!.socket.send(Buffer.alloc(MAX_FRAME_BYTES + 1, 0x20), { binary: false }, () => undefined)
        await waitFor(
          `reconnect after the oversized frame of batch ${batch} (seed ${SEED})`,
          () => live.getStatus().reconnectCount > before && live.getStatus().state === 'connected',
        )
        await waitFor(
          'every subscription back upstream',
          () => provider.subscriptions.size === RUNNER_TYPES.length + 1 && runners.every((r) => r.getStatus().state === 'active'),
        )
        mustBeLogged.push(/frame of more than 64 MiB/)
      }

      // Alive and connected; each bad input logged, each problem once; the key nowhere.
      expect(crashes).toEqual([])
      expect(storeErrors).toEqual([])
      expect(live.getStatus().state).toBe('connected')
      const missing = mustBeLogged.filter((expected) => !logs.some((line) => expected.test(line)))
      expect(missing.map(String), `seed ${SEED}`).toEqual([])
      const problems = logs.filter((line) => PROBLEM.test(line)).map((line) => problemKey(line))
      expect(
        problems.filter((key, i) => problems.indexOf(key) !== i),
        `seed ${SEED}`,
      ).toEqual([])
      expect(logs.filter((line) => line.includes(KEY))).toEqual([])
    }

    if (process.env.FUZZ_LOG) console.log(logs.join('\n'))
    console.log(`upstream fuzz: ${batch} batches, ${sentInputs} payloads, ${oversized} oversized frames, ${logs.length} log lines (seed ${SEED})`)
    expect(oversized).toBeGreaterThan(0)
  })
})

/**
 * Export lines are written straight from the store's rows; they must be exactly what
 * formatting the live log's CapturedEvent gives: NDJSON is JSON.stringify of the event, CSV
 * is every cell through one generic function (the way rows were written before).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { encodeAbiParameters, parseAbiItem, toEventSelector, type AbiEvent } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CapturedEvent } from '../../shared/contract'
import { EventDecoder } from '../decode/event-decoder'
import type { NormalizedEvent } from '../store/captured-event'
import type { ChainLog } from '../store/chain-store'
import { openDatabase, type Db } from '../store/database'
import { EventStore } from '../store/event-store'
import { eventLines, type ExportContext } from './event-formats'

/** A CSV row as the generic cell function wrote it. */
function referenceCsvRow(e: CapturedEvent): string {
  const cell = (value: unknown): string => {
    if (value === null || value === undefined) return ''
    const text = typeof value === 'string' ? value : JSON.stringify(value)
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
  }
  const cells: unknown[] = [
    e.id,
    new Date(e.receivedAt).toISOString(),
    e.connectionId,
    e.subscriptionIds.join(' '),
    e.kind,
    e.blockNumber,
    e.blockHash,
    e.transactionHash,
    e.logIndex,
    e.address,
    e.topics[0],
    e.topics[1],
    e.topics[2],
    e.topics[3],
    e.data,
    e.removed,
    e.irreversible,
    e.decoded?.event,
    e.decoded ? e.decoded.args : null,
    e.payload,
  ]
  return `${cells.map(cell).join(',')}\n`
}

const TRANSFER = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
/** A user ABI's events: one without inputs (viem gives no args), one viem decodes (a string). */
const USER_EVENTS = ['event Paused()', 'event Note(address indexed who, string text)'].map((signature) => parseAbiItem(signature) as AbiEvent)
const [PAUSED, NOTE] = USER_EVENTS.map((event) => toEventSelector(event))
const hexOf = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString('hex')}`)
const word = hexOf(32)
const odd = fc.oneof(fc.string(), fc.constantFrom('a,b', 'say "hi"', 'line\nbreak', 'cr\r', '0xabc', '__proto__', 'é ü 😀'))
const extraFields = fc.dictionary(odd, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })

/** A log a watch delivers: stored once (chain_logs), with any extra fields the upstream sent. */
const watchLog = fc
  .record({
    block: fc.nat(30_000_000),
    logIndex: fc.nat(2_000),
    address: hexOf(20),
    checksummed: fc.boolean(),
    selector: fc.constantFrom(null, TRANSFER, TRANSFER, PAUSED!, NOTE!),
    topics: fc.array(fc.oneof(word, odd), { maxLength: 3 }),
    data: fc.oneof(
      hexOf(32),
      hexOf(0),
      hexOf(70),
      odd,
      fc.string().map((text) => encodeAbiParameters([{ type: 'string' }], [text])),
    ),
    extra: extraFields,
  })
  .map(({ block, logIndex, address, checksummed, selector, topics, data, extra }): ChainLog => {
    const allTopics = selector ? [selector, ...topics.slice(0, selector === TRANSFER ? 2 : selector === NOTE ? 1 : 0)] : topics
    const blockHash = `0x${block.toString(16).padStart(64, '0')}`
    const raw: Record<string, unknown> = {
      ...extra,
      address: checksummed ? `0x${address.slice(2).toUpperCase()}` : address,
      topics: allTopics,
      data,
      blockNumber: `0x${block.toString(16)}`,
      transactionHash: `0x${'ab'.repeat(32)}`,
      transactionIndex: '0x1',
      blockHash,
      logIndex: `0x${logIndex.toString(16)}`,
      removed: false,
    }
    return { blockNumber: block, blockHash, logIndex, transactionHash: `0x${'ab'.repeat(32)}`, transactionIndex: 1, address, topics: allTopics, data, raw }
  })

/** An event of the notification path: a pending transaction or a head with any payload, or a log holding its own columns. */
const otherEvent = fc.oneof(
  fc
    .record({
      kind: fc.constantFrom('pending_transaction', 'mined_transaction', 'syncing', 'head'),
      payload: fc.oneof(fc.jsonValue({ maxDepth: 3 }), odd, word),
      blockNumber: fc.option(fc.nat(30_000_000)),
      blockHash: fc.option(word),
      transactionHash: fc.option(odd),
    })
    .map((e): NormalizedEvent => ({
      ...e,
      transactionIndex: null,
      logIndex: null,
      address: null,
      topics: [],
      data: null,
      removed: false,
    })),
  watchLog.map((log): NormalizedEvent => ({
    kind: 'log',
    blockNumber: log.blockNumber,
    blockHash: log.blockHash,
    transactionHash: log.transactionHash,
    transactionIndex: log.transactionIndex,
    logIndex: log.logIndex,
    address: log.address,
    topics: log.topics,
    data: log.data,
    removed: false,
    payload: log.raw,
  })),
)

let dir: string
let db: Db
let store: EventStore
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-formats-'))
  db = openDatabase(path.join(dir, 'tidewatch.db'))
  db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'c', 'user', 'x', 'ws://x', 0)").run()
  store = new EventStore(db, { flushIntervalMs: 10_000 })
})
afterAll(() => {
  store.close()
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const decoder = new EventDecoder([{ name: 'Mine', events: USER_EVENTS }])
const context: ExportContext = {
  subscriptionIds: (streamId) => (streamId === 1 ? [] : streamId === 2 ? [4] : [5, 9]),
  finalized: () => 15_000_000,
  decodeJson: (topics, data, q) => decoder.decodeJson(topics, data, q),
}

describe('export lines', () => {
  it('are the JSON and the CSV of the live log’s event, byte for byte, whatever was stored', () => {
    let stream = 0
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            watchLog.map((log) => ({ log })),
            otherEvent.map((event) => ({ event })),
          ),
          { minLength: 1, maxLength: 6 },
        ),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        // Rows the same millisecond apart, within a second or across seconds.
        fc.integer({ min: 0, max: 1_500 }),
        fc.boolean(),
        (items, receivedAt, step, takeBack) => {
          // Each run in a stream of its own: its rows are the run's alone.
          const streamId = 10 + stream++
          items.forEach((item, i) => {
            if ('log' in item) store.enqueueLog(1, streamId, item.log, false, receivedAt + i * step)
            else store.enqueue(1, streamId, item.event, receivedAt + i * step)
          })
          const first = items[0]!
          if (takeBack && 'log' in first) store.enqueueRemoved(streamId, first.log.blockHash, first.log.logIndex)
          store.flush()
          const lines = eventLines({ ...context, subscriptionIds: () => context.subscriptionIds(streamId % 3) })
          const listed = store.list({ streamIds: [streamId], limit: 100 }).reverse()
          const exported = [...store.iterate({ streamIds: [streamId] }).pages].flat()
          expect(exported.map((row) => row[0])).toEqual(listed.map((e) => e.id))
          listed.forEach(({ streamId: _s, ...row }, i) => {
            const event: CapturedEvent = {
              ...row,
              subscriptionIds: [...context.subscriptionIds(streamId % 3)],
              irreversible: !row.removed && row.blockNumber !== null && row.blockNumber <= 15_000_000,
              decoded: row.kind === 'log' ? decoder.decode(row.topics, row.data) : null,
            }
            expect(lines.json(exported[i]!)).toBe(JSON.stringify(event))
            expect(lines.csv(exported[i]!)).toBe(referenceCsvRow(event))
          })
        },
      ),
      { numRuns: 300 },
    )
  })
})

/**
 * A captured log is stored once: in chain_logs, the events row pointing at it. It outlives
 * finality and its block's orphaning for as long as a row points at it, and goes with the
 * last one (retention); the pruner walks final logs once, across restarts.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { type ChainStore, type ChainLog } from './chain-store'
import { SqliteChainStore } from './sqlite-chain-store'
import { openDatabase, type Db } from './database'
import { EventStore, storedRow } from './event-store'
import { decodeRawLog, encodeRawLog, type LogColumns } from './raw-log'
import { RetentionStore } from './retention-store'

const cleanups: (() => void)[] = []
afterEach(() =>
  cleanups
    .splice(0)
    .reverse()
    .forEach((cleanup) => cleanup()),
)

interface Opened {
  dir: string
  db: Db
  events: EventStore
  chain: ChainStore
  close: () => void
}

function open(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-once-'))): Opened {
  const db = openDatabase(path.join(dir, 'tidewatch.db'))
  db.prepare("INSERT OR IGNORE INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'c', 'user', 'x', 'ws://x', 0)").run()
  db.prepare("INSERT OR IGNORE INTO streams (id, connection_id, stream_key) VALUES (7, 1, 'logs'), (8, 1, 'logs2')").run()
  const events = new EventStore(db, { flushIntervalMs: 10_000 })
  // As the app wires it: the chain's rows go through the events writer, in order with captured rows.
  const chain = new SqliteChainStore(db, 1, { queue: events, writeGate: (write) => events.exclusive(write) })
  let closed = false
  const close = (): void => {
    if (closed) return
    closed = true
    events.close()
    db.close()
  }
  cleanups.push(() => {
    close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return { dir, db, events, chain, close }
}

const hash = (n: number, salt = 0) => `0x${(n * 1000 + salt).toString(16).padStart(64, '0')}`
const TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'

function chainLog(block: number, logIndex: number, salt = 0): ChainLog {
  const raw = {
    address: '0x00000000000000000000000000000000000000Aa',
    topics: [TOPIC],
    data: `0x${logIndex.toString(16).padStart(64, '0')}`,
    blockNumber: `0x${block.toString(16)}`,
    blockHash: hash(block, salt),
    blockTimestamp: '0x6553f100',
    transactionHash: hash(block, 500 + logIndex),
    transactionIndex: '0x0',
    logIndex: `0x${logIndex.toString(16)}`,
    removed: false,
  }
  return {
    blockNumber: block,
    blockHash: raw.blockHash,
    logIndex,
    transactionHash: raw.transactionHash,
    transactionIndex: 0,
    address: raw.address.toLowerCase(),
    topics: raw.topics,
    data: raw.data,
    raw,
  }
}

function appendBlock(chain: ChainStore, number: number, logs: ChainLog[], salt = 0): Promise<void> {
  return chain.appendBlocks(
    [{ block: { number, hash: hash(number, salt), parentHash: hash(number - 1), timestamp: number, header: { number: `0x${number.toString(16)}` } }, logs }],
    0,
  )
}

const count = (db: Db, sql: string): number => (db.prepare(sql).pluck().get() as number) ?? 0

describe('a captured log stored once', () => {
  it('keeps one chain_logs row per log; events rows point at it and read back the raw object exactly', async () => {
    const { db, events, chain } = open()
    const live = chainLog(10, 0)
    await appendBlock(chain, 10, [live])
    // History served from the upstream: not in chain_logs until captured.
    const history = chainLog(3, 2)
    events.enqueueLog(1, 7, history, false, 1_000)
    events.enqueueLog(1, 7, live, true, 2_000)
    events.enqueueLog(1, 8, live, true, 2_000)
    events.flush()
    expect(count(db, 'SELECT COUNT(*) FROM chain_logs')).toBe(2)
    // The raw object is kept as what the columns cannot rebuild: the checksummed address, blockTimestamp, removed.
    const rawJson = db.prepare('SELECT raw_json FROM chain_logs WHERE block_number = 3').pluck().get() as string
    expect(rawJson.length).toBeLessThan(JSON.stringify(history.raw).length / 3)
    expect(count(db, "SELECT COUNT(*) FROM events WHERE kind = 'log' AND address IS NULL AND topics IS NULL AND data IS NULL AND payload IS NULL")).toBe(3)
    const rows = events.list({ limit: 10 })
    expect(rows.map((r) => [r.streamId, r.blockNumber, r.logIndex])).toEqual([
      [8, 10, 0],
      [7, 10, 0],
      [7, 3, 2],
    ])
    expect(rows[2]).toMatchObject({ address: history.address, topics: history.topics, data: history.data, transactionHash: history.transactionHash })
    expect(rows[2]!.payload).toEqual(history.raw)
    expect(rows[0]!.payload).toEqual(live.raw)
    // Filters see the pointed-at columns.
    expect(events.list({ limit: 10, selectors: [TOPIC], address: live.address, fromBlock: 5 }).map((r) => r.streamId)).toEqual([8, 7])
    expect(events.list({ limit: 10, text: '6553f100' })).toHaveLength(3)
    const exported = [...events.iterate({ streamIds: [7] }).pages].flat().map(storedRow)
    expect(exported.map((r) => r.payload)).toEqual([history.raw, live.raw])
  })

  it('keeps a pointed-at log past finality and orphaning, prunes the rest, and walks final logs once across restarts', async () => {
    const first = open()
    // 1,200 logs in one block, more than a pruning batch, every one captured.
    const big = Array.from({ length: 1_200 }, (_, i) => chainLog(5, i))
    await appendBlock(first.chain, 5, big)
    for (const log of big) first.events.enqueueLog(1, 7, log, true)
    const lonely = chainLog(6, 0)
    const orphan = chainLog(7, 0, 1)
    await appendBlock(first.chain, 6, [lonely])
    await appendBlock(first.chain, 7, [orphan], 1)
    first.events.enqueueLog(1, 7, orphan, true)
    first.events.flush()
    await first.chain.orphanAbove({ number: 6, hash: hash(6) })
    await appendBlock(first.chain, 7, [chainLog(7, 0)])
    await appendBlock(first.chain, 8, [])
    await first.chain.setFinalized(8)
    /** Batches until done, and the rows they removed. */
    const pass = async (chain: ChainStore): Promise<{ batches: number; rows: number }> => {
      let rows = 0
      for (let batches = 1; batches <= 100; batches++) {
        const batch = await chain.pruneFinal(8, 500, () => false)
        rows += batch.rows
        if (batch.done) return { batches, rows }
      }
      throw new Error('pruning never finished')
    }
    // The 1,200 captured logs of block 5 take three batches of 500 the first time.
    expect((await pass(first.chain)).batches).toBeGreaterThanOrEqual(3)
    const stored = (db: Db) => db.prepare('SELECT block_number, log_index, canonical FROM chain_logs ORDER BY block_number, log_index').all()
    // Every captured log stays (the orphaned one too, not canonical); the unreferenced ones went.
    expect(stored(first.db)).toEqual([
      ...big.map((l) => ({ block_number: 5, log_index: l.logIndex, canonical: 1 })),
      { block_number: 7, log_index: 0, canonical: 0 },
    ])
    expect(first.events.list({ limit: 1 })[0]!.payload).toEqual(orphan.raw)
    const position = first.db.prepare('SELECT logs_pruned_block, logs_pruned_index FROM chain_cursor').get()
    expect(position).toEqual({ logs_pruned_block: 7, logs_pruned_index: 0 })
    first.close()

    // After a restart the pruner starts where it stopped: no captured log is read again.
    const again = open(first.dir)
    expect(await pass(again.chain)).toEqual({ batches: 1, rows: 0 })
    expect(again.db.prepare('SELECT logs_pruned_block, logs_pruned_index FROM chain_cursor').get()).toEqual(position)
  })

  it('retention takes a final log with the last events row pointing at it', async () => {
    const { db, events, chain } = open()
    const shared = chainLog(4, 0)
    const mine = chainLog(4, 1)
    await appendBlock(chain, 4, [shared, mine])
    await chain.setFinalized(4)
    const old = Date.now() - 10 * 86_400_000
    events.enqueueLog(1, 7, shared, true, old)
    events.enqueueLog(1, 7, mine, true, old)
    events.enqueueLog(1, 8, shared, true, Date.now())
    events.flush()
    expect(new RetentionStore(db).pruneEvents(1, 5, 500)).toBe(2)
    // `mine` had no other row: gone. `shared` is still pointed at by stream 8.
    expect(db.prepare('SELECT log_index FROM chain_logs ORDER BY log_index').pluck().all()).toEqual([0])
    expect(events.list({ limit: 10 }).map((r) => r.payload)).toEqual([shared.raw])
  })
})

describe('raw-log codec', () => {
  it('reads back every raw log object exactly, whatever its fields', () => {
    const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString('hex')}`)
    fc.assert(
      fc.property(
        hex(20),
        fc.array(hex(32), { maxLength: 4 }),
        hex(36),
        fc.nat(1e9),
        fc.nat(500),
        fc.boolean(),
        fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
        (address, topics, data, block, index, checksummed, extra) => {
          const raw: Record<string, unknown> = {
            ...extra,
            address: checksummed ? address.toUpperCase().replace('0X', '0x') : address,
            topics,
            data,
            blockNumber: `0x${block.toString(16)}`,
            logIndex: `0x${index.toString(16)}`,
            removed: false,
          }
          const columns: LogColumns = {
            address: address.toLowerCase(),
            topics,
            data,
            blockNumber: block,
            blockHash: null,
            transactionHash: null,
            transactionIndex: null,
            logIndex: index,
            removed: false,
          }
          const stored = encodeRawLog(columns, raw)
          expect(decodeRawLog(stored, columns)).toEqual(JSON.parse(JSON.stringify(raw)))
        },
      ),
    )
  })
})

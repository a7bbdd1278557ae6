/** The tracker's canonical chain in SQLite: blocks, all their logs, and the cursor. */
import { ungated, type Db, type WriteGate } from '../store/database'

export interface ChainBlock {
  number: number
  hash: string
  parentHash: string
  timestamp: number
  header: Record<string, unknown>
}

export interface ChainLog {
  blockHash: string
  blockNumber: number
  logIndex: number
  transactionHash: string
  transactionIndex: number
  address: string
  topics: string[]
  data: string
}

export interface Cursor {
  firstBlock: number
  number: number
  hash: string
  finalized: number
}

/** A log as eth_getLogs answers it (hex quantities). */
export interface RawLog {
  blockHash: string
  blockNumber: string
  logIndex: string
  transactionHash: string
  transactionIndex: string
  address: string
  topics: string[]
  data: string
}

export function toChainLog(raw: RawLog): ChainLog {
  return {
    blockHash: raw.blockHash.toLowerCase(),
    blockNumber: Number(raw.blockNumber),
    logIndex: Number(raw.logIndex),
    transactionHash: raw.transactionHash.toLowerCase(),
    transactionIndex: Number(raw.transactionIndex),
    address: raw.address.toLowerCase(),
    topics: raw.topics.map((t) => t.toLowerCase()),
    data: raw.data,
  }
}

interface LogRow {
  block_hash: string
  block_number: number
  log_index: number
  tx_hash: string
  tx_index: number
  address: string
  topics: string
  data: string
}

export class ChainStore {
  private readonly insertBlock
  private readonly insertLog
  private readonly saveCursor

  constructor(
    private readonly db: Db,
    private readonly connectionId: number,
    private readonly writeGate: WriteGate = ungated,
  ) {
    // Prepared once: appendBlock runs for every block of every connection.
    this.insertBlock = db.prepare(
      `INSERT INTO chain_blocks (connection_id, number, hash, parent_hash, timestamp, canonical, header_json) VALUES (?, ?, ?, ?, ?, 1, ?)
       ON CONFLICT (connection_id, hash) DO UPDATE SET canonical = 1`,
    )
    this.insertLog = db.prepare(
      `INSERT INTO chain_logs (connection_id, block_hash, block_number, log_index, tx_hash, tx_index, address, topics, data, canonical)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (connection_id, block_hash, log_index) DO UPDATE SET canonical = 1`,
    )
    this.saveCursor = db.prepare(
      `INSERT INTO chain_cursor (connection_id, first_block, number, hash) VALUES (?, ?, ?, ?)
       ON CONFLICT (connection_id) DO UPDATE SET number = excluded.number, hash = excluded.hash`,
    )
  }

  cursor(): Cursor | undefined {
    const row = this.db.prepare('SELECT first_block, number, hash, finalized FROM chain_cursor WHERE connection_id = ?').get(this.connectionId) as
      | { first_block: number; number: number; hash: string; finalized: number }
      | undefined
    return row ? { firstBlock: row.first_block, number: row.number, hash: row.hash, finalized: row.finalized } : undefined
  }

  /** Stores a canonical block with all its logs and advances the cursor, atomically. */
  appendBlock(block: ChainBlock, logs: ChainLog[], firstBlock: number): void {
    this.writeGate(this.db.transaction(() => {
      this.insertBlock.run(this.connectionId, block.number, block.hash, block.parentHash, block.timestamp, JSON.stringify(block.header))
      for (const log of logs) {
        this.insertLog.run(this.connectionId, log.blockHash, log.blockNumber, log.logIndex, log.transactionHash, log.transactionIndex, log.address, log.topics.join(','), log.data)
      }
      this.saveCursor.run(this.connectionId, firstBlock, block.number, block.hash)
    }))
  }

  /** Marks canonical blocks above `ancestor` (and their logs) orphaned; returns them newest first. */
  orphanAbove(ancestor: { number: number; hash: string }): { block: ChainBlock; logs: ChainLog[] }[] {
    return this.writeGate(this.db.transaction(() => {
      const orphaned = this.canonicalRange(ancestor.number + 1, Number.MAX_SAFE_INTEGER).reverse()
      this.db.prepare('UPDATE chain_blocks SET canonical = 0 WHERE connection_id = ? AND canonical = 1 AND number > ?').run(this.connectionId, ancestor.number)
      this.db.prepare('UPDATE chain_logs SET canonical = 0 WHERE connection_id = ? AND canonical = 1 AND block_number > ?').run(this.connectionId, ancestor.number)
      this.db.prepare('UPDATE chain_cursor SET number = ?, hash = ? WHERE connection_id = ?').run(ancestor.number, ancestor.hash, this.connectionId)
      return orphaned
    }))
  }

  setFinalized(number: number): void {
    this.writeGate(() => this.db.prepare('UPDATE chain_cursor SET finalized = ? WHERE connection_id = ? AND finalized < ?').run(number, this.connectionId, number))
  }

  /**
   * The highest canonical block on the branch of `hash`, following parent links through
   * orphaned blocks; undefined when the branch leaves what the store holds.
   */
  canonicalAncestorOf(hash: string): number | undefined {
    const find = this.db.prepare('SELECT number, parent_hash, canonical FROM chain_blocks WHERE connection_id = ? AND hash = ?')
    let current = hash
    for (let steps = 0; steps < 10_000; steps++) {
      const row = find.get(this.connectionId, current) as { number: number; parent_hash: string; canonical: number } | undefined
      if (!row) return undefined
      if (row.canonical === 1) return row.number
      current = row.parent_hash
    }
    return undefined
  }

  /** Any stored block at this height (canonical preferred), for comparing parents. */
  blockAt(number: number): { hash: string; parentHash: string } | undefined {
    const row = this.db
      .prepare('SELECT hash, parent_hash FROM chain_blocks WHERE connection_id = ? AND number = ? ORDER BY canonical DESC LIMIT 1')
      .get(this.connectionId, number) as { hash: string; parent_hash: string } | undefined
    return row ? { hash: row.hash, parentHash: row.parent_hash } : undefined
  }

  canonicalHash(number: number): string | undefined {
    const row = this.db.prepare('SELECT hash FROM chain_blocks WHERE connection_id = ? AND canonical = 1 AND number = ?').get(this.connectionId, number) as { hash: string } | undefined
    return row?.hash
  }

  /** Canonical blocks in [from, to] with their logs, oldest first. */
  canonicalRange(from: number, to: number): { block: ChainBlock; logs: ChainLog[] }[] {
    const blocks = this.db
      .prepare('SELECT number, hash, parent_hash, timestamp, header_json FROM chain_blocks WHERE connection_id = ? AND canonical = 1 AND number BETWEEN ? AND ? ORDER BY number')
      .all(this.connectionId, from, to) as { number: number; hash: string; parent_hash: string; timestamp: number; header_json: string }[]
    if (blocks.length === 0) return []
    const logs = this.db
      .prepare('SELECT * FROM chain_logs WHERE connection_id = ? AND canonical = 1 AND block_number BETWEEN ? AND ? ORDER BY block_number, log_index')
      .all(this.connectionId, from, to) as LogRow[]
    const byBlock = new Map<string, ChainLog[]>()
    for (const row of logs) {
      const list = byBlock.get(row.block_hash) ?? []
      list.push(toLog(row))
      byBlock.set(row.block_hash, list)
    }
    return blocks.map((b) => ({
      block: { number: b.number, hash: b.hash, parentHash: b.parent_hash, timestamp: b.timestamp, header: JSON.parse(b.header_json) as Record<string, unknown> },
      logs: byBlock.get(b.hash) ?? [],
    }))
  }

  /** Every canonical log, for checks against eth_getLogs. */
  canonicalLogs(from: number, to: number): ChainLog[] {
    return (
      this.db
        .prepare('SELECT * FROM chain_logs WHERE connection_id = ? AND canonical = 1 AND block_number BETWEEN ? AND ? ORDER BY block_number, log_index')
        .all(this.connectionId, from, to) as LogRow[]
    ).map(toLog)
  }
}

function toLog(row: LogRow): ChainLog {
  return {
    blockHash: row.block_hash,
    blockNumber: row.block_number,
    logIndex: row.log_index,
    transactionHash: row.tx_hash,
    transactionIndex: row.tx_index,
    address: row.address,
    topics: row.topics ? row.topics.split(',') : [],
    data: row.data,
  }
}

/** The raw JSON-RPC log object, rebuilt from stored columns. */
export function rawLog(log: ChainLog, removed: boolean): Record<string, unknown> {
  return {
    address: log.address,
    topics: log.topics,
    data: log.data,
    blockNumber: `0x${log.blockNumber.toString(16)}`,
    blockHash: log.blockHash,
    transactionHash: log.transactionHash,
    transactionIndex: `0x${log.transactionIndex.toString(16)}`,
    logIndex: `0x${log.logIndex.toString(16)}`,
    removed,
  }
}

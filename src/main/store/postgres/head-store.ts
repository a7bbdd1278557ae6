/**
 * Chain heads in the PostgreSQL store, with SQLite's HeadStore semantics (../head-store.ts):
 * heads queued and committed in batches, a head seen twice stored once, transaction counts
 * set on their head when they arrive, pages read newest first. A batch is one transaction
 * of two multi-row statements (unnest), announced on the change feed as it commits; one
 * batch is in flight at a time, and a failed one keeps its rows, in order, ahead of those
 * queued since, retried with backoff (storage-health.ts retryDelay).
 *
 * `latest` answers at once, as the connection list asks for it while it draws: this store
 * holds each connection's latest head in memory (the highest number, the newest of a number
 * seen twice, as HeadStore's query orders them). It is read at open, follows this store's
 * own commits, and follows other instances' through the change feed: the owner hands each
 * 'heads' change to `noteCommitted`, which reads that connection's latest head again, and
 * calls `reloadLatest` after the feed's 'resync' (changes missed while it was down) and after
 * pruning heads. Batches, these reads and deletes run one at a time in the order made, so
 * a read never lands over a newer commit of this store.
 */
import type { PoolClient } from 'pg'
import type { Head } from '../../../shared/contract'
import { BUSY_TIMEOUT_MS } from '../database'
import { HEAD_COLUMNS, toHead, type HeadRow, type HeadsCommitted, type HeadWriterOptions, type NewHead } from '../head-store'
import { retryDelay } from '../storage-health'
import { notifyChanges } from './change-feed'
import type { PostgresPool } from './database'

export interface PostgresHeadStoreOptions extends Pick<HeadWriterOptions, 'flushIntervalMs' | 'maxBatch' | 'onCommitted' | 'onError'> {
  /** How long a batch waits for another session's lock before it fails and is retried (lock_timeout); BUSY_TIMEOUT_MS, as SQLite's busy_timeout. */
  lockTimeoutMs?: number
}

interface TxCount {
  connectionId: number
  hash: string
  txCount: number
}

/** Queued rows taken for one commit, and the settled() calls waiting for them to be tried. */
interface Batch {
  heads: NewHead[]
  counts: TxCount[]
  tried: (() => void)[]
}

// A head seen twice (a resubscription, a repeated notification) is stored once: DO NOTHING also skips a repeat within the batch.
const INSERT_HEADS = `INSERT INTO heads (connection_id, number, hash, parent_hash, timestamp, gas_used, gas_limit, base_fee_per_gas, tx_count, received_at)
  SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[])
  ON CONFLICT (connection_id, hash) DO NOTHING
  RETURNING ${HEAD_COLUMNS}`

const UPDATE_TX_COUNTS = `UPDATE heads SET tx_count = u.tx_count
  FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(connection_id, hash, tx_count)
  WHERE heads.connection_id = u.connection_id AND heads.hash = u.hash
  RETURNING ${HEAD_COLUMNS.split(', ')
    .map((column) => `heads.${column}`)
    .join(', ')}`

/** Each connection's newest id, for a batch that only set transaction counts (HeadStore reports that connection's last id). */
const LAST_IDS = 'SELECT c AS connection_id, (SELECT max(id) FROM heads WHERE connection_id = c) AS id FROM unnest($1::bigint[]) AS c'

/** Each connection's latest head: the highest number, the newest row of a number (heads_by_number, one step per connection). */
const LATEST = `SELECT h.* FROM connections c
  CROSS JOIN LATERAL (SELECT ${HEAD_COLUMNS} FROM heads WHERE connection_id = c.id ORDER BY number DESC, id DESC LIMIT 1) h`
const LATEST_OF = `SELECT ${HEAD_COLUMNS} FROM heads WHERE connection_id = $1 ORDER BY number DESC, id DESC LIMIT 1`

/** Whether `a` comes after `b` in `latest`'s order. */
const isLater = (a: Head, b: Head): boolean => a.number > b.number || (a.number === b.number && a.id > b.id)

export class PostgresHeadStore {
  private queue: NewHead[] = []
  private txCounts: TxCount[] = []
  /** settled() calls waiting for the queued rows to be tried. */
  private tried: (() => void)[] = []
  /** The batch with the server: its commit, its rows, and the settled() calls waiting for it. */
  private inFlight: Promise<void> | null = null
  private inFlightCount = 0
  private inFlightTried: (() => void)[] = []
  private timer: NodeJS.Timeout | null = null
  private retrying = false
  private failures = 0
  private closing: Promise<void> | null = null
  private readonly latestHeads = new Map<number, Head>()
  /** Batches, reads of the latest heads and deletes, one at a time in the order made. */
  private turn: Promise<unknown> = Promise.resolve()
  private readonly flushIntervalMs: number
  private readonly maxBatch: number

  private constructor(
    private readonly pool: PostgresPool,
    private readonly options: PostgresHeadStoreOptions,
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 50
    this.maxBatch = options.maxBatch ?? 1000
  }

  /** The store, with every connection's latest head read. */
  static async open(pool: PostgresPool, options: PostgresHeadStoreOptions = {}): Promise<PostgresHeadStore> {
    const store = new PostgresHeadStore(pool, options)
    await store.reloadLatest()
    return store
  }

  enqueue(head: NewHead): void {
    this.queue.push(head)
    this.schedule()
  }

  /** Transaction counts arrive after the header (newHeads does not carry them). */
  enqueueTxCount(connectionId: number, hash: string, txCount: number): void {
    this.txCounts.push({ connectionId, hash, txCount })
    this.schedule()
  }

  /** Rows queued or in the batch being committed. */
  get pendingCount(): number {
    return this.queue.length + this.txCounts.length + this.inFlightCount
  }

  /** True while commits fail and a retry is due. */
  get failing(): boolean {
    return this.retrying
  }

  /** Starts committing what is queued, unless a batch is in flight (its end sends the rest) or a failed one awaits its retry. */
  flush(): void {
    if (this.timer && !this.retrying) {
      clearTimeout(this.timer)
      this.timer = null
    }
    if (!this.retrying) this.dispatch()
  }

  /**
   * Resolves once everything queued so far has been tried: committed, or failed and held for
   * the retry. While failing it resolves at once (the retry timer, not every caller, tries again).
   */
  settled(): Promise<void> {
    const queued = this.queue.length + this.txCounts.length > 0
    if (this.retrying || (!queued && !this.inFlight)) return Promise.resolve()
    const tried = new Promise<void>((resolve) => (queued ? this.tried : this.inFlightTried).push(resolve))
    this.flush()
    return tried
  }

  /** A page of heads, newest first (HeadStore.list's rows). */
  async list(query: { connectionId?: number | undefined; limit: number; beforeId?: number | undefined }): Promise<Head[]> {
    const values: number[] = []
    const conditions: string[] = []
    // Only the filters given: heads_by_connection (connection, id) serves a connection's page.
    if (query.connectionId !== undefined) conditions.push(`connection_id = $${values.push(query.connectionId)}`)
    if (query.beforeId !== undefined) conditions.push(`id < $${values.push(query.beforeId)}`)
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''
    const { rows } = await this.pool.query<HeadRow>(`SELECT ${HEAD_COLUMNS} FROM heads ${where} ORDER BY id DESC LIMIT $${values.push(query.limit)}`, values)
    return rows.map(toHead)
  }

  /** The connection's latest committed head (HeadStore.latest's), from memory. */
  latest(connectionId: number): Head | undefined {
    return this.latestHeads.get(connectionId)
  }

  /**
   * Another instance (or this one) committed heads of `batch.connectionId` (a 'heads' change
   * on the feed): reads that connection's latest head again. Resolves once `latest` has it.
   */
  noteCommitted(batch: HeadsCommitted): Promise<void> {
    return this.inTurn(async () => {
      const row = (await this.pool.query<HeadRow>(LATEST_OF, [batch.connectionId])).rows[0]
      if (row) this.latestHeads.set(batch.connectionId, toHead(row))
      else this.latestHeads.delete(batch.connectionId)
    })
  }

  /** Reads every connection's latest head again (at open, after the change feed's 'resync', after pruning). */
  reloadLatest(): Promise<void> {
    return this.inTurn(async () => {
      const { rows } = await this.pool.query<HeadRow>(LATEST)
      this.latestHeads.clear()
      for (const row of rows) this.latestHeads.set(row.connection_id, toHead(row))
    })
  }

  async deleteForConnection(connectionId: number): Promise<void> {
    await this.inTurn(async () => {
      await this.pool.query('DELETE FROM heads WHERE connection_id = $1', [connectionId])
      this.latestHeads.delete(connectionId)
    })
  }

  /** Commits what is queued (one last attempt even while failing), then stops; the pool stays the caller's. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown())
  }

  private async shutdown(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.retrying = false
    // Each commit sends what queued behind it, until one fails.
    this.dispatch()
    while (this.inFlight) await this.inFlight
    for (const resolve of this.tried.splice(0)) resolve()
  }

  private schedule(): void {
    if (this.queue.length >= this.maxBatch) this.flush()
    else if (!this.timer) this.timer = setTimeout(() => this.timerFired(), this.flushIntervalMs)
  }

  private timerFired(): void {
    this.timer = null
    this.dispatch()
  }

  private dispatch(): void {
    if (this.inFlight || this.queue.length + this.txCounts.length === 0) return
    const batch: Batch = { heads: this.queue, counts: this.txCounts, tried: this.tried }
    this.queue = []
    this.txCounts = []
    this.tried = []
    this.inFlightCount = batch.heads.length + batch.counts.length
    this.inFlightTried = batch.tried
    this.inFlight = this.inTurn(() => this.commit(batch))
  }

  private async commit(batch: Batch): Promise<void> {
    let committed: HeadsCommitted[]
    try {
      committed = await this.write(batch)
    } catch (error) {
      this.landed()
      this.failed(batch, error instanceof Error ? error : new Error(String(error)))
      return
    }
    this.landed()
    this.retrying = false
    this.failures = 0
    // Rows that queued up while this batch committed go next, at once.
    this.dispatch()
    if (committed.length > 0) this.options.onCommitted?.(committed)
    for (const resolve of batch.tried) resolve()
  }

  /** The batch in flight has its answer. */
  private landed(): void {
    this.inFlight = null
    this.inFlightCount = 0
  }

  /** Keeps the batch's rows, in order, ahead of those queued since, and retries after the backoff. */
  private failed(batch: Batch, error: Error): void {
    this.queue = batch.heads.concat(this.queue)
    this.txCounts = batch.counts.concat(this.txCounts)
    this.retrying = true
    if (this.timer) clearTimeout(this.timer)
    const retryInMs = retryDelay(this.failures++)
    this.timer = this.closing ? null : setTimeout(() => this.retry(), retryInMs)
    this.options.onError?.(error, { pendingWrites: this.pendingCount, retryInMs })
    // Tried: settled() returns, with the rows held for the retry (the queue's too: it waits for the retry as well).
    for (const resolve of [...batch.tried, ...this.tried.splice(0)]) resolve()
  }

  private retry(): void {
    this.timer = null
    this.retrying = false
    this.dispatch()
  }

  /** One batch in one transaction: the new heads, then the transaction counts (on those heads too), announced as it commits. */
  private async write(batch: Batch): Promise<HeadsCommitted[]> {
    const client = await this.pool.connect()
    // A connection that fails mid-batch is an 'error' event: unheard, it would end the process. The batch fails and is retried.
    const onError = (): void => undefined
    client.on('error', onError)
    let broken = false
    try {
      await client.query(`BEGIN; SET LOCAL lock_timeout = ${Math.round(this.options.lockTimeoutMs ?? BUSY_TIMEOUT_MS)}`)
      try {
        const result = await this.writeRows(client, batch)
        await client.query('COMMIT')
        this.applyCommitted(result.inserted, result.updated)
        return result.committed
      } catch (error) {
        await client.query('ROLLBACK').catch(() => (broken = true))
        throw error
      }
    } catch (error) {
      broken ||= (error as { code?: unknown }).code === undefined
      throw error
    } finally {
      client.removeListener('error', onError)
      client.release(broken)
    }
  }

  private async writeRows(client: PoolClient, batch: Batch): Promise<{ committed: HeadsCommitted[]; inserted: HeadRow[]; updated: HeadRow[] }> {
    const committed = new Map<number, HeadsCommitted>()
    let inserted: HeadRow[] = []
    if (batch.heads.length > 0) {
      const h = batch.heads
      inserted = (
        await client.query<HeadRow>(INSERT_HEADS, [
          h.map((x) => x.connectionId),
          h.map((x) => x.number),
          h.map((x) => x.hash),
          h.map((x) => x.parentHash),
          h.map((x) => x.timestamp),
          h.map((x) => x.gasUsed),
          h.map((x) => x.gasLimit),
          h.map((x) => x.baseFeePerGas),
          h.map((x) => x.txCount),
          h.map((x) => x.receivedAt),
        ])
      ).rows
      for (const row of inserted) {
        const entry = committed.get(row.connection_id) ?? { connectionId: row.connection_id, lastId: 0, count: 0 }
        entry.lastId = Math.max(entry.lastId, row.id)
        entry.count += 1
        committed.set(row.connection_id, entry)
      }
    }
    let updated: HeadRow[] = []
    if (batch.counts.length > 0) {
      // The last count given for a head wins, as SQLite's updates run in order; one UPDATE may set a row only once.
      const counts = [...new Map(batch.counts.map((c) => [`${c.connectionId}:${c.hash}`, c])).values()]
      updated = (await client.query<HeadRow>(UPDATE_TX_COUNTS, [counts.map((c) => c.connectionId), counts.map((c) => c.hash), counts.map((c) => c.txCount)]))
        .rows
      const others = [...new Set(updated.map((row) => row.connection_id))].filter((id) => !committed.has(id))
      if (others.length > 0) {
        const { rows } = await client.query<{ connection_id: number; id: number }>(LAST_IDS, [others])
        for (const row of rows) committed.set(row.connection_id, { connectionId: row.connection_id, lastId: row.id, count: 0 })
      }
    }
    const changes = [...committed.values()]
    // Viewers hear of the heads as they commit, never of heads rolled back.
    if (changes.length > 0)
      await notifyChanges(
        client,
        changes.map((change) => ({ change: 'heads' as const, ...change })),
      )
    return { committed: changes, inserted, updated }
  }

  /** The latest heads after this store's commit: a later head replaces a connection's, a new count its head's. */
  private applyCommitted(inserted: HeadRow[], updated: HeadRow[]): void {
    for (const row of inserted) {
      const head = toHead(row)
      const current = this.latestHeads.get(head.connectionId)
      if (!current || isLater(head, current)) this.latestHeads.set(head.connectionId, head)
    }
    for (const row of updated) if (this.latestHeads.get(row.connection_id)?.id === row.id) this.latestHeads.set(row.connection_id, toHead(row))
  }

  /** Runs `work` after everything made before it in this store (batches, reads of the latest heads, deletes). */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const next = this.turn.then(work)
    this.turn = next.catch(() => undefined)
    return next
  }
}

/**
 * One capturer of a logs subscription sharing a PostgreSQL store with others, composed from
 * the parts issue 13's engine wiring will use: the connection's leadership (an advisory
 * lock), and while elected, the chain tracker on PostgresChainStore (its window loaded from
 * the store at election), the subscription's watch resumed from the cursor stored with its
 * rows, and PostgresCaptureWriter. Losing the leadership stops everything at once. For the
 * takeover test, in this process or in a child (test/helpers/postgres-capturer.mjs).
 */
import { createTrackerWatchProvider } from '../../src/main/chain/tracker-watch'
import { LiveConnection } from '../../src/main/engine/live-connection'
import { PostgresCaptureWriter } from '../../src/main/store/postgres/capture-writer'
import { PostgresChainStore } from '../../src/main/store/postgres/chain-store'
import { connectPostgres, type PostgresPool } from '../../src/main/store/postgres/database'
import { ConnectionLeadership } from '../../src/main/store/postgres/leadership'
import { WatchCapture } from '../../src/main/subscriptions/watch-capture'

export interface SharedCaptureOptions {
  /** The store (already migrated, with the connection, stream and subscription rows). */
  url: string
  /** The upstream. */
  wsUrl: string
  connectionId: number
  subscriptionId: number
  streamId: number
  /** The logs subscription's filter. */
  address: string
  say: (line: string) => void
}

export interface SharedCapture {
  /** Stops capture (committing what is queued) and gives up the leadership. */
  stop(): Promise<void>
}

interface Running {
  live: LiveConnection
  capture: WatchCapture
  writer: PostgresCaptureWriter
}

export async function startSharedCapture(options: SharedCaptureOptions): Promise<SharedCapture> {
  const { connectionId, subscriptionId, streamId, say } = options
  const pool: PostgresPool = await connectPostgres(options.url, { log: (message) => say(`log ${message}`) })
  const leadership = new ConnectionLeadership(pool, connectionId, { retryIntervalMs: 300, sessionTimeoutMs: 2_000, log: (message) => say(`log ${message}`) })
  let running: Running | null = null
  let starting: Promise<void> | null = null

  const start = async (): Promise<void> => {
    const writer = new PostgresCaptureWriter(pool, { onError: (error) => say(`log capture: ${error.message}`) })
    const settleCaptured = async (): Promise<boolean> => {
      await writer.settle()
      return writer.pendingCount === 0
    }
    // The window comes from the store as the last leader committed it.
    const chainStore = await PostgresChainStore.open(pool, connectionId, { settleCaptured })
    const live = new LiveConnection({ id: connectionId, url: options.wsUrl, httpUrl: null, chainStore, log: (message) => say(`log ${message}`) })
    // Blocks that left the chain: whatever was captured of them is marked removed.
    live.tracker.on('reorg', (orphaned) =>
      writer.enqueueOrphaned(
        connectionId,
        orphaned.map((o) => o.block.hash),
      ),
    )
    const saved = (
      await pool.query<{ start_block: number | null; cursor_number: number | null; cursor_hash: string | null }>(
        'SELECT start_block, cursor_number, cursor_hash FROM subscriptions WHERE id = $1',
        [subscriptionId],
      )
    ).rows[0]!
    const capture = new WatchCapture({
      spec: { type: 'logs', params: { address: options.address } },
      watch: { startBlock: -5, fetch: false, listen: true, irreversibleOnly: false },
      provider: createTrackerWatchProvider(live.tracker, live.pool),
      resume: {
        startBlock: saved.start_block,
        cursor: saved.cursor_number === null || saved.cursor_hash === null ? null : { number: saved.cursor_number, hash: saved.cursor_hash },
        complete: false,
      },
      store: {
        insertLog: (log, stored) => writer.enqueueLog(connectionId, streamId, log, stored),
        insert: (event) => writer.enqueue(connectionId, streamId, event),
        remove: (blockHash, logIndex) => writer.enqueueRemoved(streamId, blockHash, logIndex),
        cursor: (number, hash) => writer.enqueueCursor(subscriptionId, number, hash),
        resolvedStart: (startBlock, head) =>
          void pool.query('UPDATE subscriptions SET start_block = $2, head_at_start = $3 WHERE id = $1', [subscriptionId, startBlock, head]),
        complete: () => undefined,
      },
      log: (message) => say(`log ${message}`),
    })
    live.start()
    capture.start()
    running = { live, capture, writer }
    say(`capturing from ${saved.cursor_number ?? 'the start'}`)
  }

  const halt = async (commit: boolean): Promise<void> => {
    await starting
    const current = running
    running = null
    if (!current) return
    if (!commit) current.writer.abandon()
    await current.capture.stop()
    await current.live.stop()
    if (commit) await current.writer.close()
  }

  leadership.on('elected', () => {
    say('elected')
    starting = start()
  })
  leadership.on('following', () => say('following'))
  // Another capturer may be elected now: stop at once, commit nothing more.
  leadership.on('lost', (reason) => {
    say(`lost ${reason}`)
    void halt(false)
  })
  leadership.start()
  return {
    async stop() {
      await halt(true)
      await leadership.release()
      await pool.end()
    },
  }
}

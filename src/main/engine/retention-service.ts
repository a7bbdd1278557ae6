/**
 * How long each connection keeps its heads and events, the pruning pass that applies it on
 * a timer, disk use per connection, and giving freed space back (compact).
 */
import { DEFAULT_HEADS_RETENTION_DAYS, type StorageUse } from '../store/retention-store'
import type { EngineStore } from '../store/engine-store'
import type { ConnectionsService } from './connections-service'

/** Rows deleted per transaction when pruning, so capture never waits long for the disk. */
const RETENTION_BATCH = 500

export class RetentionService {
  private timer: NodeJS.Timeout | null = null
  private running = false
  private closed = false

  constructor(
    private readonly store: Pick<EngineStore, 'connections' | 'pruneHeads' | 'pruneEvents' | 'storageUse' | 'compact'>,
    private readonly connections: Pick<ConnectionsService, 'get'>,
    /** Pruning runs this often; 0 turns it off. */
    intervalMs: number,
    private readonly log: (message: string) => void,
  ) {
    if (intervalMs > 0) this.timer = setInterval(() => void this.apply(), intervalMs).unref()
  }

  /** How long this connection keeps heads (null: 30 days) and captured events (null: forever); applied by the next pruning pass. */
  set(id: number, retention: { headsRetentionDays: number | null; eventsRetentionDays: number | null }): void {
    this.connections.get(id)
    this.store.connections.setRetention(id, retention)
  }

  /** Disk use per saved connection, with its retention settings. */
  async storageUse(): Promise<(StorageUse & { headsRetentionDays: number; eventsRetentionDays: number | null })[]> {
    const connections = this.store.connections.list()
    return (await this.store.storageUse(connections.map((c) => c.id))).map((use, i) => ({
      ...use,
      headsRetentionDays: connections[i]!.headsRetentionDays ?? DEFAULT_HEADS_RETENTION_DAYS,
      eventsRetentionDays: connections[i]!.eventsRetentionDays,
    }))
  }

  /** Gives the space pruning freed back to the file system; captured rows wait in memory meanwhile. */
  compact(): Promise<{ bytesBefore: number; bytesAfter: number }> {
    return Promise.resolve(this.store.compact())
  }

  /**
   * One pruning pass over every connection: heads past their retention, events past theirs,
   * a batch per transaction through the same gate as every other write, with the event loop
   * free between batches.
   */
  async apply(now = Date.now()): Promise<number> {
    if (this.running || this.closed) return 0
    this.running = true
    let total = 0
    try {
      for (const connection of this.store.connections.list()) {
        const headsDays = connection.headsRetentionDays ?? DEFAULT_HEADS_RETENTION_DAYS
        const prunes: (() => number | Promise<number>)[] = [() => this.store.pruneHeads(connection.id, headsDays, RETENTION_BATCH, now)]
        const eventsDays = connection.eventsRetentionDays
        if (eventsDays !== null) prunes.push(() => this.store.pruneEvents(connection.id, eventsDays, RETENTION_BATCH, now))
        for (const prune of prunes) {
          for (;;) {
            if (this.closed) return total
            const deleted = await prune()
            total += deleted
            if (deleted < RETENTION_BATCH) break
            await new Promise((resolve) => setImmediate(resolve))
          }
        }
      }
    } catch (error) {
      this.log(`retention pruning failed, will retry: ${error instanceof Error ? error.message : String(error)}`)
    } finally {
      this.running = false
    }
    return total
  }

  close(): void {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
  }
}

/** Saved subscriptions: what each connection should be subscribed to, paused or not. */
import { watchOptionsSchema, type WatchOptions } from '../../shared/contract'
import { subscriptionKey, subscriptionSpecSchema, type SubscriptionSpec } from '../../shared/subscription-params'
import type { Db } from './database'

export interface StoredSubscription {
  id: number
  connectionId: number
  spec: SubscriptionSpec
  streamKey: string
  streamId: number
  label: string | null
  paused: boolean
  createdAt: number
  watch: WatchOptions | null
  /** Absolute first block, resolved when the watch first ran. */
  startBlock: number | null
  headAtStart: number | null
  cursor: { number: number; hash: string } | null
  complete: boolean
  notify: boolean
}

/** A subscriptions row joined with its stream's id, as both databases answer it (the PostgreSQL mirror joins in memory). */
export interface SubscriptionRow {
  id: number
  connection_id: number
  type: string
  params_json: string
  stream_key: string
  label: string | null
  paused: number
  created_at: number
  stream_id: number
  watch_json: string | null
  start_block: number | null
  head_at_start: number | null
  cursor_number: number | null
  cursor_hash: string | null
  complete: number
  notify: number
}

/** What the engine may call on saved subscriptions, whichever database holds them: every public method of SubscriptionStore. */
export type SubscriptionStoreApi = Pick<SubscriptionStore, keyof SubscriptionStore>

export class SubscriptionStore {
  private readonly select

  constructor(private readonly db: Db) {
    this.select = db.prepare(
      `SELECT s.*, st.id AS stream_id FROM subscriptions s
       JOIN streams st ON st.connection_id = s.connection_id AND st.stream_key = s.stream_key
       WHERE (@connectionId IS NULL OR s.connection_id = @connectionId) AND (@id IS NULL OR s.id = @id) ORDER BY s.id`,
    )
  }

  /** Every subscription of a connection starts over: its start, cursor and completion forgotten (a new chain). */
  resetPositions(connectionId: number): void {
    this.db
      .prepare(
        'UPDATE subscriptions SET start_block = NULL, head_at_start = NULL, cursor_number = NULL, cursor_hash = NULL, complete = 0 WHERE connection_id = ?',
      )
      .run(connectionId)
  }

  list(connectionId?: number): StoredSubscription[] {
    return (this.select.all({ connectionId: connectionId ?? null, id: null }) as SubscriptionRow[]).map(subscriptionFromRow)
  }

  /** One row by id: called on every runner status change, so it must not read the whole table. */
  get(id: number): StoredSubscription | undefined {
    const row = this.select.get({ connectionId: null, id }) as SubscriptionRow | undefined
    return row ? subscriptionFromRow(row) : undefined
  }

  add(input: { connectionId: number; spec: SubscriptionSpec; label?: string | undefined; watch?: WatchOptions | undefined }): StoredSubscription {
    const key = subscriptionKey(input.spec)
    const id = this.db.transaction(() => {
      this.db.prepare('INSERT OR IGNORE INTO streams (connection_id, stream_key) VALUES (?, ?)').run(input.connectionId, key)
      return Number(
        this.db
          .prepare(
            'INSERT INTO subscriptions (connection_id, type, params_json, stream_key, label, paused, created_at, watch_json) VALUES (?, ?, ?, ?, ?, 0, ?, ?)',
          )
          .run(
            input.connectionId,
            input.spec.type,
            JSON.stringify(input.spec.params),
            key,
            input.label || null,
            Date.now(),
            input.watch ? JSON.stringify(input.watch) : null,
          ).lastInsertRowid,
      )
    })()
    return this.get(id)!
  }

  /** A stream for Tidewatch's own captures (not a person's subscription), e.g. the watchlist's. */
  internalStream(connectionId: number, key: string): number {
    this.db.prepare('INSERT OR IGNORE INTO streams (connection_id, stream_key) VALUES (?, ?)').run(connectionId, key)
    return (this.db.prepare('SELECT id FROM streams WHERE connection_id = ? AND stream_key = ?').get(connectionId, key) as { id: number }).id
  }

  setPaused(id: number, paused: boolean): void {
    this.db.prepare('UPDATE subscriptions SET paused = ? WHERE id = ?').run(paused ? 1 : 0, id)
  }

  /** Where a watch began: resolved once, so a restart resumes instead of starting over. */
  setStart(id: number, startBlock: number, headAtStart: number): void {
    this.db.prepare('UPDATE subscriptions SET start_block = ?, head_at_start = ? WHERE id = ? AND start_block IS NULL').run(startBlock, headAtStart, id)
  }

  update(id: number, patch: { label?: string | null | undefined; notify?: boolean | undefined }): void {
    if (patch.label !== undefined) this.db.prepare('UPDATE subscriptions SET label = ? WHERE id = ?').run(patch.label || null, id)
    if (patch.notify !== undefined) this.db.prepare('UPDATE subscriptions SET notify = ? WHERE id = ?').run(patch.notify ? 1 : 0, id)
  }

  setComplete(id: number): void {
    this.db.prepare('UPDATE subscriptions SET complete = 1 WHERE id = ?').run(id)
  }

  remove(id: number): boolean {
    return this.db.prepare('DELETE FROM subscriptions WHERE id = ?').run(id).changes > 0
  }
}

export function subscriptionFromRow(row: SubscriptionRow): StoredSubscription {
  return {
    id: row.id,
    connectionId: row.connection_id,
    // Saved specs were validated on the way in; parsing again keeps the types honest.
    spec: subscriptionSpecSchema.parse({ type: row.type, params: JSON.parse(row.params_json) }),
    streamKey: row.stream_key,
    streamId: row.stream_id,
    label: row.label,
    paused: row.paused === 1,
    createdAt: row.created_at,
    watch: row.watch_json ? watchOptionsSchema.parse(JSON.parse(row.watch_json)) : null,
    startBlock: row.start_block,
    headAtStart: row.head_at_start,
    cursor: row.cursor_number !== null && row.cursor_hash !== null ? { number: row.cursor_number, hash: row.cursor_hash } : null,
    complete: row.complete === 1,
    notify: row.notify === 1,
  }
}

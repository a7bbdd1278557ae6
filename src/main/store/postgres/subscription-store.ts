/**
 * Saved subscriptions on PostgreSQL (SubscriptionStore's methods and answers,
 * ../subscription-store.ts): read from memory, written through in order (config-writer.ts),
 * each statement setting only the columns its method changes. A watch's cursor is the capture
 * writer's column: it commits cursors in its own transactions, and `noteCursor` tells the
 * mirror of each one this instance's capture writer committed; cursors committed elsewhere
 * (the previous leader of a connection) are read with reload('subscriptions').
 */
import type { PoolClient } from 'pg'
import { subscriptionKey } from '../../../shared/subscription-params'
import { subscriptionFromRow, type StoredSubscription, type SubscriptionStoreApi } from '../subscription-store'
import { connectionKey, type ConfigMirror, type MirroredSubscription } from './config-mirror'
import type { ConfigWriter, MirrorChange } from './config-writer'
import type { IdBlock } from './id-blocks'

type NewSubscription = Parameters<SubscriptionStoreApi['add']>[0]
type Patch = Parameters<SubscriptionStoreApi['update']>[1]

const INSERT = `INSERT INTO subscriptions (id, connection_id, type, params_json, stream_key, label, paused, created_at, watch_json)
  VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7, $8)`

const INSERT_STREAM = 'INSERT INTO streams (id, connection_id, stream_key) VALUES ($1, $2, $3) ON CONFLICT (connection_id, stream_key) DO NOTHING RETURNING id'
/** Another instance stored the same stream first, under its own id: that one is the stream. A statement of its own, to see that row once committed. */
const STORED_STREAM = 'SELECT id FROM streams WHERE connection_id = $1 AND stream_key = $2'

export class PostgresSubscriptionStore implements SubscriptionStoreApi {
  constructor(
    private readonly mirror: ConfigMirror,
    private readonly writer: ConfigWriter,
    private readonly ids: { subscriptions: IdBlock; streams: IdBlock },
  ) {}

  /** Every subscription of a connection starts over: its start, cursor and completion forgotten (a new chain). */
  resetPositions(connectionId: number): void {
    const reset = { start_block: null, head_at_start: null, cursor_number: null, cursor_hash: null, complete: 0 }
    this.writer.write({
      what: `reset the positions of connection ${connectionId}'s subscriptions`,
      tables: ['subscriptions'],
      changes: [
        {
          table: 'subscriptions',
          apply: () => {
            for (const row of this.mirror.subscriptions.values())
              if (row.connection_id === connectionId) this.mirror.subscriptions.set(row.id, { ...row, ...reset })
          },
        },
      ],
      run: async (client) => {
        await client.query(
          'UPDATE subscriptions SET start_block = NULL, head_at_start = NULL, cursor_number = NULL, cursor_hash = NULL, complete = FALSE WHERE connection_id = $1',
          [connectionId],
        )
      },
    })
  }

  list(connectionId?: number): StoredSubscription[] {
    const rows = [...this.mirror.subscriptions.values()].filter((row) => connectionId === undefined || row.connection_id === connectionId)
    return rows
      .sort((a, b) => a.id - b.id)
      .map((row) => this.joined(row))
      .filter((subscription) => subscription !== undefined)
  }

  get(id: number): StoredSubscription | undefined {
    const row = this.mirror.subscriptions.get(id)
    return row ? this.joined(row) : undefined
  }

  add(input: NewSubscription): StoredSubscription {
    this.requireConnection(input.connectionId)
    const key = subscriptionKey(input.spec)
    const id = this.ids.subscriptions.take('add a subscription')
    const stream = this.streamFor(input.connectionId, key, `add subscription ${id}`)
    const row: MirroredSubscription = {
      id,
      connection_id: input.connectionId,
      type: input.spec.type,
      params_json: JSON.stringify(input.spec.params),
      stream_key: key,
      label: input.label || null,
      paused: 0,
      created_at: Date.now(),
      watch_json: input.watch ? JSON.stringify(input.watch) : null,
      start_block: null,
      head_at_start: null,
      cursor_number: null,
      cursor_hash: null,
      complete: 0,
      notify: 0,
    }
    this.writer.write({
      what: `add subscription ${id}`,
      tables: ['subscriptions'],
      changes: [...stream.changes, { table: 'subscriptions', apply: () => this.mirror.subscriptions.set(id, { ...row }) }],
      run: async (client) => {
        const after = await stream.run(client)
        await client.query(INSERT, [id, row.connection_id, row.type, row.params_json, row.stream_key, row.label, row.created_at, row.watch_json])
        return after
      },
    })
    return this.get(id)!
  }

  /** A stream for Tidewatch's own captures (not a person's subscription), e.g. the watchlist's. */
  internalStream(connectionId: number, key: string): number {
    this.requireConnection(connectionId)
    const stream = this.streamFor(connectionId, key, `add the stream ${key} of connection ${connectionId}`)
    if (stream.changes.length > 0)
      this.writer.write({ what: `add the stream ${key} of connection ${connectionId}`, tables: ['subscriptions'], changes: stream.changes, run: stream.run })
    return this.mirror.streams.get(connectionKey(connectionId, key))!
  }

  setPaused(id: number, paused: boolean): void {
    this.setColumns(id, `${paused ? 'pause' : 'resume'} subscription ${id}`, { paused: paused ? 1 : 0 })
  }

  /** Where a watch began: resolved once, so a restart resumes instead of starting over. */
  setStart(id: number, startBlock: number, headAtStart: number): void {
    this.writer.write({
      what: `set the start of subscription ${id}`,
      tables: ['subscriptions'],
      changes: [
        {
          table: 'subscriptions',
          apply: () => {
            const row = this.mirror.subscriptions.get(id)
            if (row && row.start_block === null) this.mirror.subscriptions.set(id, { ...row, start_block: startBlock, head_at_start: headAtStart })
          },
        },
      ],
      run: async (client) => {
        await client.query('UPDATE subscriptions SET start_block = $2, head_at_start = $3 WHERE id = $1 AND start_block IS NULL', [id, startBlock, headAtStart])
      },
    })
  }

  update(id: number, patch: Patch): void {
    const columns: Partial<MirroredSubscription> = {}
    if (patch.label !== undefined) columns.label = patch.label || null
    if (patch.notify !== undefined) columns.notify = patch.notify ? 1 : 0
    if (Object.keys(columns).length > 0) this.setColumns(id, `update subscription ${id}`, columns)
  }

  setComplete(id: number): void {
    this.setColumns(id, `complete subscription ${id}`, { complete: 1 })
  }

  remove(id: number): boolean {
    const held = this.mirror.subscriptions.has(id)
    this.writer.write({
      what: `remove subscription ${id}`,
      tables: ['subscriptions'],
      changes: [{ table: 'subscriptions', apply: () => this.mirror.subscriptions.delete(id) }],
      run: async (client) => {
        await client.query('DELETE FROM subscriptions WHERE id = $1', [id])
      },
    })
    return held
  }

  /**
   * This instance's capture writer committed a watch's cursor (its own transaction, with the
   * rows before it): the mirror follows, nothing is written. Call it once committed, not when
   * queued: a watch restarted from a cursor whose rows were not yet stored would skip them.
   */
  noteCursor(id: number, number: number, hash: string): void {
    this.mirror.noteCursor(id, number, hash)
  }

  /** SQLite refuses a row of a connection that does not exist (its foreign key); so does the mirror, at once. */
  private requireConnection(connectionId: number): void {
    if (!this.mirror.connections.has(connectionId)) throw new Error(`FOREIGN KEY constraint failed: no connection ${connectionId}`)
  }

  /** The row with its stream's id, or undefined without a stream (as SQLite's JOIN). */
  private joined(row: MirroredSubscription): StoredSubscription | undefined {
    const streamId = this.mirror.streams.get(connectionKey(row.connection_id, row.stream_key))
    return streamId === undefined ? undefined : subscriptionFromRow({ ...row, stream_id: streamId })
  }

  /**
   * The stream of (connection, key): nothing to do when held; otherwise a new id, held at
   * once and inserted with the write. Should another instance have stored the same stream
   * first, its id replaces this one in memory once the insert has committed.
   */
  private streamFor(connectionId: number, key: string, what: string): { changes: MirrorChange[]; run: (client: PoolClient) => Promise<(() => void) | void> } {
    const streamKey = connectionKey(connectionId, key)
    if (this.mirror.streams.has(streamKey)) return { changes: [], run: () => Promise.resolve() }
    const id = this.ids.streams.take(what)
    return {
      changes: [
        {
          table: 'streams',
          apply: () => {
            if (!this.mirror.streams.has(streamKey)) this.mirror.streams.set(streamKey, id)
          },
        },
      ],
      run: async (client) => {
        if ((await client.query(INSERT_STREAM, [id, connectionId, key])).rowCount) return
        const stored = (await client.query<{ id: number }>(STORED_STREAM, [connectionId, key])).rows[0]?.id
        if (stored !== undefined) return () => this.mirror.streams.set(streamKey, stored)
      },
    }
  }

  /** Sets these columns only: the capture writer's cursor, or another instance's change to other columns, stays. */
  private setColumns(id: number, what: string, columns: Partial<Omit<MirroredSubscription, 'id'>>): void {
    const names = Object.keys(columns) as (keyof typeof columns)[]
    const stored = (name: keyof typeof columns) => (['paused', 'complete', 'notify'].includes(name) ? columns[name] === 1 : columns[name])
    this.writer.write({
      what,
      tables: ['subscriptions'],
      changes: [
        {
          table: 'subscriptions',
          apply: () => {
            const row = this.mirror.subscriptions.get(id)
            if (row) this.mirror.subscriptions.set(id, { ...row, ...columns })
          },
        },
      ],
      run: async (client) => {
        await client.query(`UPDATE subscriptions SET ${names.map((name, i) => `${name} = $${i + 2}`).join(', ')} WHERE id = $1`, [id, ...names.map(stored)])
      },
    })
  }
}

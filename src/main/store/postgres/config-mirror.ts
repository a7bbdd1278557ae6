/**
 * The configuration tables held in memory by the PostgreSQL configuration stores
 * (config-stores.ts): every row of connections, subscriptions, streams, abis, watchlist,
 * settings and token_metadata, in the shape SQLite's stores read (their row types, flags as
 * 0/1), so both backends turn rows into the engine's types with the same functions. Read
 * whole at open and table by table when another instance changed one (reload).
 */
import type { PoolClient } from 'pg'
import type { AbiRow } from '../abi-store'
import type { ConnectionRow } from '../connection-store'
import type { SubscriptionRow } from '../subscription-store'
import type { TokenRow } from '../token-metadata-store'
import type { WatchlistRow } from '../watchlist-store'
import type { ConfigTable } from './change-feed'
import type { MirrorChange, MirrorReload } from './config-writer'

/** A subscriptions row as stored: its stream's id is joined in when read (streams), as SQLite's SELECT does. */
export type MirroredSubscription = Omit<SubscriptionRow, 'stream_id'>

/** Keys of rows identified by a connection and a text (streams, token_metadata). */
export const connectionKey = (connectionId: number, text: string): string => `${connectionId}:${text}`

const CONNECTIONS = `SELECT id, name, kind, url_ciphertext, display_url, http_url_ciphertext, display_http_url, created_at,
  chain_id, confirmations, heads_retention_days, events_retention_days FROM connections`
const SUBSCRIPTIONS = `SELECT id, connection_id, type, params_json, stream_key, label, paused, created_at, watch_json,
  start_block, head_at_start, cursor_number, cursor_hash, complete, notify FROM subscriptions`
const STREAMS = 'SELECT id, connection_id, stream_key FROM streams'
const ABIS = 'SELECT id, name, abi_json, created_at FROM abis'
const WATCHLIST = 'SELECT address, label, color, notify, created_at FROM watchlist'
const SETTINGS = 'SELECT key, value_json FROM settings'
const TOKENS = 'SELECT connection_id, address, symbol, decimals FROM token_metadata'

/** PostgreSQL's BOOLEAN flags as the 0/1 SQLite's rows carry. */
type WithBooleans<Row, Flags extends keyof Row> = Omit<Row, Flags> & Record<Flags, boolean>
const flag = (value: boolean): number => (value ? 1 : 0)

export class ConfigMirror {
  readonly connections = new Map<number, ConnectionRow>()
  readonly subscriptions = new Map<number, MirroredSubscription>()
  /** Stream ids by connectionKey(connection, stream key). */
  readonly streams = new Map<string, number>()
  readonly abis = new Map<number, AbiRow>()
  readonly watchlist = new Map<string, WatchlistRow>()
  /** value_json by key. */
  readonly settings = new Map<string, string>()
  /** By connectionKey(connection, lowercase address). */
  readonly tokens = new Map<string, TokenRow>()
  /** Cursors noted while subscriptions are being read: the read may have begun before they committed. */
  private cursorsNotedDuringRead: Map<number, { number: number; hash: string }> | null = null

  /** The capture writer of this instance committed a watch's cursor (PostgresSubscriptionStore.noteCursor). */
  noteCursor(id: number, number: number, hash: string): void {
    const row = this.subscriptions.get(id)
    if (row) this.subscriptions.set(id, { ...row, cursor_number: number, cursor_hash: hash })
    this.cursorsNotedDuringRead?.set(id, { number, hash })
  }

  /** Every table, in one snapshot (a REPEATABLE READ transaction on `client`). */
  async load(client: PoolClient): Promise<void> {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    try {
      const installs: (() => void)[] = []
      for (const table of ['connections', 'subscriptions', 'abis', 'watchlist', 'settings', 'token_metadata'] as const)
        installs.push(await this.reloadOf(table).read(client))
      await client.query('COMMIT')
      for (const install of installs) install()
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    }
  }

  /** How to read `table` again (subscriptions with their streams). */
  reloadOf(table: ConfigTable): MirrorReload {
    switch (table) {
      case 'connections':
        return {
          table,
          replaces: ['connections'],
          read: async (client) => {
            const { rows } = await client.query<ConnectionRow>(CONNECTIONS)
            return () => replace(this.connections, rows, (row) => [row.id, row])
          },
          // A connection removed elsewhere took its subscriptions, streams and token metadata with it (ON DELETE CASCADE).
          after: () => {
            for (const change of this.orphanedRows()) change.apply()
          },
        }
      case 'subscriptions':
        return {
          table,
          replaces: ['subscriptions', 'streams'],
          read: async (client) => {
            const noted = new Map<number, { number: number; hash: string }>()
            this.cursorsNotedDuringRead = noted
            const done = () => {
              if (this.cursorsNotedDuringRead === noted) this.cursorsNotedDuringRead = null
            }
            try {
              const subscriptions = await client.query<WithBooleans<MirroredSubscription, 'paused' | 'complete' | 'notify'>>(SUBSCRIPTIONS)
              const streams = await client.query<{ id: number; connection_id: number; stream_key: string }>(STREAMS)
              return () => {
                done()
                replace(this.subscriptions, subscriptions.rows, (row) => [
                  row.id,
                  { ...row, paused: flag(row.paused), complete: flag(row.complete), notify: flag(row.notify) },
                ])
                replace(this.streams, streams.rows, (row) => [connectionKey(row.connection_id, row.stream_key), row.id])
                // A cursor noted after the read began may have committed after the rows were read: it is the newer.
                for (const [id, cursor] of noted) {
                  const row = this.subscriptions.get(id)
                  if (row) this.subscriptions.set(id, { ...row, cursor_number: cursor.number, cursor_hash: cursor.hash })
                }
              }
            } catch (error) {
              done()
              throw error
            }
          },
        }
      case 'abis':
        return {
          table,
          replaces: ['abis'],
          read: async (client) => {
            const { rows } = await client.query<AbiRow>(ABIS)
            return () => replace(this.abis, rows, (row) => [row.id, row])
          },
        }
      case 'watchlist':
        return {
          table,
          replaces: ['watchlist'],
          read: async (client) => {
            const { rows } = await client.query<WithBooleans<WatchlistRow, 'notify'>>(WATCHLIST)
            return () => replace(this.watchlist, rows, (row) => [row.address, { ...row, notify: flag(row.notify) }])
          },
        }
      case 'settings':
        return {
          table,
          replaces: ['settings'],
          read: async (client) => {
            const { rows } = await client.query<{ key: string; value_json: string }>(SETTINGS)
            return () => replace(this.settings, rows, (row) => [row.key, row.value_json])
          },
        }
      case 'token_metadata':
        return {
          table,
          replaces: ['token_metadata'],
          read: async (client) => {
            const { rows } = await client.query<TokenRow>(TOKENS)
            return () => replace(this.tokens, rows, (row) => [connectionKey(row.connection_id, row.address), row])
          },
        }
    }
  }

  /** What removing connection `id` does to the rows that belong to it, as ON DELETE CASCADE does in the store. */
  forgetConnection(id: number): MirrorChange[] {
    return [
      { table: 'subscriptions', apply: () => deleteWhere(this.subscriptions, (row) => row.connection_id === id) },
      { table: 'streams', apply: () => deleteWhere(this.streams, (_, key) => key.startsWith(connectionKey(id, ''))) },
      { table: 'token_metadata', apply: () => deleteWhere(this.tokens, (row) => row.connection_id === id) },
    ]
  }

  /** Drops the rows of connections no longer held. */
  private orphanedRows(): MirrorChange[] {
    const gone = new Set<number>()
    for (const row of this.subscriptions.values()) if (!this.connections.has(row.connection_id)) gone.add(row.connection_id)
    for (const row of this.tokens.values()) if (!this.connections.has(row.connection_id)) gone.add(row.connection_id)
    for (const key of this.streams.keys()) {
      const id = Number(key.slice(0, key.indexOf(':')))
      if (!this.connections.has(id)) gone.add(id)
    }
    return [...gone].flatMap((id) => this.forgetConnection(id))
  }
}

function replace<K, V, Row>(map: Map<K, V>, rows: readonly Row[], entry: (row: Row) => [K, V]): void {
  map.clear()
  for (const row of rows) map.set(...entry(row))
}

function deleteWhere<K, V>(map: Map<K, V>, matches: (value: V, key: K) => boolean): void {
  for (const [key, value] of map) if (matches(value, key)) map.delete(key)
}

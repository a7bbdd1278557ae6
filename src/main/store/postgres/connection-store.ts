/**
 * Saved endpoints on PostgreSQL (ConnectionStore's methods and answers, ../connection-store.ts):
 * read from memory, written through in order (config-writer.ts). URLs are sealed by the
 * SecretBox into the same columns as SQLite's, so every instance sharing the store needs the
 * same box (the same key) to read them.
 */
import { redactUrl } from '../../redact-url'
import { connectionFromRow, type ConnectionRow, type ConnectionStoreApi, type StoredConnection } from '../connection-store'
import type { SecretBox } from '../secret-box'
import type { ConfigMirror } from './config-mirror'
import type { ConfigWriter } from './config-writer'
import type { IdBlock } from './id-blocks'

type NewConnection = Parameters<ConnectionStoreApi['add']>[0]
type Retention = Parameters<ConnectionStoreApi['setRetention']>[1]

const INSERT = `INSERT INTO connections (id, name, kind, url_ciphertext, display_url, http_url_ciphertext, display_http_url, created_at, confirmations)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

export class PostgresConnectionStore implements ConnectionStoreApi {
  constructor(
    private readonly mirror: ConfigMirror,
    private readonly writer: ConfigWriter,
    private readonly ids: IdBlock,
    private readonly secrets: SecretBox,
  ) {}

  list(): StoredConnection[] {
    return [...this.mirror.connections.values()].sort((a, b) => a.id - b.id).map((row) => connectionFromRow(row, this.secrets))
  }

  get(id: number): StoredConnection | undefined {
    const row = this.mirror.connections.get(id)
    return row ? connectionFromRow(row, this.secrets) : undefined
  }

  add(input: NewConnection): StoredConnection {
    const id = this.ids.take('add a connection')
    const httpUrl = input.httpUrl ?? null
    const row: ConnectionRow = {
      id,
      name: input.name,
      kind: input.kind,
      url_ciphertext: this.secrets.encrypt(input.url),
      display_url: redactUrl(input.url),
      http_url_ciphertext: httpUrl ? this.secrets.encrypt(httpUrl) : null,
      display_http_url: httpUrl ? redactUrl(httpUrl) : null,
      created_at: Date.now(),
      chain_id: null,
      confirmations: input.confirmations ?? null,
      heads_retention_days: null,
      events_retention_days: null,
    }
    this.writer.write({
      what: `add connection ${id}`,
      tables: ['connections'],
      changes: [{ table: 'connections', apply: () => this.mirror.connections.set(id, { ...row }) }],
      run: async (client) => {
        await client.query(INSERT, [
          id,
          row.name,
          row.kind,
          row.url_ciphertext,
          row.display_url,
          row.http_url_ciphertext,
          row.display_http_url,
          row.created_at,
          row.confirmations,
        ])
      },
    })
    return this.get(id)!
  }

  /** The demo chain gets a new port each run; its saved connection follows it. */
  updateUrl(id: number, url: string): void {
    this.setColumns(id, `set the URL of connection ${id}`, { url_ciphertext: this.secrets.encrypt(url), display_url: redactUrl(url) })
  }

  setChainId(id: number, chainId: number): void {
    this.setColumns(id, `set the chain id of connection ${id}`, { chain_id: chainId })
  }

  setConfirmations(id: number, confirmations: number | null): void {
    this.setColumns(id, `set the confirmations of connection ${id}`, { confirmations })
  }

  setRetention(id: number, retention: Retention): void {
    this.setColumns(id, `set the retention of connection ${id}`, {
      heads_retention_days: retention.headsRetentionDays,
      events_retention_days: retention.eventsRetentionDays,
    })
  }

  remove(id: number): boolean {
    const held = this.mirror.connections.has(id)
    this.writer.write({
      what: `remove connection ${id}`,
      // ON DELETE CASCADE takes its subscriptions, streams and token metadata with it.
      tables: ['connections', 'subscriptions', 'token_metadata'],
      changes: [{ table: 'connections', apply: () => this.mirror.connections.delete(id) }, ...this.mirror.forgetConnection(id)],
      run: async (client) => {
        await client.query('DELETE FROM connections WHERE id = $1', [id])
      },
    })
    return held
  }

  /** Sets these columns only: whatever else another writer changed in the row stays. */
  private setColumns(id: number, what: string, columns: Partial<Omit<ConnectionRow, 'id'>>): void {
    const names = Object.keys(columns) as (keyof typeof columns)[]
    this.writer.write({
      what,
      tables: ['connections'],
      changes: [
        {
          table: 'connections',
          apply: () => {
            const row = this.mirror.connections.get(id)
            if (row) this.mirror.connections.set(id, { ...row, ...columns })
          },
        },
      ],
      run: async (client) => {
        await client.query(`UPDATE connections SET ${names.map((name, i) => `${name} = $${i + 2}`).join(', ')} WHERE id = $1`, [
          id,
          ...names.map((name) => columns[name]),
        ])
      },
    })
  }
}

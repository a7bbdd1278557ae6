/** Saved endpoints: they survive restarts, their URLs sealed by a SecretBox. */
import type { Connection } from '../../shared/contract'
import type { Db } from './database'
import { redactUrl } from '../redact-url'
import type { SecretBox } from './secret-box'

/** A connections row as both databases hold it (the PostgreSQL mirror keeps rows in this shape too). */
export interface ConnectionRow {
  id: number
  name: string
  kind: 'user' | 'demo'
  url_ciphertext: string
  display_url: string
  http_url_ciphertext: string | null
  display_http_url: string | null
  created_at: number
  chain_id: number | null
  confirmations: number | null
  heads_retention_days: number | null
  events_retention_days: number | null
}

export interface StoredConnection extends Connection {
  /** The full URLs, API key included: main-process only. */
  url: string
  httpUrl: string | null
  /** eth_chainId as last answered; null until the endpoint first answered. */
  chainId: number | null
  /** Days heads are kept (null: the default, 30). */
  headsRetentionDays: number | null
  /** Days captured events are kept (null: forever). */
  eventsRetentionDays: number | null
}

/** What the engine may call on saved endpoints, whichever database holds them: every public method of ConnectionStore. */
export type ConnectionStoreApi = Pick<ConnectionStore, keyof ConnectionStore>

export class ConnectionStore {
  constructor(
    private readonly db: Db,
    private readonly secrets: SecretBox,
  ) {}

  list(): StoredConnection[] {
    const rows = this.db.prepare('SELECT * FROM connections ORDER BY id').all() as ConnectionRow[]
    return rows.map((row) => connectionFromRow(row, this.secrets))
  }

  get(id: number): StoredConnection | undefined {
    const row = this.db.prepare('SELECT * FROM connections WHERE id = ?').get(id) as ConnectionRow | undefined
    return row ? connectionFromRow(row, this.secrets) : undefined
  }

  add(input: {
    name: string
    url: string
    httpUrl?: string | null | undefined
    kind: 'user' | 'demo'
    confirmations?: number | null | undefined
  }): StoredConnection {
    const httpUrl = input.httpUrl ?? null
    const result = this.db
      .prepare(
        'INSERT INTO connections (name, kind, url_ciphertext, display_url, http_url_ciphertext, display_http_url, created_at, confirmations) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        input.name,
        input.kind,
        this.secrets.encrypt(input.url),
        redactUrl(input.url),
        httpUrl ? this.secrets.encrypt(httpUrl) : null,
        httpUrl ? redactUrl(httpUrl) : null,
        Date.now(),
        input.confirmations ?? null,
      )
    return this.get(Number(result.lastInsertRowid))!
  }

  /** The demo chain gets a new port each run; its saved connection follows it. */
  updateUrl(id: number, url: string): void {
    this.db.prepare('UPDATE connections SET url_ciphertext = ?, display_url = ? WHERE id = ?').run(this.secrets.encrypt(url), redactUrl(url), id)
  }

  setChainId(id: number, chainId: number): void {
    this.db.prepare('UPDATE connections SET chain_id = ? WHERE id = ?').run(chainId, id)
  }

  setConfirmations(id: number, confirmations: number | null): void {
    this.db.prepare('UPDATE connections SET confirmations = ? WHERE id = ?').run(confirmations, id)
  }

  setRetention(id: number, retention: { headsRetentionDays: number | null; eventsRetentionDays: number | null }): void {
    this.db
      .prepare('UPDATE connections SET heads_retention_days = ?, events_retention_days = ? WHERE id = ?')
      .run(retention.headsRetentionDays, retention.eventsRetentionDays, id)
  }

  remove(id: number): boolean {
    return this.db.prepare('DELETE FROM connections WHERE id = ?').run(id).changes > 0
  }
}

/** Display URLs are masked afresh from the sealed ones: rows saved before a masking fix show no more than today's rules allow. */
export function connectionFromRow(row: ConnectionRow, secrets: SecretBox): StoredConnection {
  const url = secrets.decrypt(row.url_ciphertext)
  const httpUrl = row.http_url_ciphertext ? secrets.decrypt(row.http_url_ciphertext) : null
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    url,
    displayUrl: redactUrl(url),
    httpUrl,
    displayHttpUrl: httpUrl ? redactUrl(httpUrl) : null,
    createdAt: row.created_at,
    confirmations: row.confirmations,
    chainId: row.chain_id,
    headsRetentionDays: row.heads_retention_days,
    eventsRetentionDays: row.events_retention_days,
  }
}

/** Saved endpoints: they survive restarts, their URLs sealed by a SecretBox. */
import type { Connection } from '../../shared/contract'
import type { Db } from './database'
import { redactUrl } from './redact-url'
import type { SecretBox } from './secret-box'

interface ConnectionRow {
  id: number
  name: string
  kind: 'user' | 'demo'
  url_ciphertext: string
  display_url: string
  created_at: number
}

export interface StoredConnection extends Connection {
  /** The full URL, API key included: main-process only. */
  url: string
}

export class ConnectionStore {
  constructor(
    private readonly db: Db,
    private readonly secrets: SecretBox,
  ) {}

  list(): StoredConnection[] {
    const rows = this.db.prepare('SELECT * FROM connections ORDER BY id').all() as ConnectionRow[]
    return rows.map((row) => this.fromRow(row))
  }

  get(id: number): StoredConnection | undefined {
    const row = this.db.prepare('SELECT * FROM connections WHERE id = ?').get(id) as ConnectionRow | undefined
    return row ? this.fromRow(row) : undefined
  }

  add(input: { name: string; url: string; kind: 'user' | 'demo' }): StoredConnection {
    const createdAt = Date.now()
    const result = this.db
      .prepare('INSERT INTO connections (name, kind, url_ciphertext, display_url, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(input.name, input.kind, this.secrets.encrypt(input.url), redactUrl(input.url), createdAt)
    return { id: Number(result.lastInsertRowid), name: input.name, kind: input.kind, url: input.url, displayUrl: redactUrl(input.url), createdAt }
  }

  /** The demo chain gets a new port each run; its saved connection follows it. */
  updateUrl(id: number, url: string): void {
    this.db.prepare('UPDATE connections SET url_ciphertext = ?, display_url = ? WHERE id = ?').run(this.secrets.encrypt(url), redactUrl(url), id)
  }

  remove(id: number): boolean {
    return this.db.prepare('DELETE FROM connections WHERE id = ?').run(id).changes > 0
  }

  private fromRow(row: ConnectionRow): StoredConnection {
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      url: this.secrets.decrypt(row.url_ciphertext),
      displayUrl: row.display_url,
      createdAt: row.created_at,
    }
  }
}

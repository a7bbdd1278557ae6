/** Addresses a person watches, with labels and colours shown wherever they appear. */
import type { WatchlistEntry } from '../../shared/contract'
import type { Db } from './database'

interface Row {
  address: string
  label: string
  color: string
  notify: number
  created_at: number
}

export class WatchlistStore {
  constructor(private readonly db: Db) {}

  list(): WatchlistEntry[] {
    return (this.db.prepare('SELECT * FROM watchlist ORDER BY label COLLATE NOCASE').all() as Row[]).map((r) => ({
      address: r.address,
      label: r.label,
      color: r.color,
      notify: r.notify === 1,
      createdAt: r.created_at,
    }))
  }

  upsert(entry: { address: string; label: string; color: string; notify: boolean }): WatchlistEntry {
    this.db
      .prepare(
        `INSERT INTO watchlist (address, label, color, notify, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (address) DO UPDATE SET label = excluded.label, color = excluded.color, notify = excluded.notify`,
      )
      .run(entry.address, entry.label, entry.color, entry.notify ? 1 : 0, Date.now())
    return this.list().find((e) => e.address === entry.address)!
  }

  remove(address: string): boolean {
    return this.db.prepare('DELETE FROM watchlist WHERE address = ?').run(address).changes > 0
  }
}

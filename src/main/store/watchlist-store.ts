/** Addresses a person watches, with labels and colours shown wherever they appear. */
import type { WatchlistEntry } from '../../shared/contract'
import type { Db } from './database'

/** A watchlist row as both databases hold it (the PostgreSQL mirror keeps rows in this shape too; notify as 0/1). */
export interface WatchlistRow {
  address: string
  label: string
  color: string
  notify: number
  created_at: number
}

/** What the engine may call on the watchlist, whichever database holds it: every public method of WatchlistStore. */
export type WatchlistStoreApi = Pick<WatchlistStore, keyof WatchlistStore>

export class WatchlistStore {
  constructor(private readonly db: Db) {}

  list(): WatchlistEntry[] {
    return (this.db.prepare('SELECT * FROM watchlist ORDER BY label COLLATE NOCASE').all() as WatchlistRow[]).map(watchlistEntryFromRow)
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

export function watchlistEntryFromRow(row: WatchlistRow): WatchlistEntry {
  return { address: row.address, label: row.label, color: row.color, notify: row.notify === 1, createdAt: row.created_at }
}

/** The watchlist on PostgreSQL (WatchlistStore's methods and answers, ../watchlist-store.ts): read from memory, written through in order (config-writer.ts). */
import type { WatchlistEntry } from '../../../shared/contract'
import { watchlistEntryFromRow, type WatchlistStoreApi } from '../watchlist-store'
import type { ConfigMirror } from './config-mirror'
import type { ConfigWriter } from './config-writer'

/** The label and colour change; when the address was first added stays (as SQLite's upsert). */
const UPSERT = `INSERT INTO watchlist (address, label, color, notify, created_at) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (address) DO UPDATE SET label = excluded.label, color = excluded.color, notify = excluded.notify`

type WatchlistInput = Parameters<WatchlistStoreApi['upsert']>[0]

export class PostgresWatchlistStore implements WatchlistStoreApi {
  constructor(
    private readonly mirror: ConfigMirror,
    private readonly writer: ConfigWriter,
  ) {}

  /** By label as SQLite's COLLATE NOCASE orders them; equal labels by address (SQLite's: in the order added, which PostgreSQL does not keep). */
  list(): WatchlistEntry[] {
    return [...this.mirror.watchlist.values()].sort((a, b) => compareNocase(a.label, b.label) || compareNocase(a.address, b.address)).map(watchlistEntryFromRow)
  }

  upsert(entry: WatchlistInput): WatchlistEntry {
    const createdAt = Date.now()
    const notify = entry.notify ? 1 : 0
    this.writer.write({
      what: `save watchlist address ${entry.address}`,
      tables: ['watchlist'],
      changes: [
        {
          table: 'watchlist',
          apply: () => {
            const held = this.mirror.watchlist.get(entry.address)
            this.mirror.watchlist.set(entry.address, {
              address: entry.address,
              label: entry.label,
              color: entry.color,
              notify,
              created_at: held?.created_at ?? createdAt,
            })
          },
        },
      ],
      run: async (client) => {
        await client.query(UPSERT, [entry.address, entry.label, entry.color, notify === 1, createdAt])
      },
    })
    return watchlistEntryFromRow(this.mirror.watchlist.get(entry.address)!)
  }

  remove(address: string): boolean {
    const held = this.mirror.watchlist.has(address)
    this.writer.write({
      what: `remove watchlist address ${address}`,
      tables: ['watchlist'],
      changes: [{ table: 'watchlist', apply: () => this.mirror.watchlist.delete(address) }],
      run: async (client) => {
        await client.query('DELETE FROM watchlist WHERE address = $1', [address])
      },
    })
    return held
  }
}

/** SQLite's COLLATE NOCASE: ASCII letters folded, everything else compared as UTF-8 bytes. */
function compareNocase(a: string, b: string): number {
  const fold = (text: string) => Buffer.from(text.replace(/[A-Z]/g, (c) => c.toLowerCase()))
  return Buffer.compare(fold(a), fold(b))
}

/** ERC-20 symbols and decimals as read from each connection's chain: one row per token, read once. */
import type { TokenMetadata } from '../../shared/contract'
import type { Db } from './database'

/** A token_metadata row as both databases answer it (the PostgreSQL mirror keeps rows in this shape too). */
export interface TokenRow {
  connection_id: number
  address: string
  symbol: string | null
  decimals: number | null
}

/** What the engine may call on token metadata, whichever database holds it: every public method of TokenMetadataStore. */
export type TokenMetadataStoreApi = Pick<TokenMetadataStore, keyof TokenMetadataStore>

export class TokenMetadataStore {
  constructor(private readonly db: Db) {}

  get(connectionId: number, address: string): TokenMetadata | undefined {
    const row = this.db
      .prepare('SELECT connection_id, address, symbol, decimals FROM token_metadata WHERE connection_id = ? AND address = ?')
      .get(connectionId, address.toLowerCase()) as TokenRow | undefined
    return row ? tokenFromRow(row) : undefined
  }

  put(token: TokenMetadata): void {
    this.db
      .prepare('INSERT OR REPLACE INTO token_metadata (connection_id, address, symbol, decimals, fetched_at) VALUES (?, ?, ?, ?, ?)')
      .run(token.connectionId, token.address.toLowerCase(), token.symbol, token.decimals, Date.now())
  }

  /** A connection pointed at a fresh chain (the demo) may have other contracts at the same addresses. */
  deleteForConnection(connectionId: number): void {
    this.db.prepare('DELETE FROM token_metadata WHERE connection_id = ?').run(connectionId)
  }
}

export function tokenFromRow(row: TokenRow): TokenMetadata {
  return { connectionId: row.connection_id, address: row.address, symbol: row.symbol, decimals: row.decimals }
}

/** ERC-20 symbols and decimals as read from each connection's chain: one row per token, read once. */
import type { TokenMetadata } from '../../shared/contract'
import type { Db } from './database'

interface TokenRow {
  connection_id: number
  address: string
  symbol: string | null
  decimals: number | null
}

export class TokenMetadataStore {
  constructor(private readonly db: Db) {}

  get(connectionId: number, address: string): TokenMetadata | undefined {
    const row = this.db
      .prepare('SELECT connection_id, address, symbol, decimals FROM token_metadata WHERE connection_id = ? AND address = ?')
      .get(connectionId, address.toLowerCase()) as TokenRow | undefined
    return row ? fromRow(row) : undefined
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

function fromRow(row: TokenRow): TokenMetadata {
  return { connectionId: row.connection_id, address: row.address, symbol: row.symbol, decimals: row.decimals }
}

/** Token symbols and decimals on PostgreSQL (TokenMetadataStore's methods and answers, ../token-metadata-store.ts): read from memory, written through in order (config-writer.ts). */
import type { TokenMetadata } from '../../../shared/contract'
import { tokenFromRow, type TokenMetadataStoreApi } from '../token-metadata-store'
import { connectionKey, type ConfigMirror } from './config-mirror'
import type { ConfigWriter } from './config-writer'

/** The whole row is the token's as read now (SQLite's INSERT OR REPLACE). */
const UPSERT = `INSERT INTO token_metadata (connection_id, address, symbol, decimals, fetched_at) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (connection_id, address) DO UPDATE SET symbol = excluded.symbol, decimals = excluded.decimals, fetched_at = excluded.fetched_at`

export class PostgresTokenMetadataStore implements TokenMetadataStoreApi {
  constructor(
    private readonly mirror: ConfigMirror,
    private readonly writer: ConfigWriter,
  ) {}

  get(connectionId: number, address: string): TokenMetadata | undefined {
    const row = this.mirror.tokens.get(connectionKey(connectionId, address.toLowerCase()))
    return row ? tokenFromRow(row) : undefined
  }

  put(token: TokenMetadata): void {
    // SQLite refuses a row of a connection that does not exist (its foreign key); so does the mirror, at once.
    if (!this.mirror.connections.has(token.connectionId)) throw new Error(`FOREIGN KEY constraint failed: no connection ${token.connectionId}`)
    const row = { connection_id: token.connectionId, address: token.address.toLowerCase(), symbol: token.symbol, decimals: token.decimals }
    const fetchedAt = Date.now()
    this.writer.write({
      what: `save token ${row.address} of connection ${row.connection_id}`,
      tables: ['token_metadata'],
      changes: [{ table: 'token_metadata', apply: () => this.mirror.tokens.set(connectionKey(row.connection_id, row.address), row) }],
      run: async (client) => {
        await client.query(UPSERT, [row.connection_id, row.address, row.symbol, row.decimals, fetchedAt])
      },
    })
  }

  /** A connection pointed at a fresh chain (the demo) may have other contracts at the same addresses. */
  deleteForConnection(connectionId: number): void {
    this.writer.write({
      what: `forget the tokens of connection ${connectionId}`,
      tables: ['token_metadata'],
      changes: [
        {
          table: 'token_metadata',
          apply: () => {
            for (const [key, row] of this.mirror.tokens) if (row.connection_id === connectionId) this.mirror.tokens.delete(key)
          },
        },
      ],
      run: async (client) => {
        await client.query('DELETE FROM token_metadata WHERE connection_id = $1', [connectionId])
      },
    })
  }
}

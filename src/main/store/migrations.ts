/**
 * Versioned schema migrations. Each runs once, inside a transaction, and is recorded in
 * `schema_migrations`; never edit a migration that has shipped, add a new one.
 */
export interface Migration {
  version: number
  name: string
  sql: string
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'connections and heads',
    sql: `
      CREATE TABLE connections (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('user', 'demo')),
        -- The full URL may carry an API key, so it is stored encrypted (see secret-box.ts).
        url_ciphertext TEXT NOT NULL,
        display_url TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE heads (
        id INTEGER PRIMARY KEY,
        connection_id INTEGER NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        hash TEXT NOT NULL,
        parent_hash TEXT NOT NULL,
        timestamp INTEGER NOT NULL,
        gas_used TEXT NOT NULL,
        gas_limit TEXT NOT NULL,
        base_fee_per_gas TEXT,
        tx_count INTEGER,
        received_at INTEGER NOT NULL,
        header_json TEXT NOT NULL,
        UNIQUE (connection_id, hash)
      );
      CREATE INDEX heads_by_connection ON heads (connection_id, id);
      CREATE INDEX heads_by_number ON heads (connection_id, number);
    `,
  },
]

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
  {
    version: 2,
    name: 'subscriptions and captured events',
    sql: `
      ALTER TABLE connections ADD COLUMN http_url_ciphertext TEXT;
      ALTER TABLE connections ADD COLUMN display_http_url TEXT;
      CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY,
        connection_id INTEGER NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        type TEXT NOT NULL,
        params_json TEXT NOT NULL,
        -- Canonical type+params: identical subscriptions share one stream of events.
        stream_key TEXT NOT NULL,
        label TEXT,
        paused INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX subscriptions_by_stream ON subscriptions (connection_id, stream_key);
      CREATE TABLE streams (
        id INTEGER PRIMARY KEY,
        connection_id INTEGER NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        stream_key TEXT NOT NULL,
        UNIQUE (connection_id, stream_key)
      );
      CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        connection_id INTEGER NOT NULL,
        stream_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        block_number INTEGER,
        block_hash TEXT,
        tx_hash TEXT,
        tx_index INTEGER,
        log_index INTEGER,
        address TEXT,
        topics TEXT,
        data TEXT,
        removed INTEGER NOT NULL DEFAULT 0,
        -- Raw JSON result; NULL for logs, whose columns hold all of it.
        payload TEXT,
        received_at INTEGER NOT NULL
      );
      CREATE INDEX events_by_stream ON events (stream_id, id);
      CREATE INDEX events_by_connection ON events (connection_id, id);
    `,
  },
  {
    version: 3,
    name: 'canonical chain tracker',
    sql: `
      -- Every block the tracker processed, orphaned ones kept with canonical = 0.
      CREATE TABLE chain_blocks (
        connection_id INTEGER NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        hash TEXT NOT NULL,
        parent_hash TEXT NOT NULL,
        timestamp INTEGER NOT NULL,
        canonical INTEGER NOT NULL,
        header_json TEXT NOT NULL,
        PRIMARY KEY (connection_id, hash)
      );
      CREATE INDEX chain_blocks_canonical ON chain_blocks (connection_id, canonical, number);
      -- All logs of each processed block (not filtered), so any request's history can be served from here.
      CREATE TABLE chain_logs (
        connection_id INTEGER NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        block_hash TEXT NOT NULL,
        block_number INTEGER NOT NULL,
        log_index INTEGER NOT NULL,
        tx_hash TEXT NOT NULL,
        tx_index INTEGER NOT NULL,
        address TEXT NOT NULL,
        topics TEXT NOT NULL,
        data TEXT NOT NULL,
        canonical INTEGER NOT NULL,
        PRIMARY KEY (connection_id, block_hash, log_index)
      );
      CREATE INDEX chain_logs_canonical ON chain_logs (connection_id, canonical, block_number, log_index);
      -- The last block fully processed (block and all its logs stored), and where tracking began.
      CREATE TABLE chain_cursor (
        connection_id INTEGER PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
        first_block INTEGER NOT NULL,
        number INTEGER NOT NULL,
        hash TEXT NOT NULL,
        finalized INTEGER NOT NULL DEFAULT -1
      );
    `,
  },
  {
    version: 4,
    name: 'watches: options, cursors, unique chain events',
    sql: `
      ALTER TABLE subscriptions ADD COLUMN watch_json TEXT;
      ALTER TABLE subscriptions ADD COLUMN start_block INTEGER;
      ALTER TABLE subscriptions ADD COLUMN head_at_start INTEGER;
      ALTER TABLE subscriptions ADD COLUMN cursor_number INTEGER;
      ALTER TABLE subscriptions ADD COLUMN cursor_hash TEXT;
      ALTER TABLE subscriptions ADD COLUMN complete INTEGER NOT NULL DEFAULT 0;
      -- A watch stores each log (block hash + log index) and each head (block hash) once.
      CREATE UNIQUE INDEX events_unique_chain ON events (stream_id, block_hash, COALESCE(log_index, -1)) WHERE kind IN ('log', 'head') AND block_hash IS NOT NULL;
    `,
  },
  {
    version: 5,
    name: 'settings',
    sql: `CREATE TABLE settings (key TEXT PRIMARY KEY, value_json TEXT NOT NULL);`,
  },
  {
    version: 6,
    name: 'abis, watchlist, notifications',
    sql: `
      ALTER TABLE subscriptions ADD COLUMN notify INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE abis (id INTEGER PRIMARY KEY, name TEXT NOT NULL, abi_json TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE watchlist (address TEXT PRIMARY KEY, label TEXT NOT NULL, color TEXT NOT NULL, notify INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
      -- Watchlist activity looks up Transfer logs by their indexed from/to.
      CREATE INDEX chain_logs_by_topics ON chain_logs (connection_id, topics);
    `,
  },
  {
    version: 7,
    name: 'leaner write path',
    sql: `
      -- Measured (BENCHMARKS.md): these two indexes cost more on every insert than they save.
      -- Listing by connection walks ids newest-first and filters; watchlist lookups use topic positions the index could not serve.
      DROP INDEX events_by_connection;
      DROP INDEX chain_logs_by_topics;
    `,
  },
  {
    version: 8,
    name: 'raw logs as received',
    sql: `
      -- The upstream's log object as received (every field, e.g. blockTimestamp); NULL on rows stored before.
      ALTER TABLE chain_logs ADD COLUMN raw_json TEXT;
    `,
  },
  {
    version: 9,
    name: 'chain ids, per-connection confirmations, token metadata',
    sql: `
      -- eth_chainId as last answered, so the chain's name and finality default are known before the socket is up.
      ALTER TABLE connections ADD COLUMN chain_id INTEGER;
      -- The person's confirmation count for this connection; NULL: the chain's default.
      ALTER TABLE connections ADD COLUMN confirmations INTEGER;
      -- symbol() and decimals() of ERC-20s, read once per token and connection (NULL: reverted or unreadable).
      CREATE TABLE token_metadata (
        connection_id INTEGER NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        address TEXT NOT NULL,
        symbol TEXT,
        decimals INTEGER,
        fetched_at INTEGER NOT NULL,
        PRIMARY KEY (connection_id, address)
      );
    `,
  },
  {
    version: 10,
    name: 'mainnet scale: slim heads, retention per connection',
    sql: `
      -- The raw header is kept once, in chain_blocks (the tracker's row); heads keeps the chart columns.
      ALTER TABLE heads DROP COLUMN header_json;
      -- Days to keep heads (NULL: 30) and captured events (NULL: forever), per connection.
      ALTER TABLE connections ADD COLUMN heads_retention_days INTEGER;
      ALTER TABLE connections ADD COLUMN events_retention_days INTEGER;
    `,
  },
  {
    version: 11,
    name: 'a captured log stored once',
    sql: `
      -- A watch's log is stored once, in chain_logs; its events row points at it (block hash, log index) with its own columns NULL.
      -- The unique index leads with the block hash, so the pruner can ask whether any events row points at a log before removing it.
      DROP INDEX events_unique_chain;
      CREATE UNIQUE INDEX events_unique_chain ON events (block_hash, COALESCE(log_index, -1), stream_id) WHERE kind IN ('log', 'head') AND block_hash IS NOT NULL;
      -- How far the pruner has looked at final logs (block, log index): captured logs stay, and are not read again at every start.
      ALTER TABLE chain_cursor ADD COLUMN logs_pruned_block INTEGER NOT NULL DEFAULT -1;
      ALTER TABLE chain_cursor ADD COLUMN logs_pruned_index INTEGER NOT NULL DEFAULT -1;
    `,
  },
  {
    version: 12,
    name: 'live-log pages by kind and block range at ten million events',
    sql: `
      -- A page of one kind walks this index newest first (pending transactions and heads are a small share of a busy store).
      CREATE INDEX events_by_kind ON events (kind, id);
      -- A block range holding few rows is read through this index, not by walking every newer row (bench/big-store.bench.ts).
      CREATE INDEX events_by_block ON events (block_number);
    `,
  },
  {
    version: 13,
    name: 'live-log pages by address and event: indexes of short keys',
    sql: `
      -- A rare address or event is read through these and its rows sorted (event-store.ts, list); a busy one walks ids.
      -- Keyed by 6 hex digits after 0x, not the whole value, and one index for both (an address is found under
      -- each topic0 key, a few hundred at most): about 20 bytes per captured log, where an index of whole addresses
      -- and one of whole topics would cost 120 (bench:mainnet's budget is 700 bytes a log). The page checks the value.
      CREATE INDEX chain_logs_by_topic0_address ON chain_logs (substr(topics, 3, 6), substr(address, 3, 6));
      -- Rows that hold their own columns (rows from before migration 11, logs of the notification path).
      CREATE INDEX events_by_address ON events (substr(address, 3, 6)) WHERE address IS NOT NULL;
      CREATE INDEX events_by_topic0 ON events (substr(topics, 3, 6)) WHERE topics IS NOT NULL;
      -- The address filter also matches a transaction's from and to in the payload (pending and mined transactions).
      CREATE INDEX events_by_payload_from ON events (lower(json_extract(payload, '$.from')))
        WHERE substr(payload, 1, 1) = '{' AND json_valid(payload) AND json_extract(payload, '$.from') IS NOT NULL;
      CREATE INDEX events_by_payload_tx_from ON events (lower(json_extract(payload, '$.transaction.from')))
        WHERE substr(payload, 1, 1) = '{' AND json_valid(payload) AND json_extract(payload, '$.transaction.from') IS NOT NULL;
      CREATE INDEX events_by_payload_tx_to ON events (lower(json_extract(payload, '$.transaction.to')))
        WHERE substr(payload, 1, 1) = '{' AND json_valid(payload) AND json_extract(payload, '$.transaction.to') IS NOT NULL;
    `,
  },
  {
    version: 14,
    name: 'filters of stream clients on instances that follow a shared store',
    sql: `
      -- A follower (another instance reading a shared PostgreSQL store) registers its /v1/stream and /v1/rpc
      -- clients' log filters here, so the capturing instance fetches and stores their logs; active once the
      -- capturer holds their matches for every non-final block; prompt_finality (filter_json NULL): an irreversible_only
      -- client there wants finality asked every block. One process owns a SQLite file: it stays empty there.
      CREATE TABLE stream_filters (
        id INTEGER PRIMARY KEY,
        connection_id INTEGER NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        filter_json TEXT,
        prompt_finality INTEGER NOT NULL DEFAULT 0,
        owner TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 0,
        seen_at INTEGER NOT NULL
      );
      CREATE INDEX stream_filters_by_connection ON stream_filters (connection_id);
    `,
  },
]

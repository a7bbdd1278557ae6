/**
 * The one contract between the engine and any user interface. Both transports (Electron
 * IPC and the headless WebSocket) and the preload bridge are derived from these tables:
 * adding a command is one entry here plus one handler in src/main/api.
 */
import { z } from 'zod'
import type { CommandName, EventName } from './channels'
import { SUBSCRIPTION_TYPES, subscriptionSpecSchema } from './subscription-params'

export const connectionStateSchema = z.enum(['connecting', 'connected', 'reconnecting', 'failed', 'stopped'])
export type ConnectionState = z.infer<typeof connectionStateSchema>

/** A WebSocket endpoint URL as typed by a person; the message says what to fix. */
export const endpointUrlSchema = z
  .string()
  .trim()
  .min(1, 'Enter a WebSocket URL such as wss://eth-mainnet.g.alchemy.com/v2/<key> or ws://127.0.0.1:8545')
  .max(2048, 'The URL is longer than 2048 characters')
  .refine((value) => URL.canParse(value), {
    message: 'Not a valid URL: expected something like ws://127.0.0.1:8545',
  })
  .refine((value) => !URL.canParse(value) || ['ws:', 'wss:'].includes(new URL(value).protocol), {
    message: 'Tidewatch subscribes over WebSocket: the URL must start with ws:// or wss://',
  })

/** Optional plain-request endpoint of a connection. */
export const httpUrlSchema = z
  .string()
  .trim()
  .max(2048, 'The URL is longer than 2048 characters')
  .refine((value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol), {
    message: 'The HTTP URL must start with http:// or https://',
  })

/** Confirmations a person may set for a connection (finality depth without a `finalized` tag). */
export const confirmationsSchema = z
  .number()
  .int('Confirmations must be a whole number')
  .min(0, 'Confirmations cannot be negative')
  .max(1_000_000, 'Keep confirmations at or under 1,000,000')

export const connectionSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  /** The URL with any API key masked; the full URL never leaves the main process. */
  displayUrl: z.string(),
  /** Optional HTTP endpoint for plain requests (lookups, probes), masked likewise. */
  displayHttpUrl: z.string().nullable(),
  kind: z.enum(['user', 'demo']),
  createdAt: z.number(),
  /** The person's own confirmation count for this connection; null: the chain's default. */
  confirmations: z.number().int().nullable(),
})
export type Connection = z.infer<typeof connectionSchema>

/** What Tidewatch knows about a connection's chain (from eth_chainId and viem's chain list). */
export const chainInfoSchema = z.object({
  chainId: z.number().int(),
  /** null: a chain Tidewatch does not know; it is shown as "Chain <id> (unknown)". */
  name: z.string().nullable(),
  /** Native currency symbol ("ETH", "POL"); "ETH" for unknown chains. */
  nativeSymbol: z.string(),
  /** https base URL of the chain's block explorer, without a trailing slash; null when none is known. */
  explorerUrl: z.string().nullable(),
  testnet: z.boolean(),
  /** Finality depth used where the upstream has no `finalized` tag. */
  confirmations: z.number().int(),
  /** Where that count comes from: the chain's default, the generic default (64), the connection's setting, or `serve --confirmations`. */
  confirmationsSource: z.enum(['chain', 'generic', 'connection', 'command-line']),
})
export type ChainInfo = z.infer<typeof chainInfoSchema>

export const connectionStatusSchema = z.object({
  connectionId: z.number().int(),
  state: connectionStateSchema,
  lastMessageAt: z.number().nullable(),
  reconnectCount: z.number().int(),
  lastError: z.string().nullable(),
  headNumber: z.number().nullable(),
  /** WebSocket connections open to this endpoint (more than one past the per-socket cap). */
  sockets: z.number().int(),
  /** Live upstream subscriptions across those sockets. */
  upstreamSubscriptions: z.number().int(),
  /**
   * Who captures this connection into the store: this instance, or another one sharing the
   * store (PostgreSQL), which this one follows for its streams; null while it is not running here.
   */
  capturing: z.enum(['here', 'elsewhere']).nullable(),
  /** Unix seconds of the newest head, for the lag against the wall clock. */
  headTimestamp: z.number().nullable(),
  /** The chain behind the endpoint (eth_chainId), remembered from the last connect; null until first known. */
  chain: chainInfoSchema.nullable(),
  /** The node's own syncing status (eth_syncing, polled), decimal numbers; null until known. */
  syncing: z
    .object({
      syncing: z.boolean(),
      startingBlock: z.number().nullable(),
      currentBlock: z.number().nullable(),
      highestBlock: z.number().nullable(),
      checkedAt: z.number(),
    })
    .nullable(),
})
export type ConnectionStatus = z.infer<typeof connectionStatusSchema>

/** Trouble writing the store (issue #10): one status for the whole store, not per connection. */
export const storageStatusSchema = z.object({
  /** ok; retrying: writes fail and are retried with backoff; capture_paused: the writes held in memory reached their cap. */
  state: z.enum(['ok', 'retrying', 'capture_paused']),
  fault: z.enum(['locked', 'full', 'read_only', 'corrupt', 'io']).nullable(),
  /** One sentence for the person: what is wrong, with which file, what to do. */
  message: z.string().nullable(),
  since: z.number().nullable(),
  /** Writes captured but not yet committed, held in memory. */
  pendingWrites: z.number().int(),
  failedAttempts: z.number().int(),
  nextRetryAt: z.number().nullable(),
  capturePaused: z.boolean(),
  /** Something done to the store at start that the person should know (a damaged file moved aside), for the session. */
  notice: z.string().nullable(),
})
export type StorageStatus = z.infer<typeof storageStatusSchema>
const retentionDaysSchema = z.number().int('Whole days, please').min(1, 'Keep at least one day').max(36_500, 'Keep at most 100 years')

/** A connection's share of the store and how long it keeps things. */
export const storageUseSchema = z.object({
  connectionId: z.number().int(),
  /** Approximate bytes on disk: each table's pages (SQLite dbstat) shared out by row count. */
  bytes: z.number(),
  tables: z.array(z.object({ table: z.string(), rows: z.number().int(), bytes: z.number() })),
  headsRetentionDays: z.number().int(),
  /** null: captured events are kept forever. */
  eventsRetentionDays: z.number().int().nullable(),
})
export type StorageUse = z.infer<typeof storageUseSchema>

export const connectionWithStatusSchema = connectionSchema.extend({ status: connectionStatusSchema })
export type ConnectionWithStatus = z.infer<typeof connectionWithStatusSchema>

export const headSchema = z.object({
  id: z.number().int(),
  connectionId: z.number().int(),
  number: z.number().int(),
  hash: z.string(),
  parentHash: z.string(),
  timestamp: z.number().int(),
  gasUsed: z.string(),
  gasLimit: z.string(),
  baseFeePerGas: z.string().nullable(),
  txCount: z.number().int().nullable(),
  receivedAt: z.number(),
})
export type Head = z.infer<typeof headSchema>

const idSchema = z.object({ id: z.number().int().positive() }).strict()

/** Milliseconds since the epoch, for every `...At` field of the contract. */
const epochMs = z.number()

/**
 * dfuse-style options of a logs or newHeads subscription (PROTOCOL.md section 1 semantics):
 * where to start, whether to keep listening, finality, progress.
 */
export const watchOptionsSchema = z
  .object({
    /** Absolute block, or negative: that many blocks before the head. Default: the next block. */
    startBlock: z.number().int('start_block must be a whole number').optional(),
    fetch: z.boolean().default(false),
    listen: z.boolean().default(true),
    irreversibleOnly: z.boolean().default(false),
    withProgress: z.number().int().min(1, 'Progress every N blocks needs N of at least 1').max(1_000_000).optional(),
    reqId: z.string().trim().min(1).max(100).optional(),
  })
  .strict()
export type WatchOptions = z.output<typeof watchOptionsSchema>

export const historyProgressSchema = z.object({
  fromBlock: z.number().int(),
  toBlock: z.number().int(),
  /** Blocks processed so far (from fromBlock). */
  done: z.number().int(),
  blocksPerSecond: z.number().nullable(),
  secondsLeft: z.number().nullable(),
})
export type HistoryProgress = z.infer<typeof historyProgressSchema>

export const subscriptionSchema = z.object({
  id: z.number().int(),
  connectionId: z.number().int(),
  type: z.enum(SUBSCRIPTION_TYPES),
  params: z.record(z.string(), z.unknown()),
  label: z.string().nullable(),
  state: z.enum(['active', 'paused', 'pending', 'error']),
  /** True when Tidewatch builds this type itself because the upstream does not offer it. */
  emulated: z.boolean(),
  /** How it is built when emulated, e.g. "from newPendingTransactions (full)". */
  emulation: z.string().nullable(),
  lastError: z.string().nullable(),
  eventCount: z.number().int(),
  lastEventAt: epochMs.nullable(),
  createdAt: epochMs,
  /** Watch options (logs and newHeads only). */
  watch: watchOptionsSchema.nullable(),
  /** Last block fully processed for this watch, persisted across restarts. */
  cursor: z.object({ number: z.number().int(), hash: z.string() }).nullable(),
  /** While a watch works through history. */
  history: historyProgressSchema.nullable(),
  /** A watch with listen: false that delivered everything up to its head. */
  complete: z.boolean(),
  /** The person asked for desktop notifications of new events (rate-limited). */
  notify: z.boolean(),
})
export type Subscription = z.infer<typeof subscriptionSchema>

export const decodedEventSchema = z.object({
  event: z.string(),
  /** e.g. "Transfer(address,address,uint256)" */
  signature: z.string(),
  /** Where the ABI came from: a built-in label or the user ABI's name. */
  source: z.string(),
  args: z.record(z.string(), z.unknown()),
})
export type DecodedEvent = z.infer<typeof decodedEventSchema>

export const abiEntrySchema = z.object({
  id: z.number().int(),
  name: z.string(),
  /** Its events as human-readable signatures, e.g. "event Transfer(address indexed from, address indexed to, uint256 value)". */
  events: z.array(z.string()),
  createdAt: epochMs,
})
export type AbiEntry = z.infer<typeof abiEntrySchema>

const addressField = z
  .string()
  .trim()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'Not an address: expected 0x followed by 40 hex digits')
  .transform((v) => v.toLowerCase())

export const watchlistEntrySchema = z.object({
  address: z.string(),
  label: z.string(),
  /** CSS colour, e.g. #3b82f6 */
  color: z.string(),
  notify: z.boolean(),
  createdAt: epochMs,
})
export type WatchlistEntry = z.infer<typeof watchlistEntrySchema>

/** An ERC-20's symbol and decimals, read once with eth_call and kept in the store. */
export const tokenMetadataSchema = z.object({
  connectionId: z.number().int(),
  /** Lowercase contract address. */
  address: z.string(),
  /** null when symbol() reverts or answers nothing readable. */
  symbol: z.string().nullable(),
  /** null when decimals() reverts or is not a uint8: amounts are then shown raw. */
  decimals: z.number().int().nullable(),
})
export type TokenMetadata = z.infer<typeof tokenMetadataSchema>

export const EXPORT_FORMATS = ['csv', 'ndjson', 'json'] as const
export const exportProgressSchema = z.object({
  exportId: z.string(),
  state: z.enum(['running', 'done', 'cancelled', 'failed']),
  rows: z.number().int(),
  totalRows: z.number().int(),
  /** The file written (desktop) or its name (browser download). */
  file: z.string().nullable(),
  /** Headless mode: where the browser downloads it (add ?token=). */
  downloadUrl: z.string().nullable(),
  error: z.string().nullable(),
})
export type ExportProgress = z.infer<typeof exportProgressSchema>

export const EVENT_KINDS = ['head', 'log', 'pending_transaction', 'mined_transaction', 'syncing'] as const
export type EventKind = (typeof EVENT_KINDS)[number]

export const capturedEventSchema = z.object({
  id: z.number().int(),
  connectionId: z.number().int(),
  /** The local subscriptions this event was delivered to. */
  subscriptionIds: z.array(z.number().int()),
  kind: z.enum(EVENT_KINDS),
  blockNumber: z.number().int().nullable(),
  blockHash: z.string().nullable(),
  transactionHash: z.string().nullable(),
  logIndex: z.number().int().nullable(),
  address: z.string().nullable(),
  topics: z.array(z.string()),
  data: z.string().nullable(),
  removed: z.boolean(),
  /** The event's block is final (at or below the upstream's finalized block) as of this answer. */
  irreversible: z.boolean(),
  /** The raw JSON-RPC result, as the upstream sent it (or as Tidewatch built it when emulated). */
  payload: z.unknown(),
  receivedAt: epochMs,
  /** A log decoded with a built-in or user ABI; big numbers as decimal strings. */
  decoded: decodedEventSchema.nullable(),
})
export type CapturedEvent = z.infer<typeof capturedEventSchema>

/** The local API (/v1/stream and /v1/rpc): always on in headless mode, opt-in in the desktop app. */
/** The filters and cursor of a page of captured events (events.list, events.search). */
const eventsQuerySchema = z
  .object({
    connectionId: z.number().int().positive().optional(),
    subscriptionId: z.number().int().positive().optional(),
    kind: z.enum(EVENT_KINDS).optional(),
    /** Emitting contract (logs) or counterparty (transactions: from or to). */
    address: addressField.optional(),
    /** Decoded event name, e.g. "Transfer" (logs whose topic0 matches a known event of that name). */
    eventName: z.string().trim().min(1).max(100).optional(),
    fromBlock: z.number().int().nonnegative().optional(),
    toBlock: z.number().int().nonnegative().optional(),
    /** Free text: matched against hashes, addresses, topics and data. */
    text: z.string().trim().min(1).max(200).optional(),
    limit: z.number().int().min(1).max(1000).default(100),
    /** Paging back: the newest `limit` matching events with an id below this one, newest first. */
    beforeId: z.number().int().positive().optional(),
    /**
     * Paging forward: the OLDEST `limit` matching events with an id above this one (and below
     * `beforeId` when given), returned newest first. A page therefore always joins `afterId`
     * without a gap; ask again with its highest id for the next page. An events.list page
     * shorter than `limit` means nothing more matches above it (events.search says it by `next`).
     */
    afterId: z.number().int().nonnegative().optional(),
  })
  .strict()

export const localApiStatusSchema = z.object({
  enabled: z.boolean(),
  /** 'headless': served by `tidewatch serve` itself and cannot be turned off from here. */
  mode: z.enum(['desktop', 'headless']),
  port: z.number().int(),
  /** Base URL while listening, e.g. http://127.0.0.1:7458/ */
  url: z.string().nullable(),
  /** Where the API token is kept (the token itself never crosses the contract). */
  tokenFile: z.string(),
  error: z.string().nullable(),
})
export type LocalApiStatus = z.infer<typeof localApiStatusSchema>

/** Choices a person made in the interface, kept with the data (the settings table), not in the browser. */
export const preferencesSchema = z.object({
  /** The note saying the demo chain is local and how to add an endpoint was dismissed. */
  demoNoteDismissed: z.boolean(),
})
export type Preferences = z.infer<typeof preferencesSchema>

/**
 * A PostgreSQL store's URL as typed by a person (issue 13). It may carry a password, so no
 * message repeats what was typed.
 */
export const storeUrlSchema = z
  .string()
  .trim()
  .min(1, 'Enter a PostgreSQL URL such as postgres://user@host:5432/database')
  .max(2048, 'The URL is longer than 2048 characters')
  .refine((value) => URL.canParse(value), { message: 'Not a valid URL: expected something like postgres://user@host:5432/database' })
  .refine((value) => !URL.canParse(value) || ['postgres:', 'postgresql:'].includes(new URL(value).protocol), {
    message: 'The store must be a PostgreSQL URL starting with postgres:// or postgresql://',
  })

/** Which store the engine uses, and (desktop) the one chosen in Settings for the next start. Every URL has its password masked. */
export const storeStatusSchema = z.object({
  /** The store in use: the data directory's SQLite file, or a PostgreSQL database shared with other instances. */
  kind: z.enum(['sqlite', 'postgres']),
  /** Where it is: the SQLite file's path, or the PostgreSQL URL with its password masked. */
  location: z.string(),
  /** The PostgreSQL store chosen for the next start (desktop) or on the command line (headless); null: the embedded SQLite store. */
  configured: z.object({ url: z.string() }).nullable(),
  /** The chosen store is not the one in use: it takes effect at the next start. */
  restartRequired: z.boolean(),
  /** The desktop app chooses the store in Settings; headless mode with `tidewatch serve --store`. */
  editable: z.boolean(),
  /** Why the chosen store could not be opened at this start (the embedded store is used instead); null when it opened or none was chosen. */
  lastError: z.string().nullable(),
})
export type StoreStatus = z.infer<typeof storeStatusSchema>

/** Commands: request and response schemas. */
export const commands = {
  'app.info': {
    request: z.object({}).strict(),
    response: z.object({
      version: z.string(),
      transport: z.enum(['electron', 'websocket']),
      dataDir: z.string(),
    }),
  },
  'connections.list': {
    request: z.object({}).strict(),
    response: z.array(connectionWithStatusSchema),
  },
  'connections.add': {
    request: z
      .object({
        name: z.string().trim().max(100, 'Keep the name under 100 characters').optional(),
        url: endpointUrlSchema,
        httpUrl: httpUrlSchema.optional(),
        confirmations: confirmationsSchema.optional(),
      })
      .strict(),
    response: connectionWithStatusSchema,
  },
  'connections.update': {
    request: z
      .object({
        id: z.number().int().positive(),
        /** null: back to the chain's default. */
        confirmations: confirmationsSchema.nullable(),
      })
      .strict(),
    response: connectionWithStatusSchema,
  },
  'connections.setRetention': {
    request: z
      .object({
        id: z.number().int().positive(),
        /** Days heads are kept; null: the default, 30. */
        headsRetentionDays: retentionDaysSchema.nullable(),
        /** Days captured events are kept; null: forever. */
        eventsRetentionDays: retentionDaysSchema.nullable(),
      })
      .strict(),
    response: storageUseSchema,
  },
  'storage.usage': {
    request: z.object({}).strict(),
    response: z.array(storageUseSchema),
  },
  'storage.compact': {
    request: z.object({}).strict(),
    /** The store file's size before and after (bytes). */
    response: z.object({ bytesBefore: z.number(), bytesAfter: z.number() }),
  },
  'connections.remove': {
    request: idSchema,
    response: z.object({ removed: z.boolean() }),
  },
  'heads.list': {
    request: z
      .object({
        connectionId: z.number().int().positive().optional(),
        limit: z.number().int().min(1).max(1000).default(100),
        /** Cursor: return heads with an id below this one (newest first). */
        beforeId: z.number().int().positive().optional(),
      })
      .strict(),
    response: z.array(headSchema),
  },
  'subscriptions.list': {
    request: z.object({ connectionId: z.number().int().positive().optional() }).strict(),
    response: z.array(subscriptionSchema),
  },
  'subscriptions.create': {
    request: z
      .object({
        connectionId: z.number().int().positive(),
        label: z.string().trim().max(100, 'Keep the label under 100 characters').optional(),
        spec: subscriptionSpecSchema,
        watch: watchOptionsSchema.optional(),
      })
      .strict()
      .refine((request) => !request.watch || request.spec.type === 'logs' || request.spec.type === 'newHeads', {
        message: 'Watch options (start block, finality, progress) apply to logs and newHeads subscriptions only',
        path: ['watch'],
      }),
    response: subscriptionSchema,
  },
  'subscriptions.pause': { request: idSchema, response: subscriptionSchema },
  'subscriptions.resume': { request: idSchema, response: subscriptionSchema },
  'subscriptions.remove': { request: idSchema, response: z.object({ removed: z.boolean() }) },
  /** A whole page of matches. With `text`, it is read as events.search pages (the same rows), the engine serving others between them. */
  'events.list': {
    request: eventsQuerySchema,
    response: z.array(capturedEventSchema),
  },
  /**
   * events.list's page that answers in a bounded time (the live log's): when no index narrows
   * the filters (text, a value many rows hold but not most), ids are read a slice at a time
   * for about 20 ms, and a page whose time runs out holds the matches found so far.
   */
  'events.search': {
    request: eventsQuerySchema,
    response: z.object({
      /** Matching events, newest first: with `beforeId` (or no cursor) the newest below it, with `afterId` the oldest above it. */
      events: z.array(capturedEventSchema),
      /**
       * Where the next page starts: the `beforeId` of the next page back (the `afterId` of the next
       * page forward after an `afterId` page), or null when no event past this page matches. Every
       * id between this page's cursor and `next` has been read: a page shorter than `limit` with a
       * `next` ran out of time, not of matches.
       */
      next: z.number().int().nonnegative().nullable(),
      /**
       * The newest stored event's id when the page was asked for (0: none). A page without a
       * cursor read every event up to it: the live log follows new events from there, even
       * when the page found none.
       */
      newest: z.number().int().nonnegative(),
    }),
  },
  'subscriptions.update': {
    request: z
      .object({
        id: z.number().int().positive(),
        label: z.string().trim().max(100, 'Keep the label under 100 characters').nullable().optional(),
        notify: z.boolean().optional(),
      })
      .strict(),
    response: subscriptionSchema,
  },
  'abis.list': { request: z.object({}).strict(), response: z.array(abiEntrySchema) },
  'abis.add': {
    request: z
      .object({
        name: z.string().trim().min(1, 'Name the ABI').max(100),
        /** A JSON ABI, or event signatures one per line ("event Transfer(address indexed from, ...)" or "Transfer(address indexed,address indexed,uint256)"). */
        abi: z.string().min(1, 'Paste an ABI or an event signature').max(2_000_000),
      })
      .strict(),
    response: abiEntrySchema,
  },
  'abis.remove': { request: idSchema, response: z.object({ removed: z.boolean() }) },
  'watchlist.list': { request: z.object({}).strict(), response: z.array(watchlistEntrySchema) },
  'watchlist.upsert': {
    request: z
      .object({
        address: addressField,
        label: z.string().trim().min(1, 'Give the address a label').max(60, 'Keep the label under 60 characters'),
        color: z
          .string()
          .regex(/^#[0-9a-fA-F]{6}$/, 'Pick a colour like #3b82f6')
          .default('#3b82f6'),
        notify: z.boolean().default(false),
      })
      .strict(),
    response: watchlistEntrySchema,
  },
  'watchlist.remove': { request: z.object({ address: addressField }).strict(), response: z.object({ removed: z.boolean() }) },
  'watchlist.activity': {
    request: z.object({ address: addressField, limit: z.number().int().min(1).max(500).default(50) }).strict(),
    response: z.object({
      /** Token transfers in or out (Transfer logs with the address as from or to), newest first. */
      transfers: z.array(
        z.object({
          connectionId: z.number().int(),
          /** ERC-20: value is an amount in the token's smallest unit; ERC-721: value is the token id. */
          standard: z.enum(['erc20', 'erc721']),
          direction: z.enum(['in', 'out']),
          token: z.string(),
          counterparty: z.string(),
          value: z.string(),
          blockNumber: z.number().int(),
          transactionHash: z.string(),
          removed: z.boolean(),
        }),
      ),
      /** Captured transactions (pending or mined) with the address as from or to. */
      transactions: z.array(capturedEventSchema),
    }),
  },
  'export.start': {
    request: z
      .object({
        subscriptionIds: z.array(z.number().int().positive()).max(1000).optional(),
        connectionId: z.number().int().positive().optional(),
        kind: z.enum(EVENT_KINDS).optional(),
        fromBlock: z.number().int().nonnegative().optional(),
        toBlock: z.number().int().nonnegative().optional(),
        /** Received between these times (ms since the epoch). */
        fromTime: epochMs.optional(),
        toTime: epochMs.optional(),
        format: z.enum(EXPORT_FORMATS),
      })
      .strict(),
    /** `exportId: null` when the person dismissed the save dialog. */
    response: z.object({ exportId: z.string().nullable() }),
  },
  'export.cancel': { request: z.object({ exportId: z.string() }).strict(), response: z.object({ cancelled: z.boolean() }) },
  'tokens.lookup': {
    request: z
      .object({
        connectionId: z.number().int().positive(),
        addresses: z.array(addressField).max(200, 'Ask for at most 200 tokens at a time'),
      })
      .strict(),
    /** The tokens already known; the others are read in the background and arrive with `tokens.resolved`. */
    response: z.array(tokenMetadataSchema),
  },
  'localApi.get': { request: z.object({}).strict(), response: localApiStatusSchema },
  'storage.status': { request: z.object({}).strict(), response: storageStatusSchema },
  'localApi.set': {
    request: z
      .object({
        enabled: z.boolean(),
        port: z.number().int().min(1, 'Pick a port between 1 and 65535').max(65535, 'Pick a port between 1 and 65535').optional(),
      })
      .strict(),
    response: localApiStatusSchema,
  },
  'preferences.get': { request: z.object({}).strict(), response: preferencesSchema },
  'store.get': { request: z.object({}).strict(), response: storeStatusSchema },
  /** Saves the store for the next start (desktop only); null: back to the embedded SQLite store. */
  'store.set': { request: z.object({ url: storeUrlSchema.nullable() }).strict(), response: storeStatusSchema },
  /** Quits and starts the desktop app again (to open a newly chosen store); headless mode answers an error. */
  'app.restart': { request: z.object({}).strict(), response: z.object({ restarting: z.boolean() }) },
  /** Changes the given preferences, keeps the others; answers with all of them. */
  'preferences.set': { request: preferencesSchema.partial().strict(), response: preferencesSchema },
} satisfies Record<CommandName, { request: z.ZodType; response: z.ZodType }>

/** Events pushed from the engine; batched, so the UI re-queries instead of holding every row. */
export const events = {
  'connections.status': connectionStatusSchema,
  /** Another Tidewatch sharing the store added, changed or removed saved connections: list them again. */
  'connections.changed': z.object({}),
  'heads.appended': z.object({
    connectionId: z.number().int(),
    /** Every head with id <= lastId is in the store. */
    lastId: z.number().int(),
    count: z.number().int(),
  }),
  'subscriptions.changed': z.object({ subscription: subscriptionSchema.nullable(), removedId: z.number().int().nullable() }),
  'events.appended': z.object({
    connectionId: z.number().int(),
    /** Every event with id <= lastId is in the store. */
    lastId: z.number().int(),
    count: z.number().int(),
  }),
  /** A reorg took these blocks off the canonical chain: every stored event of them is now marked removed. */
  'events.retracted': z.object({ connectionId: z.number().int(), blockHashes: z.array(z.string()) }),
  'export.progress': exportProgressSchema,
  /** A desktop notification to show (already rate-limited by the engine). */
  notification: z.object({ title: z.string(), body: z.string(), subscriptionId: z.number().int().nullable() }),
  'watchlist.changed': z.object({}),
  /** Token metadata read since the last announcement (tokens.lookup asked for them). */
  'tokens.resolved': z.object({ tokens: z.array(tokenMetadataSchema) }),
  'storage.status': storageStatusSchema,
} satisfies Record<EventName, z.ZodType>

export type CommandRequest<N extends CommandName> = z.input<(typeof commands)[N]['request']>
export type CommandRequestParsed<N extends CommandName> = z.output<(typeof commands)[N]['request']>
export type CommandResponse<N extends CommandName> = z.output<(typeof commands)[N]['response']>
export type EventPayload<N extends EventName> = z.output<(typeof events)[N]>

/** What a failed command carries to the person: a code, a message, and the field at fault. */
export const commandErrorSchema = z.object({
  code: z.enum(['invalid_request', 'not_found', 'internal']),
  message: z.string(),
  field: z.string().optional(),
})
export type CommandError = z.infer<typeof commandErrorSchema>

export type CommandResult<N extends CommandName> = { ok: true; value: CommandResponse<N> } | { ok: false; error: CommandError }

/** Turns a zod failure into the first field-level message a person can act on. */
export function describeZodError(error: z.ZodError): CommandError {
  const issue = error.issues[0] ? mostSpecific(error.issues[0]) : undefined
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : undefined
  return { code: 'invalid_request', message: issue?.message ?? 'Invalid request', ...(field ? { field } : {}) }
}

type Issue = z.core.$ZodIssue

/**
 * A value that may be one item or a list fails as a union, whose own message is only
 * "Invalid input"; the branch that got furthest carries the message a person can act on.
 */
function mostSpecific(issue: Issue, prefix: PropertyKey[] = []): Issue {
  const path = [...prefix, ...issue.path]
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return { ...issue, path }
  const candidates = issue.errors.flat().filter((inner) => inner.code !== 'invalid_type')
  const best = candidates.sort((a, b) => b.path.length - a.path.length)[0]
  return best ? mostSpecific(best, path) : { ...issue, path }
}

/**
 * A page of captured events as both backends answer it: the query (EventQuery), what each
 * filter matches, the columns a page reads and the event each row becomes. SQLite's
 * EventStore (event-store.ts) and PostgreSQL's PostgresEventPages (postgres/event-pages.ts)
 * write their own SQL from these, so the same stored rows give the same events on either;
 * event-pages.backends.test.ts compares them.
 */
import type { CapturedEvent, EventKind } from '../../shared/contract'
import { decodeRawLog } from './raw-log'

export interface EventQuery {
  connectionId?: number | undefined
  streamIds?: number[] | undefined
  kind?: EventKind | undefined
  limit: number
  beforeId?: number | undefined
  afterId?: number | undefined
  fromBlock?: number | undefined
  toBlock?: number | undefined
  /** topic0 values (event selectors) to match. */
  selectors?: string[] | undefined
  address?: string | undefined
  text?: string | undefined
}

/** An export's rows: the filters `iterate` takes, with a range of received times. */
export type ExportQuery = Omit<EventQuery, 'limit' | 'beforeId' | 'afterId' | 'text' | 'selectors' | 'address'> & {
  fromTime?: number | undefined
  toTime?: number | undefined
}

/** An event as a page gives it. */
export type ListedEvent = Omit<CapturedEvent, 'subscriptionIds' | 'irreversible' | 'decoded'> & { streamId: number }

/** A page's row as read: the events row's columns, those it points at from its log; `removed` 0 or 1. */
export interface EventRow {
  id: number
  connection_id: number
  stream_id: number
  kind: EventKind
  block_number: number | null
  block_hash: string | null
  tx_hash: string | null
  tx_index: number | null
  log_index: number | null
  address: string | null
  topics: string | null
  data: string | null
  removed: number
  payload: string | null
  received_at: number
}

const RAW_COLUMNS = [
  'id',
  'connection_id',
  'stream_id',
  'kind',
  'block_number',
  'block_hash',
  'tx_hash',
  'tx_index',
  'log_index',
  'address',
  'topics',
  'data',
  'removed',
  'payload',
  'received_at',
] as const satisfies readonly (keyof EventRow)[]

/** Columns a pointing events row leaves NULL: the log row holds them. */
const POINTED_AT = new Set<string>(['tx_hash', 'tx_index', 'address', 'topics', 'data'])

/** The log a pointing events row stands for (see EVENTS_WITH_LOGS). */
export const LOG_JOIN = `LEFT JOIN chain_logs l
  ON e.kind = 'log' AND e.address IS NULL AND l.connection_id = e.connection_id AND l.block_hash = e.block_hash AND l.log_index = e.log_index`

/**
 * Events with the log each log row points at: a captured log is stored once, in chain_logs,
 * and its events row holds the membership (stream, block hash, log index) with its columns
 * NULL. Rows stored before (and logs of the notification path) hold their own columns.
 */
export const EVENTS_WITH_LOGS = `events e ${LOG_JOIN}`

/**
 * RAW_COLUMNS, each from the events row or the log it points at (EVENTS_WITH_LOGS).
 * `removed`: the flag read as 0 or 1 (SQLite stores it so; PostgreSQL's BOOLEAN is cast).
 */
export function eventColumns(removed = 'e.removed'): string {
  return RAW_COLUMNS.map((column) =>
    column === 'payload'
      ? 'COALESCE(e.payload, l.raw_json) AS payload'
      : column === 'removed'
        ? removed
        : POINTED_AT.has(column)
          ? `COALESCE(e.${column}, l.${column}) AS ${column}`
          : `e.${column}`,
  ).join(', ')
}

/** Rows a page may sort after reading them through an index (milliseconds), rather than walk ids for. */
export const FEW_ROWS = 5_000

/** The block range of a query (either bound alone leaves the other open), or undefined when it has none. */
export function blockRange(query: Pick<EventQuery, 'fromBlock' | 'toBlock'>): { fromBlock: number; toBlock: number } | undefined {
  return query.fromBlock !== undefined || query.toBlock !== undefined
    ? { fromBlock: query.fromBlock ?? 0, toBlock: query.toBlock ?? Number.MAX_SAFE_INTEGER }
    : undefined
}

/** The index key of an address or topic: 6 hex digits after 0x (migration 13). */
export const key = (text: string): string => `substr(${text}, 3, 6)`

/**
 * What the address filter reads besides a log's address: a transaction's from or to in the
 * row's own payload (JSON), each under its migration-13 index.
 */
export const PAYLOAD_ADDRESSES = [
  { index: 'events_by_payload_from', path: ['from'] },
  { index: 'events_by_payload_tx_from', path: ['transaction', 'from'] },
  { index: 'events_by_payload_tx_to', path: ['transaction', 'to'] },
] as const

/**
 * The fields the text filter reads: hashes, address, topics and data (the row's or its log's)
 * and the stored payload text (a log's raw object as raw-log.ts encodes it). A row matches
 * when one of them holds the text, ASCII letters in any case (SQLite's LIKE; other letters
 * as they are).
 */
export const TEXT_FIELDS = [
  'COALESCE(e.tx_hash, l.tx_hash)',
  'e.block_hash',
  'COALESCE(e.address, l.address)',
  'COALESCE(e.topics, l.topics)',
  'COALESCE(e.data, l.data)',
  'COALESCE(e.payload, l.raw_json)',
] as const

/** The LIKE pattern (escape character `\`) of the text filter: the text lowercased, its wildcards escaped. */
export function textPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`
}

/** A stored event's columns as read for an export, in RAW_COLUMNS' order; `payload` is the stored text. */
export type StoredEventRow = [
  id: number,
  connectionId: number,
  streamId: number,
  kind: EventKind,
  blockNumber: number | null,
  blockHash: string | null,
  transactionHash: string | null,
  transactionIndex: number | null,
  logIndex: number | null,
  address: string | null,
  /** Comma-joined. */
  topics: string | null,
  data: string | null,
  removed: 0 | 1,
  payload: string | null,
  receivedAt: number,
]

/** A StoredEventRow as `list` gives events. */
export function storedRow(r: StoredEventRow): ListedEvent {
  return toEvent({
    id: r[0],
    connection_id: r[1],
    stream_id: r[2],
    kind: r[3],
    block_number: r[4],
    block_hash: r[5],
    tx_hash: r[6],
    tx_index: r[7],
    log_index: r[8],
    address: r[9],
    topics: r[10],
    data: r[11],
    removed: r[12],
    payload: r[13],
    received_at: r[14],
  })
}

/** A page's row as an event: topics split, a log's raw object rebuilt from its stored text, other payloads parsed. */
export function toEvent(row: EventRow): ListedEvent {
  const topics = row.topics ? row.topics.split(',') : []
  const base = {
    blockNumber: row.block_number,
    blockHash: row.block_hash,
    transactionHash: row.tx_hash,
    transactionIndex: row.tx_index,
    logIndex: row.log_index,
    address: row.address,
    topics,
    data: row.data,
    removed: row.removed === 1,
  }
  return {
    id: row.id,
    connectionId: row.connection_id,
    streamId: row.stream_id,
    kind: row.kind,
    blockNumber: row.block_number,
    blockHash: row.block_hash,
    transactionHash: row.tx_hash,
    logIndex: row.log_index,
    address: row.address,
    topics,
    data: row.data,
    removed: row.removed === 1,
    payload: row.kind === 'log' ? decodeRawLog(row.payload, base) : row.payload === null ? null : (JSON.parse(row.payload) as unknown),
    receivedAt: row.received_at,
  }
}

/** How long a search page reads before it answers with what it found (ms): the page with its decoration and transport stays well under 50 ms. */
export const SEARCH_BUDGET_MS = 20
/** The ids a search's first slice spans; each next one is sized to the time left at the rate measured, at most 4 times the last. */
export const FIRST_SLICE_IDS = 4_096
/** The widest slice: a cheap filter over a sparse id range still answers in time. */
const MAX_SLICE_IDS = 4_000_000

export interface SearchOptions {
  /** SEARCH_BUDGET_MS; 0 reads one slice per page. */
  budgetMs?: number
  /** FIRST_SLICE_IDS. */
  firstSlice?: number
  now?: () => number
}

/**
 * A search's page: the matching events found, newest first, and where the next page starts
 * (`beforeId` going back, `afterId` after an `afterId` page), or null when no row past the
 * page matches. A page holds fewer events than asked while `next` is not null when its
 * time ran out first: every id between it and `next` was read.
 */
export interface SearchPage {
  rows: ListedEvent[]
  next: number | null
}

/** The rows of a query within id bounds: `floorId` keeps the newest-first order of a page back, unlike `afterId`. */
export type SliceQuery = EventQuery & { floorId?: number }

/**
 * A page of `query` read in id slices, for a filter no index narrows (text, a value many
 * rows hold but not most): each slice is a page of `slice` over a range of ids, walking
 * back from `beforeId` (or `top`, one above the newest id), or forward from `afterId`, until
 * the page is full, the ids end, or `budgetMs` has passed. So a page that finds few rows
 * still answers in time, with `next` to go on from (EventStore.list would read every row).
 */
export async function searchBySlices(
  query: EventQuery,
  top: number,
  slice: (query: SliceQuery) => ListedEvent[] | Promise<ListedEvent[]>,
  options: SearchOptions = {},
): Promise<SearchPage> {
  const budgetMs = options.budgetMs ?? SEARCH_BUDGET_MS
  const now = options.now ?? (() => performance.now())
  const started = now()
  const rows: ListedEvent[] = []
  const forward = query.afterId !== undefined
  const end = Math.min(query.beforeId ?? top, top)
  // Going back: ids in [lo, hi); going forward: ids in (lo, hi).
  let edge = forward ? query.afterId! : end
  let span = options.firstSlice ?? FIRST_SLICE_IDS
  for (;;) {
    const sliceStarted = now()
    const limit = query.limit - rows.length
    let found: ListedEvent[]
    let done: boolean
    if (forward) {
      const hi = Math.min(end, edge + 1 + span)
      found = await slice({ ...query, afterId: edge, beforeId: hi, limit })
      rows.unshift(...found)
      edge = hi - 1
      done = hi >= end
    } else {
      const lo = Math.max(1, edge - span)
      found = edge > 1 ? await slice({ ...query, afterId: undefined, beforeId: edge, floorId: lo, limit }) : []
      rows.push(...found)
      edge = lo
      done = lo <= 1
    }
    if (rows.length >= query.limit) return { rows, next: forward ? rows[0]!.id : rows[rows.length - 1]!.id }
    if (done) return { rows, next: null }
    const elapsed = now() - started
    if (elapsed >= budgetMs) return { rows, next: edge }
    const perId = Math.max(now() - sliceStarted, 0.001) / span
    // The next slice takes most of the time left, at the rate of the last one (which another page or a busy core may slow).
    span = Math.max(1, Math.min(MAX_SLICE_IDS, 4 * span, Math.floor((0.8 * (budgetMs - elapsed)) / perId)))
  }
}

/** A page read whole (through an index, or by `list`) as a search's page: it goes on from its last row when full. */
export function completePage(query: EventQuery, rows: ListedEvent[]): SearchPage {
  if (rows.length < query.limit) return { rows, next: null }
  return { rows, next: query.afterId !== undefined ? rows[0]!.id : rows[rows.length - 1]!.id }
}

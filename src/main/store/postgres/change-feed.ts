/**
 * Live updates for everyone reading a shared PostgreSQL store (issue 13): the live log, head
 * charts, `/v1/stream` and `/v1/rpc` of every desktop app and `serve` instance hear what any
 * capturer commits, through LISTEN/NOTIFY on one channel.
 *
 * Writers call `notifyChanges` inside the transaction that writes the rows: PostgreSQL
 * delivers a transaction's notifications when it commits, in commit order, and never those
 * of a transaction rolled back, so no viewer hears of rows it cannot read yet. Viewers hold a
 * `ChangeFeed`, which listens on a session of its own (session.ts) and emits the changes in
 * the engine's terms (EventsCommitted, HeadsCommitted, chain and configuration changes).
 */
import { EventEmitter } from 'node:events'
import type { ClientBase } from 'pg'
import { z } from 'zod'
import type { EventsCommitted } from '../event-store'
import type { HeadsCommitted } from '../head-store'
import type { PostgresPool } from './database'
import { answersWithin, DedicatedSession, describeError, sessionApplicationName } from './session'

/** The one channel all changes go out on. */
export const CHANGES_CHANNEL = 'tidewatch_changes'

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more (in its default build; the NOTIFY reference page). */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7_999

/** Tables the configuration stores hold in memory (config-stores.ts); streams change with subscriptions and are announced as such. */
export const CONFIG_TABLES = ['connections', 'subscriptions', 'watchlist', 'abis', 'settings', 'token_metadata'] as const
export type ConfigTable = (typeof CONFIG_TABLES)[number]

/**
 * The tracker's chain of a connection changed: blocks appended up to `number` (the new head),
 * orphaned above it, or finalized up to it; or `filters`: a follower registered or dropped a
 * stream filter, or the capturer holds a filter's matches now (number 0).
 */
export interface ChainChanged {
  connectionId: number
  kind: 'blocks' | 'orphaned' | 'finalized' | 'filters'
  number: number
  hash?: string
}

/** Rows of a configuration table changed: re-read it. */
export interface ConfigChanged {
  table: ConfigTable
  /** Who wrote it (PostgresConfigStores' origin), so an instance can pass over its own changes. */
  origin?: string
}

/** What a writer announces, one per committed change. */
export type StoreChange =
  | ({ change: 'events' } & EventsCommitted)
  | ({ change: 'heads' } & HeadsCommitted)
  | ({ change: 'chain' } & ChainChanged)
  | ({ change: 'config' } & ConfigChanged)

const id = z.number().int().nonnegative()
const count = z.number().int().nonnegative()

/**
 * The payloads on the wire. perStream goes as [stream id, count] pairs; a batch whose pairs
 * would not fit one payload goes as several, each with the whole batch's lastId and count
 * and a share of the pairs, numbered `part` of `parts`, and is put back together on receipt.
 */
const payloadSchema = z.discriminatedUnion('change', [
  z.object({
    change: z.literal('events'),
    connectionId: id,
    lastId: id,
    count,
    perStream: z.array(z.tuple([id, count])),
    part: z.number().int().positive().optional(),
    parts: z.number().int().positive().optional(),
  }),
  z.object({ change: z.literal('heads'), connectionId: id, lastId: id, count }),
  z.object({
    change: z.literal('chain'),
    connectionId: id,
    kind: z.enum(['blocks', 'orphaned', 'finalized', 'filters']),
    number: z.number().int().nonnegative(),
    hash: z.string().optional(),
  }),
  z.object({ change: z.literal('config'), table: z.enum(CONFIG_TABLES), origin: z.string().max(200).optional() }),
])
type Payload = z.infer<typeof payloadSchema>
type EventsPayload = Extract<Payload, { change: 'events' }>

const NOTIFY = 'SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload'

/**
 * Announces `changes` to every ChangeFeed once the transaction `client` is in commits (and
 * never if it rolls back); outside a transaction, at once. Call it with the writing
 * transaction's own client, after the rows are written. PostgreSQL folds identical
 * notifications of one transaction into one, which loses nothing here: the same change
 * announced twice means the same thing as once.
 */
export async function notifyChanges(client: ClientBase, changes: readonly StoreChange[]): Promise<void> {
  const payloads = changes.flatMap(changePayloads)
  if (payloads.length > 0) await client.query(NOTIFY, [CHANGES_CHANNEL, payloads])
}

const byteLength = (text: string) => Buffer.byteLength(text, 'utf8')

/** One payload for a change, or several for a batch of events touching more streams than one payload holds. */
export function changePayloads(change: StoreChange): string[] {
  if (change.change !== 'events') {
    const payload = JSON.stringify(change)
    // Bounded by its fields (ids, a kind, a hash); only a caller's mistake makes it long.
    if (byteLength(payload) > MAX_NOTIFY_PAYLOAD_BYTES) throw new RangeError(`A ${change.change} change is too long to notify: ${payload.slice(0, 200)}…`)
    return [payload]
  }
  const pairs = [...change.perStream]
  const whole: EventsPayload = { change: 'events', connectionId: change.connectionId, lastId: change.lastId, count: change.count, perStream: pairs }
  const wholePayload = JSON.stringify(whole)
  if (byteLength(wholePayload) <= MAX_NOTIFY_PAYLOAD_BYTES) return [wholePayload]

  // Room for the pairs once the rest of a part is written, with part numbers as long as they may get.
  const room = MAX_NOTIFY_PAYLOAD_BYTES - byteLength(JSON.stringify({ ...whole, perStream: [], part: pairs.length, parts: pairs.length }))
  const shares: [number, number][][] = [[]]
  let used = 0
  for (const pair of pairs) {
    const size = byteLength(JSON.stringify(pair)) + 1
    if (used + size > room && shares.at(-1)!.length > 0) {
      shares.push([])
      used = 0
    }
    shares.at(-1)!.push(pair)
    used += size
  }
  return shares.map((share, index) => JSON.stringify({ ...whole, perStream: share, part: index + 1, parts: shares.length }))
}

export interface ChangeFeedOptions {
  /** What pg_stat_activity shows for the feed's session; `tidewatch viewer <host>:<pid>` by default. */
  applicationName?: string
  /** The first wait before listening again after the session broke; doubled at each failure up to maxReconnectDelayMs. */
  reconnectDelayMs?: number
  maxReconnectDelayMs?: number
  /** How often the feed checks that its session still answers (a silently dropped connection hears nothing and says nothing). */
  heartbeatIntervalMs?: number
  /** Where malformed payloads, a broken session and its return are reported. */
  log?: (message: string) => void
}

export interface ChangeFeedEvents {
  events: [EventsCommitted]
  heads: [HeadsCommitted]
  chain: [ChainChanged]
  config: [ConfigChanged]
  /**
   * Listening again after the session broke. Notifications sent while it was down are lost
   * (PostgreSQL keeps none for a session that is gone), so whatever a viewer shows from the
   * store must be read again: the live log from its last id, heads, chain, configuration.
   */
  resync: []
}

const DEFAULT_RECONNECT_DELAY_MS = 250
const DEFAULT_MAX_RECONNECT_DELAY_MS = 10_000
const DEFAULT_HEARTBEAT_INTERVAL_MS = 15_000
/** Batches split over several payloads that are being put back together; more means parts went missing. */
const MAX_PENDING_SPLIT_BATCHES = 32

/**
 * A viewer's live view of the store's changes. `start()` resolves once it listens; read the
 * initial state after that, so nothing committed in between goes unheard. When the session
 * breaks it listens again with backoff and emits 'resync' (see ChangeFeedEvents). A process
 * that writes the store hears its own changes as well as everyone else's.
 */
export class ChangeFeed extends EventEmitter<ChangeFeedEvents> {
  private readonly applicationName: string
  private readonly firstDelayMs: number
  private readonly maxDelayMs: number
  private session: DedicatedSession | undefined
  private delayMs: number
  private brokenSince: number | undefined
  private reconnectTimer: NodeJS.Timeout | undefined
  private heartbeatTimer: NodeJS.Timeout | undefined
  private closed = false
  /** Split batches of events, by connection and last id, with the shares received so far. */
  private readonly pendingSplits = new Map<string, { parts: number; shares: Map<number, [number, number][]> }>()

  constructor(
    private readonly pool: PostgresPool,
    private readonly options: ChangeFeedOptions = {},
  ) {
    super()
    this.applicationName = options.applicationName ?? sessionApplicationName('viewer')
    this.firstDelayMs = options.reconnectDelayMs ?? DEFAULT_RECONNECT_DELAY_MS
    this.maxDelayMs = options.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS
    this.delayMs = this.firstDelayMs
  }

  /** The server process of the listening session, 0 while there is none (for tests and diagnostics). */
  get backendPid(): number {
    return this.session?.backendPid ?? 0
  }

  /** Listens; rejects when the first session cannot be opened. */
  async start(): Promise<void> {
    if (this.session || this.closed) return
    await this.listen()
    const interval = this.options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS
    this.heartbeatTimer = setInterval(() => void this.checkSession(interval), interval)
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.reconnectTimer)
    clearInterval(this.heartbeatTimer)
    const session = this.session
    this.session = undefined
    await session?.end()
  }

  private async listen(): Promise<void> {
    let opened: DedicatedSession | undefined
    try {
      opened = await DedicatedSession.open(this.pool, this.applicationName, (error) => {
        if (opened) this.sessionBroke(opened, error)
      })
      opened.client.on('notification', (message) => {
        // Heard from the LISTEN on, even before listen() returns: one read from the socket may carry its answer and a notification.
        if (message.channel === CHANGES_CHANNEL && !this.closed) this.receive(message.payload ?? '')
      })
      await opened.client.query(`LISTEN ${CHANGES_CHANNEL}`)
    } catch (error) {
      await opened?.end()
      throw error
    }
    if (this.closed) {
      await opened.end()
      return
    }
    this.session = opened
  }

  private async checkSession(timeoutMs: number): Promise<void> {
    const session = this.session
    if (!session) return
    try {
      await answersWithin(session.client, timeoutMs)
    } catch (error) {
      this.sessionBroke(session, error)
    }
  }

  private sessionBroke(session: DedicatedSession, error: unknown): void {
    if (session !== this.session || this.closed) return
    this.session = undefined
    this.pendingSplits.clear()
    void session.end()
    this.brokenSince = Date.now()
    this.options.log?.(`Change feed: the PostgreSQL session broke (${describeError(error)}); listening again, changes meanwhile are re-read.`)
    this.reconnectLater()
  }

  private reconnectLater(): void {
    this.reconnectTimer = setTimeout(() => void this.reconnect(), this.delayMs)
    this.delayMs = Math.min(this.delayMs * 2, this.maxDelayMs)
  }

  private async reconnect(): Promise<void> {
    if (this.closed) return
    try {
      await this.listen()
    } catch {
      this.reconnectLater()
      return
    }
    if (this.closed) return
    this.options.log?.(`Change feed: listening again after ${Date.now() - (this.brokenSince ?? Date.now())} ms.`)
    this.delayMs = this.firstDelayMs
    this.emit('resync')
  }

  private receive(text: string): void {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    const parsed = payloadSchema.safeParse(json)
    if (!parsed.success) {
      this.options.log?.(
        `Change feed: ignored a malformed notification on ${CHANGES_CHANNEL} (${z.prettifyError(parsed.error).replace(/\s+/g, ' ')}): ${text.slice(0, 200)}`,
      )
      return
    }
    const payload = parsed.data
    switch (payload.change) {
      case 'events': {
        const pairs = payload.parts === undefined ? payload.perStream : this.joinSplit(payload)
        if (pairs) this.emit('events', { connectionId: payload.connectionId, lastId: payload.lastId, count: payload.count, perStream: new Map(pairs) })
        return
      }
      case 'heads':
        this.emit('heads', { connectionId: payload.connectionId, lastId: payload.lastId, count: payload.count })
        return
      case 'chain': {
        const { change: _, ...chain } = payload
        this.emit('chain', chain)
        return
      }
      case 'config':
        this.emit('config', { table: payload.table, ...(payload.origin !== undefined ? { origin: payload.origin } : {}) })
        return
    }
  }

  /** Adds a share of a split batch; the batch's pairs once every share has come. */
  private joinSplit(payload: EventsPayload): [number, number][] | undefined {
    const key = `${payload.connectionId}:${payload.lastId}`
    const parts = payload.parts!
    let pending = this.pendingSplits.get(key)
    if (!pending || pending.parts !== parts) this.pendingSplits.set(key, (pending = { parts, shares: new Map() }))
    pending.shares.set(payload.part ?? 1, payload.perStream)
    if (pending.shares.size < parts) {
      if (this.pendingSplits.size > MAX_PENDING_SPLIT_BATCHES) {
        const [oldest] = this.pendingSplits.keys()
        this.pendingSplits.delete(oldest!)
        this.options.log?.(`Change feed: dropped the incomplete split batch ${oldest} (its other parts never came).`)
      }
      return undefined
    }
    this.pendingSplits.delete(key)
    return [...pending.shares.entries()].sort(([a], [b]) => a - b).flatMap(([, share]) => share)
  }
}

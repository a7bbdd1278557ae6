/**
 * One capturer per connection among several sharing a PostgreSQL store (issue 13): the one
 * holding the session advisory lock (0x74696465, connection id) leads and captures; the
 * others follow, trying for the lock every `retryIntervalMs`, and the first to get it after
 * the leader's session ends takes over, resuming from the stored cursor.
 *
 * The lock lives exactly as long as the leader's session, so each ConnectionLeadership holds
 * a session of its own (session.ts), never a pooled one. A leader learns it lost the lock when
 * that session breaks: the server ended it (pg_terminate_backend, a restart), the connection
 * failed, or it stopped answering the leader's checks (one per `retryIntervalMs`, each allowed
 * `sessionTimeoutMs / 2`). Then 'lost' fires and the leader must stop capturing at once, since
 * another may already be elected; this instance then follows again.
 *
 * A leader that vanishes without closing its socket (power loss, a partition, a frozen
 * process) would keep its session, and so the lock, until the server's TCP keepalive gives up
 * (hours by default). Every session here therefore runs with `idle_session_timeout` =
 * `sessionTimeoutMs`: the server ends a leader that stopped checking in, and a follower takes
 * over within `sessionTimeoutMs + retryIntervalMs` (9.5 s with the defaults). The leader's own
 * checks give up well before the server would (within `retryIntervalMs + sessionTimeoutMs / 2`),
 * so while its event loop runs it stops before anyone else can be elected. What it wrote while
 * its process was stalled past that is not fenced here.
 */
import { EventEmitter } from 'node:events'
import type { PostgresPool } from './database'
import { MIGRATION_LOCK } from './migrate'
import { answersWithin, DedicatedSession, describeError, sessionApplicationName } from './session'

/** The advisory lock's first key: "tide", shared with the migrations, whose second key is 0 (migrate.ts). */
const LOCK_CLASS = MIGRATION_LOCK[0]
/** pg_try_advisory_lock(int, int) takes 32-bit keys; 0 is the migrations' lock. */
const MAX_CONNECTION_ID = 2 ** 31 - 1

const DEFAULT_RETRY_INTERVAL_MS = 1_500
const DEFAULT_SESSION_TIMEOUT_MS = 8_000

export interface ConnectionLeadershipOptions {
  /** How often a follower tries for the lock, and a leader checks that its session still answers. */
  retryIntervalMs?: number
  /** The server ends a session silent this long (idle_session_timeout), freeing a vanished leader's lock. At least 4 x retryIntervalMs. */
  sessionTimeoutMs?: number
  /** What pg_stat_activity and leaderOf show for this instance's session; `tidewatch capture <host>:<pid>` by default. */
  applicationName?: string
  /** Where it says that PostgreSQL cannot be reached, and that it can again. */
  log?: (message: string) => void
}

export interface ConnectionLeadershipEvents {
  /** This instance holds the lock: start capturing the connection (from the stored cursor). */
  elected: []
  /** Another instance holds the lock; this one keeps trying. Said once per session, not at every try. */
  following: []
  /** The session holding the lock broke: stop capturing at once. The instance follows again. */
  lost: [reason: string]
}

/** Who leads a connection, as the server sees it. */
export interface ConnectionLeader {
  connectionId: number
  /** The leader's server process (pg_stat_activity.pid). */
  backendPid: number
  /** The leader's application_name (`tidewatch capture <host>:<pid>`); null where this role may not see it. */
  applicationName: string | null
  /** The leader's address as the server sees it; null over a Unix socket or where this role may not see it. */
  clientAddress: string | null
  /** When the leader's session connected (ms since the epoch); null where this role may not see it. */
  connectedAt: number | null
}

export class ConnectionLeadership extends EventEmitter<ConnectionLeadershipEvents> {
  private readonly retryIntervalMs: number
  private readonly sessionTimeoutMs: number
  private readonly applicationName: string
  private session: DedicatedSession | undefined
  private leading = false
  private saidFollowing = false
  private unreachableSince: number | undefined
  private warnedNoSessionTimeout = false
  private started = false
  private released = false
  private timer: NodeJS.Timeout | undefined
  private attempting: Promise<void> = Promise.resolve()

  constructor(
    private readonly pool: PostgresPool,
    readonly connectionId: number,
    private readonly options: ConnectionLeadershipOptions = {},
  ) {
    super()
    if (!Number.isInteger(connectionId) || connectionId < 1 || connectionId > MAX_CONNECTION_ID)
      throw new RangeError(`Connection id ${connectionId} cannot key an advisory lock: expected an integer from 1 to ${MAX_CONNECTION_ID}`)
    this.retryIntervalMs = options.retryIntervalMs ?? DEFAULT_RETRY_INTERVAL_MS
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS
    // The leader's checks (every retry interval, each allowed half the timeout) must give up before the server would end its session.
    if (this.retryIntervalMs * 4 > this.sessionTimeoutMs)
      throw new RangeError(`sessionTimeoutMs (${this.sessionTimeoutMs}) must be at least 4 x retryIntervalMs (${this.retryIntervalMs})`)
    this.applicationName = options.applicationName ?? sessionApplicationName('capture')
  }

  /** Whether this instance holds the lock now. */
  get isLeader(): boolean {
    return this.leading
  }

  /** The server process of this instance's session, 0 while it has none (for tests and diagnostics). */
  get backendPid(): number {
    return this.session?.backendPid ?? 0
  }

  /** Starts trying for the lock at once, then every retryIntervalMs. */
  start(): void {
    if (this.started || this.released) return
    this.started = true
    this.next(0)
  }

  /**
   * Stops trying and ends the session, which frees the lock if held; no event fires after
   * this. A leader stops capturing first, so no two instances capture at once.
   */
  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    clearTimeout(this.timer)
    await this.attempting
    const session = this.session
    this.session = undefined
    this.leading = false
    await session?.end()
  }

  private next(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.attempting = this.attempt().finally(() => {
        if (!this.released) this.next(this.retryIntervalMs)
      })
    }, delayMs)
  }

  private async attempt(): Promise<void> {
    const session = this.session ?? (await this.connect())
    if (!session || this.released) return
    try {
      if (this.leading) {
        await answersWithin(session.client, this.sessionTimeoutMs / 2)
        return
      }
      const { rows } = await session.client.query<{ acquired: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS acquired', [LOCK_CLASS, this.connectionId])
      if (this.released || session !== this.session) return
      if (rows[0]!.acquired) {
        this.leading = true
        this.emit('elected')
      } else if (!this.saidFollowing) {
        this.saidFollowing = true
        this.emit('following')
      }
    } catch (error) {
      if (!this.released) this.sessionBroke(session, error)
    }
  }

  private async connect(): Promise<DedicatedSession | undefined> {
    let opened: DedicatedSession | undefined
    try {
      opened = await DedicatedSession.open(this.pool, this.applicationName, (error) => {
        if (opened) this.sessionBroke(opened, error)
      })
      await this.limitSilence(opened)
    } catch (error) {
      await opened?.end()
      if (this.unreachableSince === undefined) {
        this.unreachableSince = Date.now()
        this.options.log?.(
          `Leadership of connection ${this.connectionId}: cannot open a PostgreSQL session (${describeError(error)}); trying again every ${this.retryIntervalMs} ms.`,
        )
      }
      return undefined
    }
    if (this.released) {
      await opened.end()
      return undefined
    }
    if (this.unreachableSince !== undefined) {
      this.options.log?.(`Leadership of connection ${this.connectionId}: PostgreSQL answers again after ${Date.now() - this.unreachableSince} ms.`)
      this.unreachableSince = undefined
    }
    this.session = opened
    this.saidFollowing = false
    return opened
  }

  /** The server ends a session silent for sessionTimeoutMs, which frees a vanished leader's lock (see the top of this file). */
  private async limitSilence(session: DedicatedSession): Promise<void> {
    try {
      await session.client.query(`SET idle_session_timeout = ${Math.round(this.sessionTimeoutMs)}`)
    } catch (error) {
      // 42704 undefined_object: a server older than PostgreSQL 14 has no such setting.
      if ((error as { code?: string }).code !== '42704') throw error
      if (this.warnedNoSessionTimeout) return
      this.warnedNoSessionTimeout = true
      this.options.log?.(
        `Leadership of connection ${this.connectionId}: this PostgreSQL (before 14) has no idle_session_timeout, so a leader whose host vanishes keeps the lock until the server's TCP keepalive gives up.`,
      )
    }
  }

  /** The session broke: a leader has lost the lock (its holder is gone). A new session is opened at the next attempt. */
  private sessionBroke(session: DedicatedSession, error: unknown): void {
    if (session !== this.session) return
    this.session = undefined
    void session.end()
    if (!this.leading) return
    this.leading = false
    this.emit('lost', `the PostgreSQL session holding the lock of connection ${this.connectionId} broke: ${describeError(error)}`)
  }
}

const LEADERS = `SELECT l.objid::bigint AS connection_id, l.pid, a.application_name, host(a.client_addr) AS client_address, a.backend_start
  FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = $1::bigint::oid AND l.objid <> 0
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`

interface LeaderRow {
  connection_id: number
  pid: number
  application_name: string | null
  client_address: string | null
  backend_start: Date | null
}

function leaderFromRow(row: LeaderRow): ConnectionLeader {
  return {
    connectionId: row.connection_id,
    backendPid: row.pid,
    applicationName: row.application_name,
    clientAddress: row.client_address,
    connectedAt: row.backend_start?.getTime() ?? null,
  }
}

/** Who leads each connection of this store that has a leader (advisory locks are per database, so only this database's count). */
export async function connectionLeaders(pool: PostgresPool): Promise<Map<number, ConnectionLeader>> {
  const { rows } = await pool.query<LeaderRow>(LEADERS, [LOCK_CLASS])
  return new Map(rows.map((row) => [row.connection_id, leaderFromRow(row)]))
}

/** Who leads `connectionId`; undefined when nobody does (no capturer runs it, or the leader just died and none took over yet). */
export async function leaderOf(pool: PostgresPool, connectionId: number): Promise<ConnectionLeader | undefined> {
  const { rows } = await pool.query<LeaderRow>(`${LEADERS} AND l.objid = $2::bigint::oid`, [LOCK_CLASS, connectionId])
  return rows[0] && leaderFromRow(rows[0])
}

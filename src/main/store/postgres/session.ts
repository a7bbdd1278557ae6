/**
 * A PostgreSQL session of its own, for what must not share a pooled connection: a session
 * advisory lock (leadership.ts) lives exactly as long as the session holding it, and LISTEN
 * (change-feed.ts) hears only on the session that ran it. A pooled connection could be handed
 * to other work, or closed and replaced by the pool, taking the lock or the LISTEN with it.
 */
import os from 'node:os'
import { Client } from 'pg'
import type { PostgresPool } from './database'

/** application_name holds at most NAMEDATALEN - 1 bytes; the server cuts longer names. */
const APPLICATION_NAME_BYTES = 63
const END_TIMEOUT_MS = 2_000

/** What pg_stat_activity shows for this process's sessions of `role`: `tidewatch <role> <host>:<pid>`. */
export function sessionApplicationName(role: string): string {
  const name = `tidewatch ${role} ${os.hostname()}:${process.pid}`
  return Buffer.byteLength(name) <= APPLICATION_NAME_BYTES ? name : Buffer.from(name).subarray(0, APPLICATION_NAME_BYTES).toString()
}

/**
 * A Client connected with the pool's own settings (server, user, where the password comes
 * from, BIGINT as numbers) and named `applicationName`. `onFailure` hears, once, that the
 * session broke (an error, or the connection ending) unless `end()` was called first; without
 * a listener a broken session's 'error' event would end the process.
 */
export class DedicatedSession {
  private ending = false
  private failed = false

  private constructor(
    readonly client: Client,
    private readonly onFailure: (error: Error) => void,
  ) {
    client.on('error', (error) => this.fail(error))
    client.on('end', () => this.fail(new Error('the connection to PostgreSQL ended')))
  }

  /** The server process serving this session (pg_stat_activity.pid, pg_locks.pid). */
  backendPid = 0

  static async open(pool: PostgresPool, applicationName: string, onFailure: (error: Error) => void): Promise<DedicatedSession> {
    // pg-pool keeps the password as a non-enumerable property (out of logs and stack traces), which a spread leaves behind.
    const config = { ...pool.options, password: pool.options.password, application_name: applicationName, keepAlive: true }
    const session = new DedicatedSession(new Client(config), onFailure)
    try {
      await session.client.connect()
      const { rows } = await session.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
      session.backendPid = rows[0]!.pid
      return session
    } catch (error) {
      await session.end()
      throw error
    }
  }

  /**
   * Ends the session (and whatever it holds); no failure is reported after this. Waits at
   * most `timeoutMs`: over a connection that went silent the goodbye is never answered.
   */
  async end(timeoutMs = END_TIMEOUT_MS): Promise<void> {
    this.ending = true
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.client.end().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
    clearTimeout(timer)
  }

  private fail(error: Error): void {
    if (this.ending || this.failed) return
    this.failed = true
    this.onFailure(error)
  }
}

/** Resolves when `client` answers a trivial query within `timeoutMs`; rejects otherwise (a half-open connection never answers). */
export async function answersWithin(client: Client, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`PostgreSQL did not answer within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    await Promise.race([client.query('SELECT 1'), timeout])
  } finally {
    clearTimeout(timer)
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

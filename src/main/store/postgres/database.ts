/**
 * Opens the PostgreSQL store: a node-postgres pool for a `postgres://` URL, checked with one
 * round trip, then the pending migrations (migrate.ts). The password comes from the URL,
 * else PGPASSWORD, else a pgpass file (PGPASSFILE or ~/.pgpass), as with libpq; it is never
 * put in a message. A server that cannot be reached, refused credentials and a missing
 * database each fail with one line saying what to do.
 */
import { Client, DatabaseError, Pool, TypeOverrides, types, type ClientConfig } from 'pg'
import { parseIntoClientConfig } from 'pg-connection-string'
import pgpass from 'pgpass'
import { redactSecretsIn, redactUrl } from '../../redact-url'
import { applyPostgresMigrations, PostgresSchemaTooNew } from './migrate'
import { postgresMigrations, type PostgresMigration } from './migrations'

export type PostgresPool = Pool

export type PostgresOpenProblem = 'bad_url' | 'unreachable' | 'credentials' | 'no_password' | 'no_database' | 'schema_too_new' | 'migration_failed' | 'other'

export class PostgresOpenError extends Error {
  constructor(
    readonly problem: PostgresOpenProblem,
    message: string,
  ) {
    super(message)
    this.name = 'PostgresOpenError'
  }
}

export interface ConnectPostgresOptions {
  /** Where a failing idle connection is reported (the pool replaces it); without it, such errors are dropped rather than crash the process. */
  log?: (message: string) => void
  /** How long one connection attempt may take before the server counts as unreachable. */
  connectTimeoutMs?: number
  /** Connections the pool opens at most. */
  maxConnections?: number
}

export interface OpenPostgresOptions extends ConnectPostgresOptions {
  migrations?: readonly PostgresMigration[]
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
const DEFAULT_MAX_CONNECTIONS = 10
const POSTGRES_SCHEMES = new Set(['postgres:', 'postgresql:'])

/** Node's network errors that mean nothing answered at that host and port. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ENOENT'])

/**
 * BIGINT columns (block numbers, ids, millisecond times) come back as numbers, not the
 * strings node-postgres gives by default; a value beyond 2^53 fails loudly instead of
 * losing digits. NUMERIC stays a string.
 */
function bigintAsNumber(text: string): number {
  const value = Number(text)
  if (!Number.isSafeInteger(value)) throw new RangeError(`PostgreSQL returned ${text}, beyond the integers JavaScript holds exactly`)
  return value
}
const typeParsers = new TypeOverrides()
typeParsers.setTypeParser(types.builtins.INT8, bigintAsNumber)

/** What pg passes a password function: the connection's resolved host, port, database and user. */
interface ConnectionTarget {
  host?: string | null
  port?: number | null
  database?: string | null
  user?: string | null
}

function pgpassLookup(target: ConnectionTarget): Promise<string | undefined> {
  return new Promise((resolve) => pgpass(target, resolve))
}

export async function openPostgres(url: string, options: OpenPostgresOptions = {}): Promise<PostgresPool> {
  const pool = await connectPostgres(url, options)
  try {
    await applyPostgresMigrations(pool, options.migrations ?? postgresMigrations)
    return pool
  } catch (error) {
    await pool.end().catch(() => undefined)
    const detail = error instanceof Error ? error.message : String(error)
    throw new PostgresOpenError(
      error instanceof PostgresSchemaTooNew ? 'schema_too_new' : 'migration_failed',
      `Cannot migrate the PostgreSQL store ${redactUrl(url)}: ${redactSecretsIn(detail, url)}`,
    )
  }
}

export async function connectPostgres(url: string, options: ConnectPostgresOptions = {}): Promise<PostgresPool> {
  const where = redactUrl(url)
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new PostgresOpenError('bad_url', 'The PostgreSQL store URL is not a URL; expected postgres://user@host:port/database')
  }
  if (!POSTGRES_SCHEMES.has(parsed.protocol))
    throw new PostgresOpenError('bad_url', `${where} is not a PostgreSQL URL; expected postgres://user@host:port/database`)

  // Passwords read from PGPASSWORD or a pgpass file, masked in messages as the URL's own is.
  const otherSecrets = new Set<string>()
  const redacted = (text: string) => {
    let result = redactSecretsIn(text, url)
    for (const secret of otherSecrets) result = result.split(secret).join('***')
    return result
  }

  let config: ClientConfig
  try {
    config = parseIntoClientConfig(url)
  } catch (error) {
    throw new PostgresOpenError('bad_url', `Cannot use the PostgreSQL store URL ${where}: ${redacted(error instanceof Error ? error.message : String(error))}`)
  }
  if (!config.password) {
    // pg reads PGPASSWORD itself, but only when no password function is given, and its own pgpass reading is deprecated (removed in pg 9).
    const fromEnvironment = async (target?: ConnectionTarget): Promise<string> => {
      const password = process.env.PGPASSWORD || (target ? await pgpassLookup(target) : undefined)
      if (password && password.length >= 6) otherSecrets.add(password)
      // Undefined tells pg there is none, so a server that asks for one gets a clear failure.
      return password as string
    }
    config.password = fromEnvironment
  }

  const clientConfig: ClientConfig = {
    ...config,
    types: typeParsers,
    application_name: config.application_name ?? 'tidewatch',
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  }
  // Checked with a client of its own: one that fails before the server has answered (no password to give) keeps its socket
  // open until ended, and the pool does not end such clients (the server would wait for them until its authentication_timeout).
  const check = new Client(clientConfig)
  try {
    await check.connect()
    await check.query('SELECT 1')
  } catch (error) {
    throw connectError(error, where, { user: config.user ?? process.env.PGUSER ?? '' }, redacted)
  } finally {
    await check.end().catch(() => undefined)
  }

  const pool = new Pool({ ...clientConfig, max: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS })
  // An idle connection that fails (server restart, admin kill) is an 'error' event: unhandled, it would end the process.
  pool.on('error', (error) =>
    options.log?.(`PostgreSQL store ${where}: an idle connection failed (${redacted(error.message)}); the pool opens a new one when needed.`),
  )
  return pool
}

function connectError(error: unknown, where: string, target: { user: string }, redacted: (text: string) => string): PostgresOpenError {
  const detail = redacted(error instanceof Error ? error.message : String(error))
  const code = (error as { code?: string } | null)?.code ?? ''
  const prefix = `Cannot open the PostgreSQL store ${where}`
  if (error instanceof DatabaseError) {
    // SQLSTATE classes 28 (invalid authorization) and 3D (invalid catalog name).
    if (code === '28P01' || code === '28000')
      return new PostgresOpenError(
        'credentials',
        `${prefix}: ${detail}. Check the user and give its password in the URL, PGPASSWORD or a pgpass file (PGPASSFILE or ~/.pgpass).`,
      )
    if (code === '3D000')
      return new PostgresOpenError('no_database', `${prefix}: ${detail}. Create it (CREATE DATABASE) or name an existing database in the URL.`)
    if (code === '57P03') return new PostgresOpenError('unreachable', `${prefix}: ${detail}. The server is starting or stopping; try again shortly.`)
    return new PostgresOpenError('other', `${prefix}: ${detail}.`)
  }
  if (/client password must be a string/.test(detail))
    return new PostgresOpenError(
      'no_password',
      `${prefix}: the server asks user "${target.user}" for a password and none was given. Put it in the URL, PGPASSWORD or a pgpass file (PGPASSFILE or ~/.pgpass).`,
    )
  if (UNREACHABLE_CODES.has(code) || /timeout|terminated/i.test(detail))
    return new PostgresOpenError('unreachable', `${prefix}: no PostgreSQL answers there (${detail}). Check that the server runs and the URL's host and port.`)
  return new PostgresOpenError('other', `${prefix}: ${detail}.`)
}

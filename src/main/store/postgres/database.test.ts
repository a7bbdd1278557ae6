/**
 * Opening the PostgreSQL store against the run's throwaway server: where the password
 * comes from, and the one-line messages for what goes wrong, none showing the password.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { escapeIdentifier, escapeLiteral } from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { asSuperuser, createTestDatabase, postgresSkipReason, withDatabase, type TestDatabase } from '../../../../test/helpers/postgres-test-database'
import { connectPostgres, openPostgres, PostgresOpenError, type PostgresPool } from './database'
import { postgresMigrations } from './migrations'

async function portNobodyListensOn(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** The error `work` fails with (the test fails if it does not). */
async function failure(work: () => Promise<unknown>): Promise<PostgresOpenError> {
  const error = await work().then(
    () => null,
    (thrown: unknown) => thrown,
  )
  expect(error).toBeInstanceOf(PostgresOpenError)
  return error as PostgresOpenError
}

describe.skipIf(postgresSkipReason)('opening the PostgreSQL store', () => {
  let database: TestDatabase
  // A role with a password holding URL-special characters, so decoding is part of every test that uses it.
  const role = `tw_role_${crypto.randomBytes(4).toString('hex')}`
  const password = `p@ss:w/rd ${crypto.randomBytes(9).toString('base64url')}`
  const pools: PostgresPool[] = []
  const savedEnvironment = { PGPASSWORD: process.env.PGPASSWORD, PGPASSFILE: process.env.PGPASSFILE }
  const tempDirs: string[] = []
  const warnings: string[] = []
  const onWarning = (warning: Error) => warnings.push(warning.message)

  const roleUrl = (withPassword: string | undefined) => withDatabase(database.url, database.name, { user: role, password: withPassword })
  const connect = async (url: string, options: Parameters<typeof connectPostgres>[1] = {}) => {
    const pool = await connectPostgres(url, { connectTimeoutMs: 5_000, ...options })
    pools.push(pool)
    return pool
  }
  const expectNoPassword = (text: string) => {
    expect(text).not.toContain(password)
    expect(text).not.toContain(encodeURIComponent(password))
  }

  beforeAll(async () => {
    database = await createTestDatabase()
    await asSuperuser(async (client) => {
      await client.query(`CREATE ROLE ${escapeIdentifier(role)} LOGIN PASSWORD ${escapeLiteral(password)}`)
      // The database's owner may create tables in its public schema (PostgreSQL 15 lets no one else).
      await client.query(`ALTER DATABASE ${escapeIdentifier(database.name)} OWNER TO ${escapeIdentifier(role)}`)
    })
    process.on('warning', onWarning)
  })
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.end()))
    for (const [name, value] of Object.entries(savedEnvironment)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
  })
  afterAll(async () => {
    process.off('warning', onWarning)
    await database?.drop()
    await asSuperuser((client) => client.query(`DROP ROLE IF EXISTS ${escapeIdentifier(role)}`))
  })

  it('connects with the password in the URL and reads BIGINT as a number', async () => {
    const pool = await connect(roleUrl(password))
    const { rows } = await pool.query<{ user: string; big: number; numeric: string }>(
      'SELECT current_user AS user, 9007199254740991::bigint AS big, 1.5::numeric AS numeric',
    )
    expect(rows[0]).toEqual({ user: role, big: Number.MAX_SAFE_INTEGER, numeric: '1.5' })
    await expect(pool.query('SELECT 9007199254740992::bigint')).rejects.toThrow(/beyond the integers JavaScript holds exactly/)
  })

  it('takes the password from PGPASSWORD when the URL has none', async () => {
    process.env.PGPASSWORD = password
    const pool = await connect(roleUrl(undefined))
    expect((await pool.query<{ user: string }>('SELECT current_user AS user')).rows[0]?.user).toBe(role)
  })

  it('takes the password from a pgpass file (PGPASSFILE) when neither the URL nor PGPASSWORD has one, without pg’s deprecation warning', async () => {
    delete process.env.PGPASSWORD
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-pgpass-'))
    tempDirs.push(dir)
    const file = path.join(dir, 'pgpass')
    const { hostname, port } = new URL(database.url)
    // pgpass escapes ':' and '\' in its fields.
    fs.writeFileSync(file, `${hostname}:${port}:${database.name}:${role}:${password.replace(/[\\:]/g, '\\$&')}\n`, { mode: 0o600 })
    process.env.PGPASSFILE = file
    const pool = await connect(roleUrl(undefined))
    expect((await pool.query<{ user: string }>('SELECT current_user AS user')).rows[0]?.user).toBe(role)
    expect(warnings.filter((warning) => /pgpass/i.test(warning))).toEqual([])
  })

  it('explains a wrong password without showing either password', async () => {
    const wrong = `${password}-wrong`
    const error = await failure(() => connect(roleUrl(wrong)))
    expect(error.problem).toBe('credentials')
    expect(error.message).toContain(`password authentication failed for user "${role}"`)
    expect(error.message).toContain('PGPASSWORD or a pgpass file')
    expect(error.message).not.toContain(wrong)
    expect(error.message).not.toContain(encodeURIComponent(wrong))
    expectNoPassword(error.message)
    expect(error.message.split('\n')).toHaveLength(1)
  })

  it('explains a wrong password from PGPASSWORD without showing it', async () => {
    process.env.PGPASSWORD = `${password}-env`
    const error = await failure(() => connect(roleUrl(undefined)))
    expect(error.problem).toBe('credentials')
    expect(error.message).not.toContain(process.env.PGPASSWORD)
  })

  it('explains that no password was given when the server asks for one', async () => {
    delete process.env.PGPASSWORD
    process.env.PGPASSFILE = path.join(os.tmpdir(), `tw-no-pgpass-${crypto.randomBytes(4).toString('hex')}`)
    const own = await createTestDatabase()
    const error = await failure(() => connect(withDatabase(own.url, own.name, { user: role })))
    expect(error.problem).toBe('no_password')
    expect(error.message).toContain(`asks user "${role}" for a password and none was given`)
    // The attempt's socket is closed, not left for the server to wait on (it would hold the database until authentication_timeout, 60 s).
    await asSuperuser(async (client) => {
      await client.query("SET statement_timeout = '10s'")
      await client.query(`DROP DATABASE ${escapeIdentifier(own.name)} WITH (FORCE)`)
    })
  })

  it('explains a database that does not exist', async () => {
    const url = withDatabase(database.url, 'tidewatch_nowhere', { user: role, password })
    const error = await failure(() => connect(url))
    expect(error.problem).toBe('no_database')
    expect(error.message).toContain('database "tidewatch_nowhere" does not exist')
    expect(error.message).toContain(`postgres://${role}:***@`)
    expectNoPassword(error.message)
  })

  it('explains a port where no server listens', async () => {
    const url = new URL(roleUrl(password))
    url.port = String(await portNobodyListensOn())
    const error = await failure(() => connect(url.href))
    expect(error.problem).toBe('unreachable')
    expect(error.message).toMatch(/no PostgreSQL answers there \(.*ECONNREFUSED.*\)\. Check that the server runs/)
    expect(error.message).toContain(`127.0.0.1:${url.port}/${database.name}`)
    expectNoPassword(error.message)
  })

  it('explains a server that accepts the connection and never answers, after the connect timeout', async () => {
    const sockets = new Set<net.Socket>()
    const silent = net.createServer((socket) => sockets.add(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()))
    try {
      const url = new URL(roleUrl(password))
      url.port = String((silent.address() as net.AddressInfo).port)
      const error = await failure(() => connect(url.href, { connectTimeoutMs: 300 }))
      expect(error.problem).toBe('unreachable')
      expect(error.message).toContain('no PostgreSQL answers there (timeout expired)')
      expectNoPassword(error.message)
    } finally {
      sockets.forEach((socket) => socket.destroy())
      await new Promise<void>((resolve) => silent.close(() => resolve()))
    }
  })

  it('explains a URL that is not a PostgreSQL URL', async () => {
    const notUrl = await failure(() => connect(`postgres//${role}:${password}@localhost/db`))
    expect(notUrl.problem).toBe('bad_url')
    expect(notUrl.message).toBe('The PostgreSQL store URL is not a URL; expected postgres://user@host:port/database')
    const otherScheme = await failure(() => connect(`mysql://${role}:${encodeURIComponent(password)}@localhost/db`))
    expect(otherScheme.problem).toBe('bad_url')
    expect(otherScheme.message).toContain('is not a PostgreSQL URL')
    expectNoPassword(otherScheme.message)
  })

  it('reports an idle connection the server ends, without the password, and carries on with a new one', async () => {
    const logged: string[] = []
    let reported!: () => void
    const report = new Promise<void>((resolve) => (reported = resolve))
    const pool = await connect(roleUrl(password), {
      log: (message) => {
        logged.push(message)
        reported()
      },
    })
    const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
    await asSuperuser((client) => client.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]))
    await report
    expect(logged[0]).toMatch(
      /^PostgreSQL store postgres:\/\/tw_role_\w+:\*\*\*@127\.0\.0\.1:\d+\/tidewatch_test_\w+: an idle connection failed \(.+\); the pool opens a new one/,
    )
    expectNoPassword(logged.join('\n'))
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1)
  })

  it('opens a new store at the newest version and refuses one migrated by a newer Tidewatch', async () => {
    const pool = await openPostgres(roleUrl(password))
    pools.push(pool)
    expect((await pool.query<{ version: number }>('SELECT max(version) AS version FROM schema_migrations')).rows[0]?.version).toBe(
      postgresMigrations.at(-1)!.version,
    )
    await pool.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 0)")
    const error = await failure(() => openPostgres(roleUrl(password)))
    expect(error.problem).toBe('schema_too_new')
    expect(error.message).toContain(`schema version 99, newer than this Tidewatch knows (${postgresMigrations.at(-1)!.version})`)
    expectNoPassword(error.message)
  })
})

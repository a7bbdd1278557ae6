/**
 * A throwaway PostgreSQL server for tests: `initdb` into a temp dir, `pg_ctl start` on a
 * free loopback port with its socket in that dir, stopped and removed at the end. Runs the
 * server as the `postgres` user when started as root (initdb and pg_ctl refuse root), as the
 * current user otherwise. Finds the binaries on PATH or where Debian's `postgresql` package
 * puts them (/usr/lib/postgresql/<version>/bin, not on PATH).
 *
 * The server is for tests only: no fsync, and a superuser `postgres` whose random password
 * is in `url` (TCP connections need a password, so the password tests meet real
 * authentication).
 */
import { execFile, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface ThrowawayPostgres {
  /** The superuser's URL (password included) to the `postgres` database. */
  url: string
  port: number
  /** e.g. "15.18" */
  version: string
  /** Stops the server and removes its dir; safe to call twice. */
  stop(): Promise<void>
}

/** PostgreSQL cannot be started here; the message says why, in one line. */
export class PostgresUnavailable extends Error {
  override name = 'PostgresUnavailable'
}

const DEBIAN_VERSIONS_DIR = '/usr/lib/postgresql'

/** The directory holding initdb, pg_ctl and postgres: PATH first, then the newest Debian version. */
export function findPostgresBinaries(): string | null {
  const candidates = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)
  if (fs.existsSync(DEBIAN_VERSIONS_DIR)) {
    const versions = fs
      .readdirSync(DEBIAN_VERSIONS_DIR)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a))
    candidates.push(...versions.map((version) => path.join(DEBIAN_VERSIONS_DIR, version, 'bin')))
  }
  return candidates.find((dir) => ['initdb', 'pg_ctl', 'postgres'].every((name) => isExecutable(path.join(dir, name)))) ?? null
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

interface RunAs {
  /** Prefix that runs a command as the server's owner. */
  command: (bin: string, args: string[]) => [string, string[]]
  uid: number
  gid: number
}

function serverOwner(): RunAs {
  if (process.getuid?.() !== 0) return { command: (bin, args) => [bin, args], uid: -1, gid: -1 }
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' })
  const uid = id('-u')
  const gid = id('-g')
  if (uid.status !== 0 || gid.status !== 0) throw new PostgresUnavailable('running as root and there is no postgres user to run initdb and pg_ctl as')
  return { command: (bin, args) => ['runuser', ['-u', 'postgres', '--', bin, ...args]], uid: Number(uid.stdout), gid: Number(gid.stdout) }
}

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** The last non-empty line of a command's failure or of the server log, for a one-line reason. */
function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .at(-1) ?? ''
  )
}

function failureText(error: unknown): string {
  const { stderr, stdout, message } = error as { stderr?: string; stdout?: string; message?: string }
  return lastLine(stderr || stdout || message || String(error))
}

/** How many ports to try when another process takes the free port between choosing and binding it. */
const PORT_ATTEMPTS = 3

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const bin = findPostgresBinaries()
  if (!bin) throw new PostgresUnavailable(`no initdb, pg_ctl and postgres on PATH or in ${DEBIAN_VERSIONS_DIR}/*/bin (install Debian's postgresql package)`)
  const owner = serverOwner()
  const exec = (name: string, args: string[], timeout = 60_000) => {
    const [command, commandArgs] = owner.command(path.join(bin, name), args)
    return run(command, commandArgs, { encoding: 'utf8', timeout })
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewatch-pg-'))
  const data = path.join(dir, 'data')
  const logFile = path.join(dir, 'server.log')
  let started = false
  const stopNow = () => {
    if (started) {
      const [command, args] = owner.command(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'])
      spawnSync(command, args, { stdio: 'ignore', timeout: 30_000 })
      started = false
    }
    fs.rmSync(dir, { recursive: true, force: true })
  }
  // If the test run dies without its teardown, the server (a daemon pg_ctl detached) must not outlive it.
  process.once('exit', stopNow)
  const fail = (reason: string): never => {
    stopNow()
    process.removeListener('exit', stopNow)
    throw new PostgresUnavailable(reason)
  }

  if (owner.uid >= 0) fs.chownSync(dir, owner.uid, owner.gid)
  const password = crypto.randomBytes(18).toString('base64url')
  const passwordFile = path.join(dir, 'superuser-password')
  fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 })
  if (owner.uid >= 0) fs.chownSync(passwordFile, owner.uid, owner.gid)

  let version = ''
  try {
    version = /\d+(\.\d+)+/.exec((await exec('postgres', ['--version'])).stdout)?.[0] ?? 'of unknown version'
    await exec('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      `--pwfile=${passwordFile}`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ])
  } catch (error) {
    return fail(`initdb failed: ${failureText(error)}`)
  }

  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`
    try {
      started = true
      await exec('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', '-o', serverOptions, 'start'], 90_000)
    } catch (error) {
      const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''
      if (/could not bind|address already in use/i.test(log) && attempt < PORT_ATTEMPTS) {
        fs.rmSync(logFile, { force: true })
        continue
      }
      return fail(`pg_ctl start failed: ${lastLine(log) || failureText(error)}`)
    }
    let stopped = false
    return {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      port,
      version,
      async stop() {
        if (stopped) return
        stopped = true
        process.removeListener('exit', stopNow)
        try {
          await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'])
          started = false
        } finally {
          stopNow()
        }
      },
    }
  }
}

/**
 * Opens the SQLite store: WAL journal, foreign keys, pending migrations applied in one
 * transaction each. Failures carry the file path and what to do about it. A damaged file
 * can be moved aside (never overwritten) for a fresh store, when the caller asks.
 */
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { makeFilePrivate, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../private-files'
import { migrations as defaultMigrations, type Migration } from './migrations'
import { traceStart } from '../start-trace'

export type Db = Database.Database

/** How long a connection waits for another one's write lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000

/**
 * The -wal file is cut back to this size when a checkpoint resets it. Without a limit it
 * keeps the size of the biggest burst it ever held (a catch-up, a history request, a readers'
 * snapshot that held checkpoints back) for as long as the store is open, on top of the store.
 */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024

/** Every connection to the store file, the main one and the writer thread's, runs with these. */
export const CONNECTION_PRAGMAS: readonly string[] = [
  `busy_timeout = ${BUSY_TIMEOUT_MS}`,
  // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
  'synchronous = NORMAL',
  'foreign_keys = ON',
  `journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`,
]

/**
 * Runs a main-connection write at a moment no other connection writes (EventStore's
 * writer thread): see EventStore.exclusive. The identity gate runs it straight away.
 */
export type WriteGate = <T>(write: () => T) => T

/**
 * Statements prepared once per SQL text, for stores on a hot path: preparing per call costs
 * parsing each time, and each native statement lives until V8 collects its small wrapper,
 * which it does not hurry to do (RSS grows in between). Not for statements that are
 * iterated or switched to pluck/raw, which a second user of the same text would disturb.
 */
export function preparedOnce(db: Db): (sql: string) => Database.Statement {
  const statements = new Map<string, Database.Statement>()
  return (sql) => {
    let statement = statements.get(sql)
    if (!statement) {
      statement = db.prepare(sql)
      statements.set(sql, statement)
    }
    return statement
  }
}
export const ungated: WriteGate = (write) => write()

export interface OpenDatabaseOptions {
  /** Path of a better-sqlite3 native addon built for another ABI (the Electron copy). */
  nativeBinding?: string
  migrations?: readonly Migration[]
  /**
   * A file SQLite reports as damaged or not a database is renamed to
   * `<file>.corrupt-<timestamp>` (with its -wal and -shm) and a fresh store is created;
   * called with the new name. Without it such a file is left untouched and opening fails.
   */
  onDamagedMovedAside?: (movedTo: string, reason: string) => void
}

export type StoreOpenProblem = 'locked' | 'damaged' | 'full' | 'read_only' | 'cannot_open' | 'other'

export class StoreOpenError extends Error {
  readonly problem: StoreOpenProblem
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    const detail = cause instanceof Error ? cause.message : String(cause)
    const code = (cause as { code?: string } | null)?.code ?? ''
    const problem = openProblem(code, detail)
    const advice: Record<StoreOpenProblem, string> = {
      locked: ' Another Tidewatch may be using this data directory; close it or pick another --data-dir.',
      damaged: ' The file is damaged or is not a Tidewatch database; move it aside to start a fresh store (nothing else is changed).',
      full: ' The disk is full; free some space and start again.',
      read_only: ` The data directory ${path.dirname(file)} or the file is read-only; make both writable or pick another --data-dir.`,
      cannot_open: ' Check that the directory exists and is writable.',
      other: '',
    }
    super(`Cannot open the Tidewatch store ${file}: ${detail}.${advice[problem]}`)
    this.name = 'StoreOpenError'
    this.problem = problem
  }
}

function openProblem(code: string, detail: string): StoreOpenProblem {
  if (code.startsWith('SQLITE_BUSY') || /locked/i.test(detail)) return 'locked'
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT') || /not a database|malformed/i.test(detail)) return 'damaged'
  if (code.startsWith('SQLITE_FULL') || code === 'ENOSPC' || /disk is full/i.test(detail)) return 'full'
  if (code.startsWith('SQLITE_READONLY') || code === 'EACCES' || code === 'EROFS' || code === 'EPERM' || /readonly/i.test(detail)) return 'read_only'
  if (code.startsWith('SQLITE_CANTOPEN') || /unable to open/i.test(detail)) return 'cannot_open'
  return 'other'
}

export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Db {
  try {
    return openOnce(file, options)
  } catch (error) {
    if (!(error instanceof StoreOpenError) || error.problem !== 'damaged' || !options.onDamagedMovedAside || file === ':memory:') throw error
    const movedTo = moveAside(file)
    options.onDamagedMovedAside(movedTo, error.message)
    return openOnce(file, options)
  }
}

/**
 * Renames a damaged store and its WAL companions to `<file>.corrupt-<UTC timestamp>`
 * (`-2`, `-3`… if taken): kept for whoever wants to recover it, never overwritten.
 */
function moveAside(file: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  let target = `${file}.corrupt-${stamp}`
  for (let n = 2; fs.existsSync(target); n++) target = `${file}.corrupt-${stamp}-${n}`
  fs.renameSync(file, target)
  for (const suffix of ['-wal', '-shm']) {
    // The WAL belongs to the damaged file: replayed into a fresh store it would corrupt that too.
    if (fs.existsSync(file + suffix)) fs.renameSync(file + suffix, target + suffix)
  }
  return target
}

function openOnce(file: string, options: OpenDatabaseOptions): Db {
  let db: Db | undefined
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE })
    createPrivately(file)
    traceStart('database: opening')
    db = new Database(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {})
    db.pragma('journal_mode = WAL')
    for (const pragma of CONNECTION_PRAGMAS) db.pragma(pragma)
    applyMigrations(db, options.migrations ?? defaultMigrations)
    traceStart('database: opened, migrations checked')
    return db
  } catch (error) {
    db?.close()
    throw new StoreOpenError(file, error)
  }
}

/**
 * SQLite creates a database with mode 0644 and gives its -wal and -shm files the mode of
 * the database file: creating the file empty with 0600 first (SQLite takes an empty file
 * for a new database) keeps all three private. Copies from before are tightened.
 */
function createPrivately(file: string): void {
  // In-memory and temporary databases have no file.
  if (file === ':memory:' || file === '') return
  fs.closeSync(fs.openSync(file, 'a', PRIVATE_FILE_MODE))
  for (const part of [file, `${file}-wal`, `${file}-shm`]) makeFilePrivate(part)
}

export function applyMigrations(db: Db, migrations: readonly Migration[]): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`)
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((row) => row.version))
  const ran: number[] = []
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(migration.version)) continue
    db.transaction(() => {
      db.exec(migration.sql)
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, Date.now())
    })()
    ran.push(migration.version)
  }
  return ran
}

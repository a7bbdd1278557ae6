/**
 * Opens the SQLite store: WAL journal, foreign keys, pending migrations applied in one
 * transaction each. Failures carry the file path and what to do about it.
 */
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { makeFilePrivate, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../private-files'
import { migrations as defaultMigrations, type Migration } from './migrations'

export type Db = Database.Database

/**
 * Runs a main-connection write at a moment no other connection writes (EventStore's
 * writer thread): see EventStore.exclusive. The identity gate runs it straight away.
 */
export type WriteGate = <T>(write: () => T) => T
export const ungated: WriteGate = (write) => write()

export interface OpenDatabaseOptions {
  /** Path of a better-sqlite3 native addon built for another ABI (the Electron copy). */
  nativeBinding?: string
  migrations?: readonly Migration[]
}

export class StoreOpenError extends Error {
  constructor(readonly file: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause)
    const code = (cause as { code?: string } | null)?.code ?? ''
    let advice = ''
    if (code === 'SQLITE_BUSY' || /locked/i.test(detail)) advice = ' Another Tidewatch may be using this data directory; close it or pick another --data-dir.'
    else if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || /not a database|malformed/i.test(detail))
      advice = ' The file is damaged or is not a Tidewatch database; move it aside to start a fresh store (nothing else is changed).'
    else if (code === 'SQLITE_FULL' || /disk is full/i.test(detail)) advice = ' The disk is full; free some space and start again.'
    else if (code === 'SQLITE_CANTOPEN' || /unable to open/i.test(detail)) advice = ' Check that the directory exists and is writable.'
    super(`Cannot open the Tidewatch store ${file}: ${detail}.${advice}`)
    this.name = 'StoreOpenError'
  }
}

export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Db {
  let db: Db | undefined
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE })
    createPrivately(file)
    db = new Database(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {})
    db.pragma('busy_timeout = 5000')
    db.pragma('journal_mode = WAL')
    // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    applyMigrations(db, options.migrations ?? defaultMigrations)
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
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((row) => row.version),
  )
  const ran: number[] = []
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(migration.version)) continue
    db.transaction(() => {
      db.exec(migration.sql)
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      )
    })()
    ran.push(migration.version)
  }
  return ran
}

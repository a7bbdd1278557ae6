/**
 * Issue #10, storage faults, with real SQLite files and the whole engine: a store locked
 * by another process, a full disk, a damaged file at start. Each is said once (log and
 * the contract's storage.status), loses nothing, and capture resumes by itself once the
 * cause is gone. The read-only data directory is in test/storage-read-only.test.ts
 * (it needs the built `tidewatch serve`).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeProvider, type FakeProvider } from '../../../test/helpers/fake-provider'
import { waitFor } from '../../../test/helpers/scripted-server'
import type { StorageStatus } from '../../shared/contract'
import { subscriptionSpecSchema } from '../../shared/subscription-params'
import { createApi } from '../api/api'
import { DATABASE_FILE, Engine } from '../engine/engine'
import { openDatabase } from './database'
import { EventStore } from './event-store'
import { createKeyFileSecretBox } from './secret-box'
import { classifyStorageError, RETRY_INITIAL_MS } from './storage-health'

const TRANSFER = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
const TOKEN = '0x5fbdb2315678afecb367f032d93f642f64180aa3'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-storage-'))
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

interface Running {
  provider: FakeProvider
  engine: Engine
  dataDir: string
  file: string
  lines: string[]
  /** Every storage.status the contract published, as the UI receives them. */
  published: StorageStatus[]
}

async function startEngine(options: { maxHeldWrites?: number; dataDir?: string } = {}): Promise<Running> {
  const provider = await startFakeProvider()
  const dataDir = options.dataDir ?? tempDir()
  const lines: string[] = []
  const engine = new Engine({
    dataDir,
    secrets: createKeyFileSecretBox(dataDir),
    backoff: { initialMs: 20, maxMs: 50 },
    log: (line) => lines.push(line),
    ...(options.maxHeldWrites !== undefined ? { maxHeldWrites: options.maxHeldWrites } : {}),
  })
  const published: StorageStatus[] = []
  const api = createApi(engine, { version: 'test', transport: 'websocket', dataDir }, () => undefined, {
    localApi: () => null,
    exportDestination: async () => null,
  })
  api.onEvent((name, payload) => {
    if (name === 'storage.status') published.push(payload as StorageStatus)
  })
  cleanups.push(async () => {
    await engine.close()
    await provider.close()
  })
  return { provider, engine, dataDir, file: path.join(dataDir, DATABASE_FILE), lines, published }
}

/** A logs watch over every log of the chain, from the next block; resolves once it runs. */
async function watchLogs({ engine, provider }: Running): Promise<void> {
  const { id: connectionId } = engine.connections.add({ url: provider.url })
  engine.subscriptions.create({ connectionId, spec: subscriptionSpecSchema.parse({ type: 'logs', params: {} }) })
  await waitFor('the watch to run', () => engine.subscriptions.list().every((s) => s.state === 'active'))
}

let minted = 0
const mineTransfers = (provider: FakeProvider, count: number): void => {
  provider.mine(
    Array.from({ length: count }, () => ({
      address: TOKEN,
      topics: [TRANSFER, `0x${'0'.repeat(24)}${(++minted).toString(16).padStart(40, '0')}`, `0x${'0'.repeat(64)}`],
      data: `0x${minted.toString(16).padStart(64, '0')}`,
    })),
  )
}

/** Every log of the provider's chain, as block hash and index. */
const chainLogs = (provider: FakeProvider): string[] =>
  provider.chain.flatMap(({ logs }) => logs.map((log) => `${String(log.blockHash)}:${Number(log.logIndex)}`)).sort()

/** The log rows in the store, read through a connection of their own. */
function storedLogs(file: string): string[] {
  const db = new Database(file, { readonly: true })
  try {
    return (db.prepare("SELECT block_hash || ':' || log_index AS key FROM events WHERE kind = 'log' AND removed = 0").pluck().all() as string[]).sort()
  } finally {
    db.close()
  }
}

const storageLines = (lines: string[]): string[] => lines.filter((line) => /storage|locked|full/i.test(line))

describe('storage faults', () => {
  it('classifies SQLite and file-system errors by fault', () => {
    const error = (code: string, message = 'x') => Object.assign(new Error(message), { code })
    expect(classifyStorageError(error('SQLITE_BUSY', 'database is locked'))).toBe('locked')
    expect(classifyStorageError(error('SQLITE_FULL', 'database or disk is full'))).toBe('full')
    expect(classifyStorageError(error('SQLITE_CONSTRAINT_TRIGGER', 'database or disk is full'))).toBe('full')
    expect(classifyStorageError(error('SQLITE_READONLY', 'attempt to write a readonly database'))).toBe('read_only')
    expect(classifyStorageError(error('SQLITE_NOTADB', 'file is not a database'))).toBe('corrupt')
    expect(classifyStorageError(error('SQLITE_CONSTRAINT_UNIQUE', 'UNIQUE constraint failed'))).toBe(null)
  })

  it('a store locked by another process: said once, everything held, capture resumes when the lock goes', { timeout: 90_000 }, async () => {
    const running = await startEngine()
    const { provider, engine, file, lines, published } = running
    await watchLogs(running)
    mineTransfers(provider, 3)
    await waitFor('the first logs stored', () => storedLogs(file).length === 3)

    // Another program takes the write lock and keeps it (an SQLite browser with a transaction open).
    const other = new Database(file)
    other.pragma('busy_timeout = 0')
    other.exec('BEGIN EXCLUSIVE')
    cleanups.push(() => {
      if (other.inTransaction) other.exec('ROLLBACK')
      other.close()
    })
    for (let i = 0; i < 4; i++) mineTransfers(provider, 2)
    await waitFor('the fault reported', () => engine.storage.current.fault === 'locked', 30_000)
    // Let the retries fail a few times: the message must still be one.
    await waitFor('three failed attempts', () => engine.storage.current.failedAttempts >= 3, 60_000)
    mineTransfers(provider, 2)
    expect(storageLines(lines).filter((line) => /locked/.test(line))).toHaveLength(1)
    expect(storageLines(lines)[0]).toMatch(new RegExp(`storage: the store ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is locked by another process`))
    const faultMessages = new Set(published.filter((s) => s.state !== 'ok').map((s) => s.message))
    expect(faultMessages.size).toBe(1)
    expect(engine.storage.current).toMatchObject({ state: 'retrying', fault: 'locked' })
    expect(engine.storage.current.pendingWrites).toBeGreaterThan(0)
    expect(storedLogs(file)).toHaveLength(3)

    other.exec('ROLLBACK')
    await waitFor('storage ok again', () => engine.storage.current.state === 'ok', 30_000)
    await waitFor('every log stored', () => storedLogs(file).length === chainLogs(provider).length, 30_000)
    expect(storedLogs(file)).toEqual(chainLogs(provider))
    expect(published.at(-1)).toMatchObject({ state: 'ok', fault: null })
    expect(lines.filter((line) => /storage: writing again after/.test(line))).toHaveLength(1)
    // Capture goes on as before.
    mineTransfers(provider, 2)
    await waitFor('a new block stored', () => storedLogs(file).length === chainLogs(provider).length)
    expect(storedLogs(file)).toEqual(chainLogs(provider))
  })

  it('a full disk: said once, writes held and retried, nothing lost once space is free', { timeout: 60_000 }, async () => {
    const running = await startEngine()
    const { provider, engine, file, lines, published } = running
    await watchLogs(running)
    mineTransfers(provider, 2)
    await waitFor('the first logs stored', () => storedLogs(file).length === 2)

    // No tmpfs to fill here: a trigger makes every insert into events fail as SQLite does on a full disk.
    const other = new Database(file)
    cleanups.push(() => {
      other.close()
    })
    other.exec(`CREATE TABLE fill_disk (on_purpose INTEGER); INSERT INTO fill_disk VALUES (1);
      CREATE TRIGGER events_full BEFORE INSERT ON events WHEN (SELECT COUNT(*) FROM fill_disk) > 0
      BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;`)
    for (let i = 0; i < 3; i++) mineTransfers(provider, 3)
    await waitFor('four failed attempts', () => engine.storage.current.failedAttempts >= 4, 30_000)
    const failures = published.filter((s) => s.fault === 'full')
    expect(storageLines(lines).filter((line) => /full/.test(line))).toHaveLength(1)
    expect(storageLines(lines)[0]).toMatch(/storage: the disk holding .*tidewatch\.sqlite is full/)
    expect(new Set(failures.map((s) => s.message)).size).toBe(1)
    expect(engine.storage.current.pendingWrites).toBeGreaterThanOrEqual(9)

    other.exec('DELETE FROM fill_disk')
    await waitFor('storage ok again', () => engine.storage.current.state === 'ok', 30_000)
    await waitFor('every log stored', () => storedLogs(file).length === chainLogs(provider).length, 15_000)
    expect(storedLogs(file)).toEqual(chainLogs(provider))
    expect(chainLogs(provider)).toHaveLength(11)
  })

  it('writes held in memory are bounded: capture pauses with one message and resumes from the cursors, missing nothing', { timeout: 60_000 }, async () => {
    const running = await startEngine({ maxHeldWrites: 20 })
    const { provider, engine, file, lines } = running
    await watchLogs(running)
    const other = new Database(file)
    cleanups.push(() => {
      other.close()
    })
    other.exec(`CREATE TABLE fill_disk (on_purpose INTEGER); INSERT INTO fill_disk VALUES (1);
      CREATE TRIGGER events_full BEFORE INSERT ON events WHEN (SELECT COUNT(*) FROM fill_disk) > 0
      BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;`)
    for (let i = 0; i < 5; i++) mineTransfers(provider, 6)
    await waitFor('capture paused', () => engine.storage.current.capturePaused, 30_000)
    expect(engine.storage.current.state).toBe('capture_paused')
    expect(lines.filter((line) => /capture is paused/.test(line))).toHaveLength(1)
    // Stopped: once the watch has stopped, blocks mined are not taken into memory (they stay
    // on the chain, for the watch to fetch from its cursor later).
    // Heads go to their own table, which takes writes: wait until the newest one is stored
    // with its transaction count and the count held is the same two polls running, so what
    // is held is the events' queue alone.
    let previous = -1
    const headStored = () =>
      waitFor('the newest head stored', async () => {
        const [newest] = await engine.connections.listHeads({ limit: 1 })
        const held = engine.storage.current.pendingWrites
        const steady = held === previous
        previous = held
        return newest?.number === provider.chain.length - 1 && newest.txCount !== null && steady
      })
    for (let i = 0; i < 3; i++) mineTransfers(provider, 6)
    await headStored()
    const held = engine.storage.current.pendingWrites
    expect(held).toBeGreaterThanOrEqual(20)
    for (let i = 0; i < 5; i++) mineTransfers(provider, 6)
    await headStored()
    // Five more blocks of six logs would have added 35 writes (logs and cursors).
    expect(engine.storage.current.pendingWrites).toBe(held)
    expect(engine.subscriptions.list()[0]!.state).toBe('paused')

    other.exec('DELETE FROM fill_disk')
    await waitFor('storage ok again', () => engine.storage.current.state === 'ok' && !engine.storage.current.capturePaused, 30_000)
    await waitFor('every log stored', () => storedLogs(file).length === chainLogs(provider).length, 30_000)
    expect(storedLogs(file)).toEqual(chainLogs(provider))
    expect(chainLogs(provider)).toHaveLength(78)
    expect(lines.filter((line) => /capture resumes/.test(line))).toHaveLength(1)
  })

  it('a damaged store at start is moved aside with its name said, never overwritten, and a fresh store is created', async () => {
    const dataDir = tempDir()
    const file = path.join(dataDir, DATABASE_FILE)
    const first = await startEngine({ dataDir })
    first.engine.connections.add({ url: 'ws://127.0.0.1:9/', name: 'before the damage' })
    await first.engine.close()
    // Garbage over the header: SQLite no longer recognises the file.
    const handle = fs.openSync(file, 'r+')
    fs.writeSync(handle, Buffer.from('this is not an SQLite header, just garbage!'.repeat(4)), 0, 172, 0)
    fs.closeSync(handle)
    const damaged = fs.readFileSync(file)

    const second = await startEngine({ dataDir })
    const moved = fs.readdirSync(dataDir).filter((name) => name.startsWith(`${DATABASE_FILE}.corrupt-`) && !/-(wal|shm)$/.test(name))
    expect(moved).toHaveLength(1)
    const movedPath = path.join(dataDir, moved[0]!)
    expect(fs.readFileSync(movedPath).equals(damaged)).toBe(true)
    expect(second.engine.storage.current.notice).toContain(movedPath)
    expect(second.lines.filter((line) => line.includes(movedPath))).toHaveLength(1)
    expect(second.engine.connections.list()).toEqual([])
    second.engine.connections.add({ url: 'ws://127.0.0.1:9/', name: 'after' })
    expect(second.engine.connections.list().map((c) => c.name)).toEqual(['after'])
    await second.engine.close()

    // Damaged again: a second copy beside the first, which stays as it was.
    fs.writeFileSync(file, 'garbage again '.repeat(50))
    const third = await startEngine({ dataDir })
    const copies = fs.readdirSync(dataDir).filter((name) => name.startsWith(`${DATABASE_FILE}.corrupt-`) && !/-(wal|shm)$/.test(name))
    expect(copies).toHaveLength(2)
    expect(fs.readFileSync(movedPath).equals(damaged)).toBe(true)
    expect(third.engine.connections.list()).toEqual([])
  })

  it('a failed batch is retried on a timer that backs off, not every second', async () => {
    const dir = tempDir()
    const db = openDatabase(path.join(dir, 'store.db'))
    const retries: number[] = []
    const store = new EventStore(db, { flushIntervalMs: 5, onError: (_error, retry) => retries.push(retry.retryInMs) })
    cleanups.push(() => {
      store.close()
      db.close()
    })
    db.exec(`CREATE TRIGGER events_full BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;`)
    store.enqueue(1, 1, {
      kind: 'pending_transaction',
      blockNumber: null,
      blockHash: null,
      transactionHash: '0x01',
      transactionIndex: null,
      logIndex: null,
      address: null,
      topics: [],
      data: null,
      removed: false,
      payload: { hash: '0x01' },
    })
    await waitFor('four retries', () => retries.length >= 4, 10_000)
    retries.slice(0, 4).forEach((delay, attempt) => {
      const ceiling = RETRY_INITIAL_MS * 2 ** attempt
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2)
      expect(delay).toBeLessThanOrEqual(ceiling)
    })
    db.exec('DROP TRIGGER events_full')
    await waitFor('stored', () => store.pendingCount === 0, 10_000)
  })
})

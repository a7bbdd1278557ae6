import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionStore } from './connection-store'
import { applyMigrations, openDatabase, StoreOpenError } from './database'
import { HeadStore, type HeadsCommitted, type NewHead } from './head-store'
import { migrations } from './migrations'
import { redactSecretsIn, redactUrl } from '../redact-url'
import { createKeyFileSecretBox } from './secret-box'

const dirs: string[] = []
const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-store-'))
  dirs.push(dir)
  return dir
}
afterEach(() => dirs.splice(0).forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })))

const head = (n: number, connectionId = 1): NewHead => ({
  connectionId,
  number: n,
  hash: `0x${n.toString(16).padStart(64, '0')}`,
  parentHash: `0x${(n - 1).toString(16).padStart(64, '0')}`,
  timestamp: 1_700_000_000 + n * 12,
  gasUsed: '21000',
  gasLimit: '30000000',
  baseFeePerGas: '7',
  txCount: null,
  receivedAt: Date.now(),
})

describe('database', () => {
  it('applies migrations once, in WAL mode, and records them', () => {
    const file = path.join(tempDir(), 'db.sqlite')
    const db = openDatabase(file)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    const recorded = db.prepare('SELECT version, name FROM schema_migrations').all()
    // Every migration, in order, numbered 1..N without a gap.
    expect(recorded).toEqual(migrations.map(({ version, name }) => ({ version, name })))
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1))
    expect(recorded.slice(0, 3)).toEqual([
      { version: 1, name: 'connections and heads' },
      { version: 2, name: 'subscriptions and captured events' },
      { version: 3, name: 'canonical chain tracker' },
    ])
    expect(applyMigrations(db, [{ version: 1, name: 'connections and heads', sql: 'SELECT 1' }])).toEqual([])
    db.close()
  })

  it('rolls back a failing migration entirely', () => {
    const db = openDatabase(path.join(tempDir(), 'db.sqlite'))
    expect(() => applyMigrations(db, [{ version: 99, name: 'broken', sql: 'CREATE TABLE half (x); INSERT INTO missing VALUES (1);' }])).toThrow()
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined()
    expect(db.prepare('SELECT version FROM schema_migrations WHERE version = 99').get()).toBeUndefined()
    db.close()
  })

  it('explains a file that is not a database and leaves it untouched', () => {
    const file = path.join(tempDir(), 'db.sqlite')
    fs.writeFileSync(file, 'definitely not sqlite '.repeat(100))
    const before = fs.readFileSync(file)
    const error = (() => {
      try {
        openDatabase(file)
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(StoreOpenError)
    expect((error as Error).message).toMatch(/damaged or is not a Tidewatch database/)
    expect(fs.readFileSync(file).equals(before)).toBe(true)
  })
})

describe('HeadStore', () => {
  it('commits queued heads in one batch, skips duplicates, and reports what was committed', () => {
    const db = openDatabase(path.join(tempDir(), 'db.sqlite'))
    db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'a', 'user', 'x', 'x', 0)").run()
    const committed: HeadsCommitted[][] = []
    const store = new HeadStore(db, { flushIntervalMs: 10_000, onCommitted: (batch) => committed.push(batch) })
    store.enqueue(head(1))
    store.enqueue(head(2))
    store.enqueue(head(2))
    expect(store.list({ limit: 10 })).toHaveLength(0)
    store.flush()
    expect(committed).toHaveLength(1)
    expect(committed[0]).toEqual([{ connectionId: 1, lastId: 2, count: 2 }])
    const rows = store.list({ limit: 10 })
    expect(rows.map((r) => r.number)).toEqual([2, 1])
    expect(store.list({ limit: 10, beforeId: rows[0]!.id }).map((r) => r.number)).toEqual([1])
    store.enqueueTxCount(1, head(2).hash, 7)
    store.flush()
    expect(store.latest(1)).toMatchObject({ number: 2, txCount: 7 })
    db.close()
  })

  it('keeps queued heads when a write fails and commits them on retry', () => {
    const db = openDatabase(path.join(tempDir(), 'db.sqlite'))
    const errors: Error[] = []
    const store = new HeadStore(db, { flushIntervalMs: 10_000, onError: (e) => errors.push(e) })
    store.enqueue(head(1, 5))
    store.flush()
    expect(errors[0]?.message).toMatch(/FOREIGN KEY/)
    expect(store.pendingCount).toBe(1)
    db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (5, 'a', 'user', 'x', 'x', 0)").run()
    store.flush()
    expect(store.pendingCount).toBe(0)
    expect(store.list({ limit: 5 })).toHaveLength(1)
    db.close()
  })
})

describe('secrets', () => {
  it('stores endpoint URLs encrypted with a 0600 key file and reads them back after reopening', () => {
    const dir = tempDir()
    const url = 'wss://eth-mainnet.g.alchemy.com/v2/abcdEFGH1234ijklMNOP5678'
    const db = openDatabase(path.join(dir, 'db.sqlite'))
    const saved = new ConnectionStore(db, createKeyFileSecretBox(dir)).add({ name: 'main', url, kind: 'user' })
    db.close()
    expect((fs.statSync(path.join(dir, 'secret.key')).mode & 0o777).toString(8)).toBe('600')
    const raw = fs.readFileSync(path.join(dir, 'db.sqlite'))
    expect(raw.includes(Buffer.from('abcdEFGH1234ijklMNOP5678'))).toBe(false)
    const reopened = openDatabase(path.join(dir, 'db.sqlite'))
    const [loaded] = new ConnectionStore(reopened, createKeyFileSecretBox(dir)).list()
    expect(loaded).toMatchObject({ id: saved.id, url, displayUrl: 'wss://eth-mainnet.g.alchemy.com/v2/***' })
    reopened.close()
  })

  it('redacts keys in paths, queries and userinfo, and in free text', () => {
    expect(redactUrl('wss://mainnet.infura.io/ws/v3/0123456789abcdef0123456789abcdef')).toBe('wss://mainnet.infura.io/ws/v3/***')
    expect(redactUrl('wss://user:secretpass@node.example/rpc?apikey=supersecretvalue')).toBe('wss://***:***@node.example/rpc?apikey=***')
    expect(redactUrl('ws://127.0.0.1:8545')).toBe('ws://127.0.0.1:8545/')
    const url = 'wss://eth-mainnet.g.alchemy.com/v2/abcdEFGH1234ijklMNOP5678'
    expect(redactSecretsIn(`failed to reach ${url}`, url)).not.toContain('EFGH1234')
  })
})

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { openDatabase, type Db } from './database'
import { createSqliteWriter, parameterCount, type BatchResult, type SqliteWriter } from './sqlite-writer'

const STATEMENTS = ['INSERT INTO t (k, v) VALUES (?, ?)', "UPDATE t SET v = ? WHERE k = ? AND v <> '?'"]
const MIGRATIONS = [{ version: 1, name: 't', sql: 'CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT NOT NULL UNIQUE, v INTEGER NOT NULL)' }]

const open: { db: Db; writer: SqliteWriter }[] = []
afterEach(() => {
  for (const { db, writer } of open.splice(0)) {
    writer.close()
    db.close()
  }
})

function setup(file: string): { db: Db; writer: SqliteWriter } {
  const db = openDatabase(file, { migrations: MIGRATIONS })
  const writer = createSqliteWriter({ db, statements: STATEMENTS })
  open.push({ db, writer })
  return { db, writer }
}

const tempFile = (): string => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tidewatch-writer-')), 'store.db')

describe('sqlite writer', () => {
  test('counts positional parameters, ignoring ? inside string literals', () => {
    expect(STATEMENTS.map(parameterCount)).toEqual([2, 2])
  })

  test('a file store writes on a worker thread, in order, and drain() makes the rows visible to the main connection', () => {
    const { db, writer } = setup(tempFile())
    expect(writer.kind).toBe('worker')
    const results: BatchResult[] = []
    writer.submit([0, 'a', 1, 0, 'b', 2], (r) => results.push(r))
    writer.submit([1, 10, 'a', 0, 'c', 3], (r) => results.push(r))
    expect(writer.inFlight).toBe(2)
    writer.drain()
    expect(writer.inFlight).toBe(0)
    expect(results.map((r) => r.ok)).toEqual([true, true])
    const [first, second] = results as Extract<BatchResult, { ok: true }>[]
    expect([...first!.results]).toEqual([1, 1, 1, 2])
    // The UPDATE changed one row; the INSERT after it got rowid 3.
    expect(second!.results[0]).toBe(1)
    expect(second!.results[2]).toBe(1)
    expect(second!.results[3]).toBe(3)
    expect(db.prepare('SELECT k, v FROM t ORDER BY id').all()).toEqual([
      { k: 'a', v: 10 },
      { k: 'b', v: 2 },
      { k: 'c', v: 3 },
    ])
  })

  test('a failing batch rolls back whole and reports the SQLite error; later batches still run', () => {
    const { db, writer } = setup(tempFile())
    const results: BatchResult[] = []
    writer.submit([0, 'a', 1], (r) => results.push(r))
    // The second insert breaks the UNIQUE constraint: the first of this batch must not stay.
    writer.submit([0, 'b', 2, 0, 'a', 3], (r) => results.push(r))
    writer.submit([0, 'c', 4], (r) => results.push(r))
    writer.drain()
    expect(results.map((r) => r.ok)).toEqual([true, false, true])
    const failed = results[1] as Extract<BatchResult, { ok: false }>
    expect(failed.error.message).toMatch(/UNIQUE/)
    expect((failed.error as Error & { code?: string }).code).toBe('SQLITE_CONSTRAINT_UNIQUE')
    expect(db.prepare('SELECT k FROM t ORDER BY id').pluck().all()).toEqual(['a', 'c'])
  })

  test('replies also arrive without drain(), on the event loop', async () => {
    const { db, writer } = setup(tempFile())
    const done = new Promise<BatchResult>((resolve) => writer.submit([0, 'x', 7], resolve))
    const result = await done
    expect(result.ok).toBe(true)
    expect(db.prepare('SELECT v FROM t WHERE k = ?').pluck().get('x')).toBe(7)
  })

  test('a thread that cannot open the store says why, and the next batch gets a new thread', () => {
    const file = tempFile()
    const db = openDatabase(file, { migrations: MIGRATIONS })
    // The second statement names a table that does not exist yet: the thread cannot prepare it.
    const writer = createSqliteWriter({ db, statements: [STATEMENTS[0]!, 'INSERT INTO later (n) VALUES (?)'] })
    open.push({ db, writer })
    const results: BatchResult[] = []
    writer.submit([0, 'a', 1], (r) => results.push(r))
    writer.drain()
    expect(results[0]).toMatchObject({ ok: false })
    expect((results[0] as Extract<BatchResult, { ok: false }>).error.message).toMatch(/cannot open the store: no such table: later/)
    db.exec('CREATE TABLE later (n INTEGER)')
    writer.submit([0, 'a', 1, 1, 7], (r) => results.push(r))
    writer.drain()
    expect(results[1]!.ok).toBe(true)
    expect(db.prepare('SELECT n FROM later').pluck().all()).toEqual([7])
  })

  test('an in-memory store runs the same batches inline', () => {
    const { db, writer } = setup(':memory:')
    expect(writer.kind).toBe('inline')
    const results: BatchResult[] = []
    writer.submit([0, 'a', 1, 1, 5, 'a'], (r) => results.push(r))
    expect(results).toHaveLength(1)
    expect(results[0]!.ok).toBe(true)
    expect(db.prepare('SELECT v FROM t').pluck().get()).toBe(5)
  })
})

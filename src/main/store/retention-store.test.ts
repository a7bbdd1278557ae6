/** Retention: old heads and events go oldest first, a batch at a time; disk use is shared out per connection. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Db } from './database'
import { RetentionStore } from './retention-store'

const DAY = 86_400_000
let db: Db | undefined
let dir: string | undefined
afterEach(() => {
  db?.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
  db = dir = undefined
})

function setup() {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-retention-'))
  db = openDatabase(path.join(dir, 'db.sqlite'))
  for (const id of [1, 2])
    db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (?, 'x', 'user', 'x', 'x', 0)").run(id)
  return { db, retention: new RetentionStore(db) }
}

describe('RetentionStore', () => {
  it('deletes events older than the retention, oldest first, in batches, for that connection only', () => {
    const { db, retention } = setup()
    const now = Date.now()
    const insert = db.prepare("INSERT INTO events (connection_id, stream_id, kind, block_number, received_at) VALUES (?, 1, 'log', ?, ?)")
    for (let i = 0; i < 20; i++) {
      insert.run(1, i, now - (20 - i) * DAY)
      insert.run(2, i, now - (20 - i) * DAY)
    }
    // 10 days: the 10 events from 20..11 days ago go (an event exactly 10 days old stays).
    expect(retention.pruneEvents(1, 10, 4, now)).toBe(4)
    expect(retention.pruneEvents(1, 10, 4, now)).toBe(4)
    expect(retention.pruneEvents(1, 10, 4, now)).toBe(2)
    expect(retention.pruneEvents(1, 10, 4, now)).toBe(0)
    const left = (connectionId: number) =>
      db.prepare('SELECT block_number FROM events WHERE connection_id = ? ORDER BY id').pluck().all(connectionId) as number[]
    expect(left(1)).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i))
    expect(left(2)).toHaveLength(20)
  })

  it('shares each table’s pages out by the connection’s rows', () => {
    const { db, retention } = setup()
    const insert = db.prepare(
      "INSERT INTO heads (connection_id, number, hash, parent_hash, timestamp, gas_used, gas_limit, received_at) VALUES (?, ?, ?, '0x0', 0, '0', '0', 0)",
    )
    for (let i = 0; i < 300; i++) insert.run(i < 100 ? 1 : 2, i, `0x${i.toString(16).padStart(64, '0')}`)
    const [one, two] = retention.storageUse([1, 2])
    const heads = (use: typeof one) => use!.tables.find((t) => t.table === 'heads')!
    expect(heads(one).rows).toBe(100)
    expect(heads(two).rows).toBe(200)
    expect(heads(one).bytes).toBeGreaterThan(0)
    expect(Math.abs(heads(two).bytes - 2 * heads(one).bytes)).toBeLessThanOrEqual(1)
    expect(one!.bytes).toBe(one!.tables.reduce((sum, t) => sum + t.bytes, 0))
  })
})

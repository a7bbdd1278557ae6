/** Retention through the engine: per-connection settings, the pruning pass, disk use and Compact. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeProvider, type FakeProvider } from '../../../test/helpers/fake-provider'
import { openDatabase, type Db } from '../store/database'
import { createKeyFileSecretBox } from '../store/secret-box'
import { DATABASE_FILE, Engine } from './engine'

const DAY = 86_400_000
let provider: FakeProvider | undefined
let engine: Engine | undefined
let dir: string | undefined
/** The test's own handle on the engine's file, to write aged rows (the engine holds none to lend). */
let db: Db | undefined
afterEach(async () => {
  db?.close()
  await engine?.close()
  await provider?.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
  provider = engine = dir = db = undefined
})

describe('retention', () => {
  it('keeps heads 30 days and events forever by default, and what each connection is set to', async () => {
    provider = await startFakeProvider()
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-retention-engine-'))
    engine = new Engine({ dataDir: dir, secrets: createKeyFileSecretBox(dir), retentionIntervalMs: 0 })
    const { id } = engine.connections.add({ url: provider.url })
    const now = Date.now()
    db = openDatabase(path.join(dir, DATABASE_FILE))
    const head = db.prepare(
      "INSERT INTO heads (connection_id, number, hash, parent_hash, timestamp, gas_used, gas_limit, received_at) VALUES (?, ?, ?, '0x0', 0, '0', '0', ?)",
    )
    const event = db.prepare("INSERT INTO events (connection_id, stream_id, kind, block_number, received_at) VALUES (?, 1, 'log', ?, ?)")
    for (let age = 40; age >= 1; age--) {
      head.run(id, 1000 - age, `0x${age.toString(16).padStart(64, '0')}`, now - age * DAY)
      event.run(id, 1000 - age, now - age * DAY)
    }
    const count = (table: string) => (db!.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE connection_id = ?`).get(id) as { n: number }).n

    await engine.retention.apply(now)
    expect(count('heads')).toBe(30)
    expect(count('events')).toBe(40)
    expect(await engine.retention.storageUse()).toMatchObject([{ connectionId: id, headsRetentionDays: 30, eventsRetentionDays: null }])

    engine.retention.set(id, { headsRetentionDays: 7, eventsRetentionDays: 14 })
    await engine.retention.apply(now)
    expect(count('heads')).toBe(7)
    expect(count('events')).toBe(14)
    const [use] = await engine.retention.storageUse()
    expect(use).toMatchObject({ connectionId: id, headsRetentionDays: 7, eventsRetentionDays: 14 })
    expect(use!.tables.find((t) => t.table === 'events')!.rows).toBe(14)

    const { bytesBefore, bytesAfter } = await engine.retention.compact()
    expect(bytesAfter).toBeGreaterThan(0)
    expect(bytesAfter).toBeLessThanOrEqual(bytesBefore)
  })
})

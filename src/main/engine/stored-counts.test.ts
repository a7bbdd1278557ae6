/** Subscription counts of a big store are read after the engine is up, a slice at a time, and rows committed meanwhile count once. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/scripted-server'
import type { Subscription } from '../../shared/contract'
import { openDatabase } from '../store/database'
import { createKeyFileSecretBox } from '../store/secret-box'
import { DATABASE_FILE, Engine } from './engine'

let engine: Engine | undefined
let dir: string | undefined
afterEach(async () => {
  await engine?.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
  engine = dir = undefined
})

describe('subscription counts at start', () => {
  it('come from the stored rows once counted, with the newest row’s time, and are announced then', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-counts-'))
    const first = new Engine({ dataDir: dir, secrets: createKeyFileSecretBox(dir) })
    const connection = first.connections.add({ url: 'ws://127.0.0.1:9/' })
    const a = first.subscriptions.create({ connectionId: connection.id, spec: { type: 'newPendingTransactions', params: {} } })
    const b = first.subscriptions.create({ connectionId: connection.id, spec: { type: 'syncing', params: {} } })
    const streams = { a: first.subscriptions.storedById(a.id)!.streamId, b: first.subscriptions.storedById(b.id)!.streamId }
    await first.close()
    // 600,000 rows stored before this start (more than two slices of the count), seeded straight into the file.
    const db = openDatabase(path.join(dir, DATABASE_FILE))
    const insert = db.prepare("INSERT INTO events (connection_id, stream_id, kind, payload, received_at) VALUES (?, ?, 'pending_transaction', '\"0x01\"', ?)")
    db.transaction(() => {
      for (let i = 0; i < 600_000; i++) insert.run(connection.id, i % 3 === 0 ? streams.b : streams.a, 1_000 + i)
    })()
    db.close()

    engine = new Engine({ dataDir: dir, secrets: createKeyFileSecretBox(dir) })
    const announced: Subscription[] = []
    engine.on('subscriptionChanged', (subscription) => subscription && announced.push(subscription))
    await waitFor('counted', () => engine!.subscriptions.list().find((s) => s.id === a.id)?.eventCount === 400_000, 30_000)
    const byId = new Map(engine.subscriptions.list().map((s) => [s.id, s]))
    expect(byId.get(a.id)).toMatchObject({ eventCount: 400_000, lastEventAt: 1_000 + 599_999 })
    expect(byId.get(b.id)).toMatchObject({ eventCount: 200_000, lastEventAt: 1_000 + 599_997 })
    expect(announced.filter((s) => s.id === a.id).at(-1)?.eventCount).toBe(400_000)
  })
})

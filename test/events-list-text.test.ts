/**
 * events.list with a text filter on a store big enough that no single read finds its rows in
 * time: the page is read as events.search pages, with the event loop free between them (one
 * statement reading every row held capture and every client meanwhile), and holds exactly
 * the rows events.list promises, going back and going forward.
 */
import Database from 'better-sqlite3'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DATABASE_FILE, Engine } from '../src/main/engine/engine'
import { EventStore } from '../src/main/store/event-store'
import { createKeyFileSecretBox } from '../src/main/store/secret-box'
import { seedTransferLogs } from './helpers/seed-events'

const ROWS = 120_000
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** An engine over a store of ROWS captured Transfer logs (row i has id i + 1 and transaction hash 0x…(i + 1e9)). */
async function seededEngine(): Promise<Engine> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-list-text-'))
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }))
  await new Engine({ dataDir, secrets: createKeyFileSecretBox(dataDir) }).close()
  // Seeded through a connection of its own: only the store holds an engine's handle.
  const db = new Database(path.join(dataDir, DATABASE_FILE))
  db.prepare("INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (99, 'seed', 'user', 'x', 'x', 0)").run()
  db.prepare("INSERT INTO streams (id, connection_id, stream_key) VALUES (99, 99, 'seed')").run()
  seedTransferLogs(db, ROWS, { connectionId: 99, streamId: 99 })
  db.close()
  const engine = new Engine({ dataDir, secrets: createKeyFileSecretBox(dataDir) })
  cleanups.push(() => engine.close())
  return engine
}

const txHash = (row: number) => `0x${(row + 1e9).toString(16).padStart(64, '0')}`

describe('events.list with a text filter', () => {
  it('reads the store as search pages, the event loop turning between them, and finds a row only the oldest part holds', async () => {
    const engine = await seededEngine()
    // What happens, in order: S for each search page the store reads, T for each turn of the event loop.
    const trace: string[] = []
    const search = EventStore.prototype.search
    vi.spyOn(EventStore.prototype, 'search').mockImplementation(function (this: EventStore, ...args) {
      trace.push('S')
      return search.apply(this, args)
    })
    let turning = true
    const turn = (): void => {
      if (!turning) return
      trace.push('T')
      setImmediate(turn)
    }
    setImmediate(turn)
    const events = await engine.events.list({ text: txHash(4), limit: 10 })
    turning = false
    expect(events.map((e) => [e.id, e.transactionHash])).toEqual([[5, txHash(4)]])
    const pages = trace.filter((t) => t === 'S').length
    expect(pages).toBeGreaterThan(1)
    // Between any two pages the event loop turned.
    expect(trace.join('').slice(trace.indexOf('S'))).not.toMatch(/SS/)
  }, 60_000)

  it('holds the rows events.list promises: the newest below beforeId, the oldest above afterId', async () => {
    const engine = await seededEngine()
    // Every row holds the token's address: pages fill at once.
    const token = 'a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48'
    expect((await engine.events.list({ text: token, limit: 3 })).map((e) => e.id)).toEqual([ROWS, ROWS - 1, ROWS - 2])
    expect((await engine.events.list({ text: token, limit: 3, beforeId: 100 })).map((e) => e.id)).toEqual([99, 98, 97])
    expect((await engine.events.list({ text: token, limit: 3, afterId: 0 })).map((e) => e.id)).toEqual([3, 2, 1])
    // A rare text going forward: the oldest rows above afterId, from pages that each read a part of the store.
    const rare = await engine.events.list({ text: txHash(ROWS - 2), limit: 5, afterId: 10 })
    expect(rare.map((e) => e.id)).toEqual([ROWS - 1])
    expect(await engine.events.list({ text: txHash(3), limit: 5, afterId: 10 })).toEqual([])
  }, 60_000)
})

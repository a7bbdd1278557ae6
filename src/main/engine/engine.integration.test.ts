/**
 * The engine against a real anvil on a free port and a real SQLite file: heads arrive,
 * land in the store, and survive a restart of the engine on the same database.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/scripted-server'
import { startAnvil, type AnvilProcess } from '../demo/anvil-process'
import { createKeyFileSecretBox } from '../store/secret-box'
import { DATABASE_FILE, Engine } from './engine'
import { httpRpc } from '../../../test/helpers/node-rpc'

let anvil: AnvilProcess
let dataDir: string

beforeAll(async () => {
  anvil = await startAnvil({ blockTime: 1 })
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-engine-'))
})
afterAll(async () => {
  await anvil?.stop()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

const rpc = <T>(method: string, params: unknown[] = []): Promise<T> => httpRpc<T>(anvil.httpUrl, method, params)

describe('Engine with a real anvil', () => {
  it('captures every new head into SQLite and keeps it across a restart', async () => {
    const secrets = createKeyFileSecretBox(dataDir)
    const first = new Engine({ dataDir, secrets })
    const appended: number[] = []
    first.on('headsAppended', (batch) => appended.push(batch.count))
    const connection = first.connections.add({ name: 'anvil', url: anvil.wsUrl })
    first.start()
    await waitFor('connected', () => first.connections.list()[0]?.status.state === 'connected')
    await waitFor('three heads stored', async () => (await first.connections.listHeads({ limit: 10 })).length >= 3, 20_000)
    expect(appended.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3)

    const stored = await first.connections.listHeads({ connectionId: connection.id, limit: 100 })
    const numbers = stored.map((h) => h.number)
    // Consecutive blocks, newest first, each linked to its parent.
    for (let i = 1; i < stored.length; i++) {
      expect(numbers[i]).toBe(numbers[i - 1]! - 1)
      expect(stored[i - 1]!.parentHash).toBe(stored[i]!.hash)
    }
    // What was stored is what the node has under those numbers.
    const newest = stored[0]!
    const block = await rpc<{ hash: string; parentHash: string; timestamp: string; gasLimit: string }>('eth_getBlockByNumber', [
      `0x${newest.number.toString(16)}`,
      false,
    ])
    expect(newest.hash).toBe(block.hash)
    expect(newest.parentHash).toBe(block.parentHash)
    expect(newest.timestamp).toBe(Number(block.timestamp))
    expect(newest.gasLimit).toBe(BigInt(block.gasLimit).toString())
    await waitFor('tx counts', async () => (await first.connections.listHeads({ limit: 3 })).slice(1).every((h) => h.txCount === 0))

    await first.close()
    // Closing flushed everything: a separate reader sees at least what the engine listed.
    const reader = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true })
    const countAfterClose = (reader.prepare('SELECT COUNT(*) AS n FROM heads').get() as { n: number }).n
    reader.close()
    expect(countAfterClose).toBeGreaterThanOrEqual(stored.length)

    const second = new Engine({ dataDir, secrets: createKeyFileSecretBox(dataDir) })
    expect(second.connections.list().map((c) => ({ name: c.name, displayUrl: c.displayUrl }))).toEqual([{ name: 'anvil', displayUrl: `${anvil.wsUrl}/` }])
    expect((await second.connections.listHeads({ limit: 1000 })).length).toBe(countAfterClose)
    second.start()
    await waitFor('more heads after restart', async () => (await second.connections.listHeads({ limit: 1 }))[0]!.number > newest.number + 1, 20_000)
    const hashes = (await second.connections.listHeads({ limit: 1000 })).map((h) => h.hash)
    expect(new Set(hashes).size).toBe(hashes.length)
    await second.close()
  })
})

/**
 * Two engines on one PostgreSQL store (issue 13), a real anvil with the demo traffic: the
 * first captures a logs subscription; the second, started after, follows: it shows the first
 * one's rows and hears of new ones as they commit, learns of a subscription the first adds,
 * and captures nothing. When the first stops, the second takes over from the stored cursor.
 * Afterwards the stored rows not marked removed are exactly eth_getLogs over the captured
 * range: nothing missed, nothing twice.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createPublicClient, http, parseAbiItem, toEventSelector } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestDatabase, postgresSkipReason } from '../../../test/helpers/postgres-test-database'
import { waitFor } from '../../../test/helpers/scripted-server'
import { subscriptionSpecSchema } from '../../shared/subscription-params'
import { startDemoChain } from '../demo/demo-chain'
import { openPostgresEngineStore } from '../store/postgres/engine-store'
import { createKeyFileSecretBox } from '../store/secret-box'
import { Engine } from './engine'

const TRANSFER = toEventSelector(parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)'))

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe.skipIf(postgresSkipReason !== undefined)('engines sharing a PostgreSQL store', () => {
  it('one captures, the other shows its rows live, and takes over from the stored cursor when it stops', async () => {
    const database = await createTestDatabase()
    cleanups.push(() => database.drop())
    const demo = await startDemoChain({ blockTime: 1 })
    cleanups.push(() => demo.stop())
    // Instances sharing a store share the key that seals endpoint URLs.
    const first = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-shared-a-'))
    const second = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-shared-b-'))
    createKeyFileSecretBox(first)
    fs.copyFileSync(path.join(first, 'secret.key'), path.join(second, 'secret.key'))
    cleanups.push(() => {
      for (const dir of [first, second]) fs.rmSync(dir, { recursive: true, force: true })
    })
    const logs: string[] = []
    const open = async (dataDir: string): Promise<Engine> => {
      const secrets = createKeyFileSecretBox(dataDir)
      const log = (message: string): void => void logs.push(`${path.basename(dataDir)} ${message}`)
      const store = await openPostgresEngineStore(database.url, { secrets, dataDir, log, leadership: { retryIntervalMs: 200, sessionTimeoutMs: 2_000 } })
      const engine = new Engine({ dataDir, secrets, store, log })
      cleanups.push(() => engine.close())
      return engine
    }

    const a = await open(first)
    a.start()
    const connectionId = a.connections.add({ name: 'demo', url: demo.wsUrl }).id
    const spec = subscriptionSpecSchema.parse({ type: 'logs', params: { address: demo.tokenAddress, topics: [TRANSFER] } })
    const subscription = a.subscriptions.create({ connectionId, spec, watch: { startBlock: -3, fetch: false, listen: true, irreversibleOnly: false } })
    await waitFor('the first engine captures', () => a.connections.capturingConnection(connectionId))

    const b = await open(second)
    const appended: number[] = []
    b.on('eventsAppended', (batch) => appended.push(batch.count))
    const changed: number[] = []
    b.on('subscriptionChanged', (s) => s && changed.push(s.id))
    b.start()
    expect(b.connections.list().map((c) => c.id)).toEqual([connectionId])
    // The second one follows: live on the upstream for streams, capturing nothing.
    await waitFor('the second engine follows', () => b.connections.liveConnection(connectionId))
    expect(b.connections.capturingConnection(connectionId)).toBeUndefined()
    expect(b.connections.list()[0]!.status.capturing).toBe('elsewhere')
    expect(a.connections.list()[0]!.status.capturing).toBe('here')
    // Shown as running (the first engine runs it), not as paused.
    expect(b.subscriptions.list().map((s) => s.state)).toEqual(['active'])
    await waitFor('rows on the second engine', async () => (await b.events.list({ subscriptionId: subscription.id, limit: 1000 })).length >= 4, 30_000)
    await waitFor('live rows heard by the second engine', () => appended.length > 0, 15_000)

    // A subscription the first adds shows on the second.
    const heads = a.subscriptions.create({ connectionId, spec: subscriptionSpecSchema.parse({ type: 'newHeads' }) })
    await waitFor('the new subscription on the second engine', () => changed.includes(heads.id))
    expect(b.subscriptions.list().map((s) => s.id)).toEqual([subscription.id, heads.id])

    // A connection the first adds and removes comes and goes on the second, which says so each time.
    let changes = 0
    b.on('connectionsChanged', () => (changes += 1))
    const other = a.connections.add({ name: 'other', url: 'ws://127.0.0.1:9/' }).id
    await waitFor('the new connection on the second engine', () => changes > 0 && b.connections.list().some((c) => c.id === other))
    const heardBefore = changes
    expect(await a.connections.remove(other)).toBe(true)
    await waitFor('the connection gone from the second engine', () => changes > heardBefore && !b.connections.list().some((c) => c.id === other))
    expect(b.connections.liveConnection(other)).toBeUndefined()

    // The first stops; the second takes over and captures from where the first left.
    const leftAt = (await a.events.list({ subscriptionId: subscription.id, limit: 1 }))[0]!.blockNumber!
    await a.close()
    await waitFor('the second engine captures', () => b.connections.capturingConnection(connectionId), 10_000)
    expect(b.connections.list()[0]!.status.capturing).toBe('here')
    await waitFor(
      'rows captured by the second engine',
      async () => ((await b.events.list({ subscriptionId: subscription.id, limit: 1 }))[0]?.blockNumber ?? 0) > leftAt + 2,
      30_000,
    )
    expect(logs.some((line) => line.startsWith(path.basename(second)) && /captures it now/.test(line))).toBe(true)

    const upTo = b.subscriptions.list().find((s) => s.id === subscription.id)!.cursor!.number
    const stored = (await b.events.list({ subscriptionId: subscription.id, limit: 10_000 })).filter((e) => !e.removed && e.blockNumber! <= upTo)
    const from = Math.min(...stored.map((e) => e.blockNumber!))
    const client = createPublicClient({ transport: http(demo.httpUrl) })
    const expected = await client.getLogs({
      address: demo.tokenAddress,
      event: parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)'),
      fromBlock: BigInt(from),
      toBlock: BigInt(upTo),
    })
    const key = (blockHash: string | null, logIndex: number | null): string => `${blockHash}:${logIndex}`
    expect(stored.map((e) => key(e.blockHash, e.logIndex)).sort()).toEqual(expected.map((l) => key(l.blockHash, l.logIndex)).sort())
    expect(new Set(stored.map((e) => key(e.blockHash, e.logIndex))).size).toBe(stored.length)
  })
})

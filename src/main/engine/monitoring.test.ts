/**
 * The monitoring side of the engine on a scripted chain of ERC-20 transfers: decoded
 * events, live-log filters, watchlist activity, exports and rate-limited notifications.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { encodeAbiParameters, encodeEventTopics, parseAbiItem } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeProvider, type FakeProvider } from '../../../test/helpers/fake-provider'
import { waitFor } from '../../../test/helpers/scripted-server'
import type { ExportProgress } from '../../shared/contract'
import { subscriptionSpecSchema } from '../../shared/subscription-params'
import { exportsFolderDestination } from '../export/exports-folder'
import { createKeyFileSecretBox } from '../store/secret-box'
import type { Notification } from './notifier'
import { Engine } from './engine'

const TOKEN = '0x5fbdb2315678afecb367f032d93f642f64180aa3'
const ALICE = '0x1111111111111111111111111111111111111111'
const BOB = '0x2222222222222222222222222222222222222222'
const transfer = (from: string, to: string, value: bigint) => ({
  address: TOKEN,
  topics: encodeEventTopics({
    abi: [parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)')],
    eventName: 'Transfer',
    args: { from: from as `0x${string}`, to: to as `0x${string}` },
  }) as string[],
  data: encodeAbiParameters([{ type: 'uint256' }], [value]),
  // Fields Tidewatch does not know travel with the log (PROTOCOL.md rule 7).
  blockTimestamp: '0x6553f100',
  vendorField: { region: 'eu', tags: ['a', 1] },
})

let provider: FakeProvider
let engine: Engine
let dataDir: string
let connectionId: number
let subscriptionId: number
const notifications: Notification[] = []
const progress: ExportProgress[] = []

beforeAll(async () => {
  provider = await startFakeProvider()
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-monitor-'))
  engine = new Engine({ dataDir, secrets: createKeyFileSecretBox(dataDir) })
  engine.on('notification', (n) => notifications.push(n))
  engine.on('exportProgress', (p) => progress.push(p))
  connectionId = engine.connections.add({ url: provider.url }).id
  await waitFor('tracker', async () => engine.connections.liveConnection(connectionId)?.tracker.cursor)
  const sub = engine.subscriptions.create({ connectionId, label: 'Token', spec: subscriptionSpecSchema.parse({ type: 'logs', params: { address: TOKEN } }) })
  subscriptionId = sub.id
  engine.subscriptions.update(sub.id, { notify: true })
  engine.watchlist.upsert({ address: ALICE, label: 'Alice', color: '#ff0000', notify: false })
  await waitFor('watch active', async () => engine.subscriptions.list()[0]?.state === 'active')
  for (let i = 1; i <= 30; i++)
    provider.mine([
      transfer(i % 2 ? ALICE : BOB, i % 2 ? BOB : ALICE, BigInt(i) * 10n ** 18n),
      { address: '0x' + '9'.repeat(40), topics: [`0x${'ab'.repeat(32)}`], data: '0x' },
    ])
  await waitFor('30 transfers', async () => (await engine.events.list({ subscriptionId, limit: 1000 })).length === 30, 15_000)
})
afterAll(async () => {
  await engine.close()
  await provider.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

describe('monitoring', async () => {
  it('decodes captured logs and filters the live log', async () => {
    const latest = (await engine.events.list({ subscriptionId, limit: 1 }))[0]!
    expect(latest.decoded).toEqual({
      event: 'Transfer',
      signature: 'Transfer(address,address,uint256)',
      source: 'ERC-20 Transfer',
      args: { from: BOB, to: ALICE, value: '30000000000000000000' },
    })
    expect(await engine.events.list({ connectionId, eventName: 'Transfer', limit: 1000 })).toHaveLength(30)
    expect(await engine.events.list({ connectionId, eventName: 'Swap', limit: 1000 })).toHaveLength(0)
    expect((await engine.events.list({ connectionId, address: TOKEN, fromBlock: 10, toBlock: 19, limit: 1000 })).map((e) => e.blockNumber)).toEqual([
      19, 18, 17, 16, 15, 14, 13, 12, 11, 10,
    ])
    expect(await engine.events.list({ connectionId, text: ALICE.slice(2, 12), limit: 1000 })).toHaveLength(30)
    const page = await engine.events.list({ connectionId, limit: 5 })
    expect((await engine.events.list({ connectionId, afterId: page[4]!.id, limit: 100 })).map((e) => e.id)).toEqual(page.slice(0, 4).map((e) => e.id))
    // The live log's pages: the same events, decorated the same, with where the next page starts.
    const listed = await engine.events.list({ connectionId, text: ALICE.slice(2, 12), limit: 7 })
    const searched = await engine.events.search({ connectionId, text: ALICE.slice(2, 12), limit: 7 })
    expect(searched).toEqual({ events: listed, next: listed[6]!.id, newest: page[0]!.id })
    const rest = await engine.events.search({ connectionId, eventName: 'Transfer', beforeId: searched.next!, limit: 1000 })
    expect(rest.next).toBeNull()
    expect(rest.events.map((e) => e.id)).toEqual(
      (await engine.events.list({ connectionId, eventName: 'Transfer', beforeId: searched.next!, limit: 1000 })).map((e) => e.id),
    )
  })

  it("shows a watched address's transfers in and out", async () => {
    const activity = await engine.watchlist.activity(ALICE, 10)
    expect(activity.transfers).toHaveLength(10)
    expect(activity.transfers[0]).toMatchObject({ direction: 'in', token: TOKEN, counterparty: BOB, value: '30000000000000000000', blockNumber: 30 })
    expect(activity.transfers[1]).toMatchObject({ direction: 'out', counterparty: BOB, value: '29000000000000000000' })
  })

  it('exports exactly the stored rows as CSV and NDJSON, and cancels cleanly', async () => {
    const destination = exportsFolderDestination(dataDir)
    const id = await engine.exports.start({ subscriptionIds: [subscriptionId] }, 'csv', await destination('token.csv'))
    await waitFor('csv done', () => progress.some((p) => p.exportId === id && p.state === 'done'))
    const done = progress.find((p) => p.exportId === id && p.state === 'done')!
    expect(done).toMatchObject({ rows: 30, totalRows: 30, downloadUrl: '/exports/token.csv' })
    const lines = fs.readFileSync(done.file!, 'utf8').trim().split('\n')
    expect(lines[0]).toBe(
      'id,received_at,connection_id,subscription_ids,kind,block_number,block_hash,transaction_hash,log_index,address,topic0,topic1,topic2,topic3,data,removed,irreversible,event,args,payload',
    )
    const stored = (await engine.events.list({ subscriptionId, limit: 1000 })).reverse()
    expect(lines.slice(1).map((line) => Number(line.split(',')[0]))).toEqual(stored.map((e) => e.id))
    expect(lines[1]!.split(',').slice(4, 10)).toEqual(['log', String(stored[0]!.blockNumber), stored[0]!.blockHash, stored[0]!.transactionHash, '0', TOKEN])

    const nd = await engine.exports.start({ connectionId, kind: 'log', fromBlock: 5, toBlock: 6 }, 'ndjson', await destination('range.ndjson'))
    await waitFor('ndjson done', () => progress.some((p) => p.exportId === nd && p.state === 'done'))
    const records = fs
      .readFileSync(path.join(dataDir, 'exports', 'range.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { blockNumber: number; decoded: unknown; payload: unknown })
    expect(records.map((r) => r.blockNumber)).toEqual([5, 6])
    expect(records[0]!.decoded).toMatchObject({ event: 'Transfer' })
    // The payload is the provider's log object as received, unknown fields and all.
    expect(records[0]!.payload).toEqual(provider.chain[5]!.logs[0])
    expect(records[0]!.payload).toMatchObject({ blockTimestamp: '0x6553f100', vendorField: { region: 'eu', tags: ['a', 1] } })

    const cancelled = await engine.exports.start({ connectionId }, 'json', await destination('cancelled.json'))
    expect(engine.exports.cancel(cancelled)).toBe(true)
    await waitFor('cancelled', () => progress.some((p) => p.exportId === cancelled && (p.state === 'cancelled' || p.state === 'done')))
    if (progress.some((p) => p.exportId === cancelled && p.state === 'cancelled'))
      expect(fs.existsSync(path.join(dataDir, 'exports', 'cancelled.json'))).toBe(false)
  })

  it('notifies for a marked subscription at most once per interval', () => {
    const mine = notifications.filter((n) => n.subscriptionId === subscriptionId)
    expect(mine.length).toBeGreaterThanOrEqual(1)
    expect(mine.length).toBeLessThanOrEqual(2)
    expect(mine[0]).toMatchObject({ title: 'Token', body: expect.stringMatching(/Transfer in block \d+/) })
  })
})

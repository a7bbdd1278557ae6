/**
 * Resume by cursor (PROTOCOL.md section 1, rule 4) against a scripted chain: a client reads
 * to a progress cursor, goes away, a reorg replaces the blocks it saw, and it comes back
 * with the cursor. What it holds afterwards (add on removed: false, delete on removed: true)
 * must be exactly the canonical chain's logs, nothing delivered twice.
 */
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/scripted-server'
import { startTrackerFixture, type TrackerFixture } from '../../../test/helpers/tracker-fixture'
import { canonicalLogs, logsOf, replay, WATCHED, watchRequest as request } from '../../../test/helpers/watch-replay'
import { wireLog } from '../store/chain-store'
import type { WatchMessage } from './watch-types'
import { decodeCursor, encodeCursor } from './stream-cursor'
import { createTrackerWatchProvider } from './tracker-watch'

const ADDRESS = WATCHED
const TOPIC = '0xd78a0cb8bb633d06981248b816e7bd33c2a35a6089241d099fa519e361cab902'
// An upstream field Tidewatch does not know must reach clients unchanged (rule 7).
const LOG = { address: ADDRESS, topics: [TOPIC], data: '0x01', blockTimestamp: '0x6553f100', someProviderField: { nested: [1, 'two'] } }
const OTHER = { address: '0x1111111111111111111111111111111111111111', topics: [TOPIC], data: '0x02' }

let fixture: TrackerFixture | undefined
afterEach(async () => {
  await fixture?.close()
  fixture = undefined
})

async function setup() {
  fixture = await startTrackerFixture()
  const { provider, tracker, pool } = fixture
  // Tracking starts at the head: from block 1 here, so every later block is in the store.
  provider.mine()
  tracker.poke()
  await waitFor('tracking from block 1', () => tracker.cursor?.firstBlock === 1)
  return { provider, tracker, watches: createTrackerWatchProvider(tracker, pool) }
}

function lastProgress(messages: WatchMessage[]) {
  const progress = messages.filter((m): m is Extract<WatchMessage, { type: 'progress' }> => m.type === 'progress').at(-1)
  if (!progress) throw new Error('no progress yet')
  return progress.data
}

describe('progress cursors', () => {
  it('name chain, block number and hash, and decode to exactly that; anything else is not a cursor', () => {
    const hash = fc.stringMatching(/^0x[0-9a-f]{64}$/)
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), hash, (chainId, number, h) => {
        expect(decodeCursor(encodeCursor({ chainId, number, hash: h }))).toEqual({ chainId, number, hash: h })
      }),
      { seed: 9, numRuns: 500 },
    )
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (garbage) => {
        const decoded = decodeCursor(garbage)
        // Random text decodes only if it happens to be a well-formed cursor, which then round-trips.
        if (decoded) expect(encodeCursor(decoded)).toBe(garbage)
      }),
      { seed: 9, numRuns: 2000 },
    )
    for (const bad of [
      '',
      'not a cursor',
      encodeCursor({ chainId: 1, number: 5, hash: '0x12' }),
      Buffer.from('tw1:1:5').toString('base64url'),
      Buffer.from(`tw0:1:5:0x${'a'.repeat(64)}`).toString('base64url'),
    ]) {
      expect(decodeCursor(bad), bad).toBeNull()
    }
  })
})

describe('resume by cursor', () => {
  it('continues after a cursor that is still canonical: nothing missed, nothing twice, raw logs unchanged', async () => {
    const { provider, tracker, watches } = await setup()
    for (let i = 0; i < 4; i++) provider.mine([LOG, OTHER, LOG])
    tracker.poke()
    await waitFor('tracked', () => tracker.cursor?.number === 5)
    const first: WatchMessage[] = []
    const a = watches.open(request({ startBlock: 5, head: 5 }), (m) => first.push(m))
    for (let i = 0; i < 3; i++) provider.mine([LOG])
    tracker.poke()
    await waitFor('read to 8', () => first.some((m) => m.type === 'progress' && m.data.block_number === 8))
    a.stop()
    const cursor = lastProgress(first)
    expect(decodeCursor(cursor.cursor)).toEqual({ chainId: 1, number: 8, hash: provider.chain[8]!.block.hash })

    for (let i = 0; i < 2; i++) provider.mine([LOG])
    tracker.poke()
    const second: WatchMessage[] = []
    watches.open(request({ startBlock: 9, head: 10, resume: { number: 8, hash: cursor.block_hash } }), (m) => second.push(m))
    await waitFor('caught up', () => second.some((m) => m.type === 'progress' && m.data.block_number === 10))
    expect(logsOf(second).map((m) => m.log.blockNumber)).toEqual([9, 10])
    const held = replay(second, replay(first))
    expect([...held.values()].map((m) => m.log.raw)).toEqual(canonicalLogs(provider, 5, 10))
    // The raw object is the provider's, unknown fields included.
    expect(logsOf(second)[0]!.log.raw).toEqual(provider.chain[9]!.logs[0])
    expect(logsOf(second)[0]!.log.raw).toMatchObject({ blockTimestamp: '0x6553f100', someProviderField: { nested: [1, 'two'] } })
  })

  it('after a reorg took the cursor block off the chain while the client was away: removals newest first, then the new branch', async () => {
    const { provider, tracker, watches } = await setup()
    for (let i = 0; i < 3; i++) provider.mine([LOG, LOG])
    tracker.poke()
    await waitFor('tracked', () => tracker.cursor?.number === 4)
    const first: WatchMessage[] = []
    const a = watches.open(request({ startBlock: 3, head: 4 }), (m) => first.push(m))
    for (let i = 0; i < 4; i++) provider.mine([LOG, OTHER, LOG])
    tracker.poke()
    await waitFor('read to 8', () => first.some((m) => m.type === 'progress' && m.data.block_number === 8))
    a.stop()
    const cursor = lastProgress(first)

    // Away: blocks 6..8 are replaced, then the chain moves on; Tidewatch notices the fork.
    provider.reorg(3, [LOG])
    provider.mine([LOG])
    tracker.poke()
    await waitFor('reorg applied', () => tracker.cursor?.number === 9 && tracker.store.canonicalHash(8) === provider.chain[8]!.block.hash)

    const second: WatchMessage[] = []
    watches.open(request({ startBlock: 9, head: 9, resume: { number: cursor.block_number, hash: cursor.block_hash } }), (m) => second.push(m))
    await waitFor('caught up', () => second.some((m) => m.type === 'progress' && m.data.block_number === 9))
    const removals = logsOf(second).filter((m) => m.removed)
    expect(removals.map((m) => [m.log.blockNumber, m.log.logIndex])).toEqual([
      [8, 2],
      [8, 0],
      [7, 2],
      [7, 0],
      [6, 2],
      [6, 0],
    ])
    // Removals are the same logs again, flagged as geth does.
    expect(wireLog(removals[0]!.log, removals[0]!.removed)).toMatchObject({ ...LOG, removed: true })
    // Then the replacement blocks from the fork point + 1, in order, and progress with fresh cursors.
    expect(
      logsOf(second)
        .filter((m) => !m.removed)
        .map((m) => m.log.blockNumber),
    ).toEqual([6, 7, 8, 9])
    expect(second.filter((m) => m.type === 'progress').map((m) => (m.type === 'progress' ? m.data.block_number : 0))).toEqual([6, 7, 8, 9])
    const held = replay(second, replay(first))
    expect([...held.values()].map((m) => m.log.raw)).toEqual(canonicalLogs(provider, 3, 9))
  })

  it('takes back the cursor block when the reorg is noticed only after the client resumed', async () => {
    const { provider, tracker, watches } = await setup()
    for (let i = 0; i < 5; i++) provider.mine([LOG])
    tracker.poke()
    await waitFor('tracked', () => tracker.cursor?.number === 6)
    const first: WatchMessage[] = []
    const a = watches.open(request({ startBlock: 2, head: 6, listen: false }), (m) => first.push(m))
    await waitFor('complete', () => first.some((m) => m.type === 'complete'))
    a.stop()
    const cursor = lastProgress(first)
    expect(cursor.block_number).toBe(6)

    // The client is back before Tidewatch has seen the reorg: its cursor is canonical as far as the store knows.
    const second: WatchMessage[] = []
    watches.open(request({ startBlock: 7, head: 6, resume: { number: 6, hash: cursor.block_hash } }), (m) => second.push(m))
    await waitFor('listening', () => second.some((m) => m.type === 'listening'))
    provider.reorg(2, [LOG, LOG])
    tracker.poke()
    await waitFor('new branch delivered', () => second.some((m) => m.type === 'progress' && m.data.block_number === 6))
    expect(logsOf(second).map((m) => [m.log.blockNumber, m.removed])).toEqual([
      [6, true],
      [5, true],
      [5, false],
      [5, false],
      [6, false],
      [6, false],
    ])
    const held = replay(second, replay(first))
    expect([...held.values()].map((m) => m.log.raw)).toEqual(canonicalLogs(provider, 2, 6))
  })

  it('newHeads: one removed head per orphaned block, newest first, then the replacement heads', async () => {
    const { provider, tracker, watches } = await setup()
    for (let i = 0; i < 4; i++) provider.mine()
    tracker.poke()
    await waitFor('tracked', () => tracker.cursor?.number === 5)
    const first: WatchMessage[] = []
    const a = watches.open(request({ kind: 'newHeads', filter: {}, startBlock: 3, head: 5, listen: false }), (m) => first.push(m))
    await waitFor('complete', () => first.some((m) => m.type === 'complete'))
    a.stop()
    const cursor = lastProgress(first)
    const old = new Map(first.flatMap((m) => (m.type === 'head' ? [[m.data.block_number, m.data.block_hash] as const] : [])))
    provider.reorg(2)
    tracker.poke()
    await waitFor('reorg applied', () => tracker.store.canonicalHash(5) === provider.chain[5]!.block.hash)
    const second: WatchMessage[] = []
    watches.open(request({ kind: 'newHeads', filter: {}, startBlock: 6, head: 5, listen: false, resume: { number: 5, hash: cursor.block_hash } }), (m) =>
      second.push(m),
    )
    await waitFor('complete', () => second.some((m) => m.type === 'complete'))
    const heads = second.filter((m): m is Extract<WatchMessage, { type: 'head' }> => m.type === 'head')
    expect(heads.map((m) => [m.data.block_number, m.data.removed, m.data.block_hash])).toEqual([
      [5, true, old.get(5)],
      [4, true, old.get(4)],
      [4, false, provider.chain[4]!.block.hash],
      [5, false, provider.chain[5]!.block.hash],
    ])
    expect(heads[2]!.data.header).toMatchObject({ hash: provider.chain[4]!.block.hash, parentHash: provider.chain[3]!.block.hash })
  })

  it('takes back a branch that forked below the oldest block held (a reorg right after tracking began), the upstream vouching for the fork point', async () => {
    const { provider, tracker, watches } = await setup()
    for (let i = 0; i < 3; i++) provider.mine([LOG, LOG])
    tracker.poke()
    await waitFor('tracked', () => tracker.cursor?.number === 4)
    const oldest = tracker.store.oldestCanonical()!
    const first: WatchMessage[] = []
    const a = watches.open(request({ startBlock: 1, head: 4 }), (m) => first.push(m))
    await waitFor('read to 4', () => first.some((m) => m.type === 'progress' && m.data.block_number === 4))
    a.stop()
    const cursor = lastProgress(first)

    // Away: every block from the oldest one held up is replaced; its parent stays.
    provider.reorg(4 - oldest + 1, [LOG])
    provider.mine([LOG])
    tracker.poke()
    await waitFor('reorg applied', () => tracker.cursor?.number === 5 && tracker.store.canonicalHash(4) === provider.chain[4]!.block.hash)
    expect(tracker.store.blockAt(oldest - 1)).toBeUndefined()

    const second: WatchMessage[] = []
    watches.open(request({ startBlock: 5, head: 5, resume: { number: cursor.block_number, hash: cursor.block_hash } }), (m) => second.push(m))
    await waitFor('caught up', () => second.some((m) => m.type === 'progress' && m.data.block_number === 5))
    expect(second.filter((m) => m.type === 'error')).toEqual([])
    const removed = logsOf(second).filter((m) => m.removed)
    expect(removed.map((m) => m.log.blockNumber)).toEqual(
      logsOf(first)
        .filter((m) => m.log.blockNumber >= oldest)
        .map((m) => m.log.blockNumber)
        .reverse(),
    )
    const held = replay(second, replay(first))
    expect([...held.values()].map((m) => m.log.raw)).toEqual(canonicalLogs(provider, 1, 5))
  })

  it('refuses a cursor naming a block this store never held', async () => {
    const { provider, tracker, watches } = await setup()
    for (let i = 0; i < 2; i++) provider.mine([LOG])
    tracker.poke()
    await waitFor('tracked', () => tracker.cursor?.number === 3)
    const messages: WatchMessage[] = []
    watches.open(request({ startBlock: 3, head: 3, resume: { number: 2, hash: `0x${'ab'.repeat(32)}` } }), (m) => messages.push(m))
    await waitFor('error', () => messages.some((m) => m.type === 'error'))
    expect(messages).toEqual([
      {
        type: 'error',
        data: { code: 'invalid_cursor', message: expect.stringContaining('never stored'), details: { field: 'cursor', reason: 'unknown_block' } },
      },
    ])
  })
})

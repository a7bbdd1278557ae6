/**
 * ConnectionChain across changes of turn: a watch's filter is registered with each new keeper
 * (inactive until that keeper holds its logs, then 'activated'); events come from the current
 * keeper only; and when the new keeper's canonical chain differs from what the last one held,
 * the difference is announced as a reorg, newest block first, down to where both agree.
 */
import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import type { BlockWithLogs, ChainReads, Cursor, LogFilter } from '../store/chain-store'
import type { ChainView, ChainViewEvents, FilterRegistration } from './chain-view'
import { ConnectionChain } from './connection-chain'
import { createTrackerWatchProvider } from './tracker-watch'
import type { WatchMessage } from './watch-types'
import type { ConnectionPool } from '../upstream/connection-pool'

const hash = (n: number, branch = 0): string => `0x${(n * 10 + branch).toString(16).padStart(64, '0')}`
const block = (n: number, branch = 0, parentBranch = branch): BlockWithLogs => ({
  block: { number: n, hash: hash(n, branch), parentHash: hash(n - 1, parentBranch), timestamp: n, header: {} },
  logs: [],
})

/** A keeper holding `blocks` canonical (oldest first), finalized at `finalized`. */
class FakeKeeper extends EventEmitter<ChainViewEvents> implements ChainView {
  readonly registered: { filter: LogFilter; released: boolean; activate: () => void }[] = []
  prompt = 0
  readonly store: ChainReads

  constructor(blocks: BlockWithLogs[], finalized = -1) {
    super()
    const byNumber = new Map(blocks.map((b) => [b.block.number, b]))
    const top = blocks.at(-1)!.block
    const cursor: Cursor = { firstBlock: blocks[0]!.block.number, number: top.number, hash: top.hash, finalized }
    this.store = {
      cursor: () => cursor,
      oldestCanonical: () => blocks[0]!.block.number,
      blockAt: (n) => byNumber.get(n)?.block,
      canonicalHash: (n) => byNumber.get(n)?.block.hash,
      canonicalRange: (from, to) => blocks.filter((b) => b.block.number >= from && b.block.number <= to),
      branchOf: () => ({ state: 'unknown' }),
      canonicalLogs: () => [],
    }
  }

  get cursor(): Cursor | undefined {
    return this.store.cursor()
  }

  chainId(): Promise<number> {
    return Promise.resolve(1)
  }

  poke(): void {}

  registerFilter(filter: LogFilter): FilterRegistration {
    let resolve!: () => void
    const ready = new Promise<void>((r) => (resolve = r))
    const entry = { filter, released: false, active: false, activate: () => ((entry.active = true), resolve()) }
    this.registered.push(entry)
    return {
      filter,
      get active() {
        return entry.active
      },
      ready,
      release: () => (entry.released = true),
    }
  }

  wantPromptFinality(): () => void {
    this.prompt += 1
    return () => (this.prompt -= 1)
  }
}

const noKeeper = () => new Error('nobody keeps it')

describe('ConnectionChain', () => {
  it('registers a watch’s filter with each keeper in turn, active only once the current one holds it', async () => {
    const chain = new ConnectionChain(noKeeper)
    const filter = { address: ['0x00000000000000000000000000000000000000aa'] }
    const registration = chain.registerFilter(filter)
    expect(registration.active).toBe(false)
    await expect(chain.chainId()).rejects.toThrow('nobody keeps it')

    const following = new FakeKeeper([block(10), block(11)])
    let activated = 0
    chain.on('activated', () => (activated += 1))
    chain.setSource(following)
    expect(following.registered.map((r) => r.filter)).toEqual([filter])
    following.registered[0]!.activate()
    await registration.ready
    expect(registration.active).toBe(true)
    expect(activated).toBe(1)

    // A new keeper: the last one's registration is released, the new one's starts inactive.
    const capturing = new FakeKeeper([block(10), block(11), block(12)])
    chain.setSource(capturing)
    expect(following.registered[0]!.released).toBe(true)
    expect(registration.active).toBe(false)
    capturing.registered[0]!.activate()
    await new Promise((resolve) => setImmediate(resolve))
    expect(registration.active).toBe(true)
    expect(activated).toBe(2)

    // Events come from the current keeper only.
    const heard: number[] = []
    chain.on('finalized', (n) => heard.push(n))
    following.emit('finalized', 5)
    capturing.emit('finalized', 6)
    expect(heard).toEqual([6])

    registration.release()
    expect(capturing.registered[0]!.released).toBe(true)
  })

  it('keeps prompt finality wanted across keepers', () => {
    const chain = new ConnectionChain(noKeeper)
    const release = chain.wantPromptFinality()
    const first = new FakeKeeper([block(1)])
    chain.setSource(first)
    expect(first.prompt).toBe(1)
    const second = new FakeKeeper([block(1)])
    chain.setSource(second)
    expect([first.prompt, second.prompt]).toEqual([0, 1])
    release()
    expect(second.prompt).toBe(0)
  })

  it('announces as a reorg what the last keeper held canonical and the new one does not, and nothing when they agree', () => {
    const chain = new ConnectionChain(noKeeper)
    const reorgs: { orphaned: number[]; ancestor: { number: number; hash: string } }[] = []
    chain.on('reorg', (orphaned, ancestor) => reorgs.push({ orphaned: orphaned.map((o) => o.block.number), ancestor }))
    chain.setSource(new FakeKeeper([block(10), block(11), block(12)]))
    // The same chain, and further: no reorg.
    chain.setSource(new FakeKeeper([block(10), block(11), block(12), block(13)]))
    expect(reorgs).toEqual([])
    // 12 and 13 replaced (another capturer's fork), and one more block on the new branch.
    chain.setSource(new FakeKeeper([block(10), block(11), block(12, 1, 0), block(13, 1), block(14, 1)]))
    expect(reorgs).toEqual([{ orphaned: [13, 12], ancestor: { number: 11, hash: hash(11) } }])
    // The new keeper is behind, its top on another branch: everything above where both agree goes.
    chain.setSource(new FakeKeeper([block(10), block(11), block(12, 2, 0)]))
    expect(reorgs.at(-1)).toEqual({ orphaned: [14, 13, 12], ancestor: { number: 11, hash: hash(11) } })
    // Between turns nobody keeps the chain; the next keeper is compared with the last one all the same.
    const ending = new FakeKeeper([block(10), block(11), block(12, 2, 0), block(13, 2)])
    chain.setSource(ending)
    chain.setSource(null)
    chain.setSource(new FakeKeeper([block(10), block(11), block(12, 3, 0)]))
    expect(reorgs.at(-1)).toEqual({ orphaned: [13, 12], ancestor: { number: 11, hash: hash(11) } })
    expect(reorgs).toHaveLength(3)
  })

  it('takes blocks the new keeper pruned as final for agreement', () => {
    const chain = new ConnectionChain(noKeeper)
    const reorgs: number[][] = []
    chain.on('reorg', (orphaned) => reorgs.push(orphaned.map((o) => o.block.number)))
    chain.setSource(new FakeKeeper([block(10), block(11), block(12)]))
    // Finalized at 12: blocks below it are pruned from the new keeper's window.
    chain.setSource(new FakeKeeper([block(12), block(13)], 12))
    expect(reorgs).toEqual([])
  })

  it('ends the watches on it with upstream_unavailable when the connection stops running here', async () => {
    const chain = new ConnectionChain(noKeeper)
    const keeper = new FakeKeeper([block(10), block(11)])
    chain.setSource(keeper)
    // A live-only watch asks the upstream nothing: no pool is used.
    const noPool = {} as ConnectionPool
    const sent: WatchMessage[] = []
    createTrackerWatchProvider(chain, noPool).open(
      { kind: 'newHeads', filter: {}, startBlock: 12, head: 11, fetchSnapshot: false, listen: true, irreversibleOnly: false, withProgress: 0, chainId: 1 },
      (message) => sent.push(message),
    )
    await new Promise((resolve) => setImmediate(resolve))
    expect(sent.map((m) => m.type)).toEqual(['listening'])
    chain.close()
    expect(sent.at(-1)).toMatchObject({ type: 'error', data: { code: 'upstream_unavailable' } })
    // Nothing more comes from the last keeper.
    keeper.emit('blocks', [block(12)])
    expect(sent).toHaveLength(2)
  })
})

/**
 * FollowedChain over a scripted followed store: what a catch-up brings is announced as the
 * tracker announces it (reorg, then blocks, then finality); a filter is active exactly while
 * the store says the capturer holds it; a store that keeps failing is retried with backoff
 * and said once, not at every retry.
 */
import { describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/scripted-server'
import type { BlockWithLogs, ChainChanges, FollowedChainStore, LogFilter } from '../store/chain-store'
import { FollowedChain } from './followed-chain'

const hash = (n: number, branch = 0): string => `0x${(n * 10 + branch).toString(16).padStart(64, '0')}`
const block = (n: number, branch = 0): BlockWithLogs => ({
  block: { number: n, hash: hash(n, branch), parentHash: hash(n - 1), timestamp: n, header: {} },
  logs: [],
})

/** Answers each catch-up with the next scripted outcome (an error, or the changes); records what was shared. */
class ScriptedStore implements FollowedChainStore {
  readonly outcomes: (Error | Partial<ChainChanges>)[] = []
  readonly shared = new Map<number, LogFilter | 'prompt'>()
  catchUps = 0
  private listener: (() => void) | null = null
  private key = 0

  cursor = () => undefined
  oldestCanonical = () => undefined
  blockAt = () => undefined
  canonicalHash = () => undefined
  canonicalRange = () => []
  branchOf = () => ({ state: 'unknown' as const })
  canonicalLogs = () => []

  catchUp(): Promise<() => ChainChanges> {
    this.catchUps += 1
    const next = this.outcomes.shift() ?? {}
    if (next instanceof Error) return Promise.reject(next)
    return Promise.resolve(() => ({ orphaned: [], ancestor: null, appended: [], finalized: null, activeFilters: new Set(), ...next }))
  }

  onChanged(listener: () => void): () => void {
    this.listener = listener
    return () => (this.listener = null)
  }

  changed(): void {
    this.listener?.()
  }

  shareFilter(filter: LogFilter): number {
    this.shared.set(++this.key, filter)
    return this.key
  }

  sharePromptFinality(): number {
    this.shared.set(++this.key, 'prompt')
    return this.key
  }

  unshare(key: number): void {
    this.shared.delete(key)
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}

function follow(store: ScriptedStore) {
  const logs: string[] = []
  const chain = new FollowedChain(store, { chainId: () => Promise.resolve(1), log: (m) => logs.push(m), retryMs: 5 })
  const heard: string[] = []
  chain.on('reorg', (orphaned, ancestor) => heard.push(`reorg ${orphaned.map((o) => o.block.number).join(',')} to ${ancestor.number}`))
  chain.on('blocks', (blocks) => heard.push(`blocks ${blocks.map((b) => b.block.number).join(',')}`))
  chain.on('finalized', (n) => heard.push(`finalized ${n}`))
  chain.on('activated', () => heard.push('activated'))
  return { chain, logs, heard }
}

describe('FollowedChain', () => {
  it('announces a catch-up as the tracker would: the reorg, then the new blocks, then finality', async () => {
    const store = new ScriptedStore()
    const { chain, heard } = follow(store)
    store.outcomes.push({ orphaned: [block(12), block(11)], ancestor: { number: 10, hash: hash(10) }, appended: [block(11, 1), block(12, 1)], finalized: 9 })
    store.changed()
    await chain.idle()
    expect(heard).toEqual(['reorg 12,11 to 10', 'blocks 11,12', 'finalized 9'])
    await chain.stop()
  })

  it('holds a filter active exactly while the store says the capturer holds its logs, and shares it until released', async () => {
    const store = new ScriptedStore()
    const { chain, heard } = follow(store)
    const registration = chain.registerFilter({ address: ['0x00000000000000000000000000000000000000aa'] })
    const [key] = [...store.shared.keys()]
    expect(registration.active).toBe(false)
    store.outcomes.push({ activeFilters: new Set([key!]) })
    chain.poke()
    await registration.ready
    await chain.idle()
    expect(registration.active).toBe(true)
    expect(heard).toEqual(['activated'])
    // Swept by the capturer and registered again: inactive until it holds the logs again.
    store.outcomes.push({ activeFilters: new Set() })
    chain.poke()
    await chain.idle()
    expect(registration.active).toBe(false)
    const release = chain.wantPromptFinality()
    expect([...store.shared.values()]).toContain('prompt')
    release()
    registration.release()
    expect(store.shared.size).toBe(0)
    await chain.stop()
  })

  it('tries a failing store again with backoff, says so once, and announces once it answers', async () => {
    const store = new ScriptedStore()
    const { chain, logs, heard } = follow(store)
    const troubles: string[] = []
    chain.on('trouble', (message) => troubles.push(message))
    store.outcomes.push(
      new Error('connect ECONNREFUSED 127.0.0.1:5432'),
      new Error('connect ECONNREFUSED 127.0.0.1:5432'),
      new Error('connect ECONNREFUSED 127.0.0.1:5432'),
    )
    store.outcomes.push({ appended: [block(5)] })
    store.changed()
    await waitFor('the catch-up that worked', () => heard.includes('blocks 5'))
    expect(store.catchUps).toBe(4)
    expect(troubles).toHaveLength(3)
    expect(logs).toEqual(['following the stored chain: connect ECONNREFUSED 127.0.0.1:5432; trying again'])
    await chain.stop()
  })
})

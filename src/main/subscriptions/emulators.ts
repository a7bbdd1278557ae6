/**
 * Subscription types built by Tidewatch where the upstream lacks them: the pending alchemy_*
 * types from newPendingTransactions, alchemy_minedTransactions from new blocks, syncing by
 * polling eth_syncing. Each returns a stop function and says how it works for the UI.
 */
import type { SubscriptionSpec } from '../../shared/subscription-params'
import type { ConnectionPool, SubscriptionHandle } from '../upstream/connection-pool'
import { isUnsupported } from '../upstream/rpc-errors'
import { hashesOnly, minedFilter, pendingFilter, type TxLike } from './transaction-filters'

const HASH32 = /^0x[0-9a-fA-F]{64}$/

export interface Emulation {
  description: string
  stop(): Promise<void>
}

export interface EmulatorContext {
  pool: ConnectionPool
  /** Delivers one raw result, shaped as the native subscription would send it. */
  deliver: (result: unknown) => void
  fail: (error: Error) => void
  log: (message: string) => void
  syncingPollMs?: number
  lookupConcurrency?: number
}

export function canEmulate(type: SubscriptionSpec['type']): boolean {
  return type.startsWith('alchemy_') || type === 'syncing'
}

export async function startEmulation(spec: SubscriptionSpec, ctx: EmulatorContext): Promise<Emulation> {
  switch (spec.type) {
    case 'alchemy_newFullPendingTransactions':
    case 'alchemy_filteredNewFullPendingTransactions':
    case 'alchemy_pendingTransactions':
      return emulatePending(spec, ctx)
    case 'alchemy_minedTransactions':
      return emulateMined(spec, ctx)
    case 'syncing':
      return emulateSyncing(ctx)
    default:
      throw new Error(`${spec.type} cannot be emulated`)
  }
}

/** Looks up transactions by hash with bounded concurrency; a backlog past `max` drops the oldest. */
class LookupQueue {
  private readonly waiting: string[] = []
  private running = 0
  private stopped = false
  constructor(
    private readonly lookup: (hash: string) => Promise<void>,
    private readonly concurrency: number,
    private readonly max = 10_000,
  ) {}
  push(hash: string): void {
    if (this.stopped) return
    this.waiting.push(hash)
    if (this.waiting.length > this.max) this.waiting.shift()
    this.pump()
  }
  stop(): void {
    this.stopped = true
    this.waiting.length = 0
  }
  private pump(): void {
    while (this.running < this.concurrency && this.waiting.length > 0 && !this.stopped) {
      const hash = this.waiting.shift()!
      this.running += 1
      void this.lookup(hash).finally(() => {
        this.running -= 1
        this.pump()
      })
    }
  }
}

async function emulatePending(spec: SubscriptionSpec, ctx: EmulatorContext): Promise<Emulation> {
  const matches = pendingFilter(spec)
  const onlyHashes = hashesOnly(spec)
  const emit = (tx: TxLike): void => {
    if (matches(tx)) ctx.deliver(onlyHashes ? tx.hash : tx)
  }
  const queue = new LookupQueue(async (hash) => {
    try {
      const tx = await ctx.pool.request<TxLike | null>('eth_getTransactionByHash', [hash], 15_000)
      // Null: mined and pruned, or dropped, before the lookup; nothing to report.
      if (tx) emit(tx)
    } catch (error) {
      ctx.log(`eth_getTransactionByHash ${hash} failed: ${error instanceof Error ? error.message : String(error)}`)
    }
  }, ctx.lookupConcurrency ?? 8)
  // Some upstreams ignore the `true` and still send hashes: handle both shapes. Anything
  // else is handed on as it is, so that the runner's checks reject it with the field at fault.
  const onResult = (result: unknown): void => {
    if (typeof result === 'string' && HASH32.test(result)) queue.push(result)
    else if (result && typeof result === 'object' && !Array.isArray(result)) emit(result)
    else ctx.deliver(result)
  }
  let handle: SubscriptionHandle
  let description = 'built from newPendingTransactions with full transactions, filtered by Tidewatch'
  try {
    handle = await ctx.pool.acquire(['newPendingTransactions', true], onResult, ctx.fail)
  } catch (error) {
    if (!isUnsupported(error)) throw error
    handle = await ctx.pool.acquire(['newPendingTransactions'], onResult, ctx.fail)
    description = 'built from newPendingTransactions hashes and eth_getTransactionByHash lookups, filtered by Tidewatch'
  }
  return {
    description,
    async stop() {
      queue.stop()
      await handle.release()
    },
  }
}

async function emulateMined(spec: Extract<SubscriptionSpec, { type: 'alchemy_minedTransactions' }>, ctx: EmulatorContext): Promise<Emulation> {
  const matches = minedFilter(spec)
  const onlyHashes = hashesOnly(spec)
  // Blocks are processed one after another so transactions keep block order.
  let chain = Promise.resolve()
  let stopped = false
  const handle = await ctx.pool.acquire(
    ['newHeads'],
    (head) => {
      const hash = (head as { hash?: unknown } | null)?.hash
      if (typeof hash !== 'string' || !HASH32.test(hash)) {
        ctx.log('newHeads result without a 32-byte hash; no block to look up')
        return
      }
      chain = chain.then(async () => {
        if (stopped) return
        try {
          const block = await ctx.pool.request<{ transactions?: unknown } | null>('eth_getBlockByHash', [hash, true], 20_000)
          const transactions = block?.transactions ?? []
          if (!Array.isArray(transactions)) {
            ctx.log(`eth_getBlockByHash ${hash} answered transactions that are not a list; block skipped`)
            return
          }
          for (const tx of transactions as unknown[]) {
            // Not an object: the runner's checks reject it with the field at fault.
            if (typeof tx !== 'object' || tx === null) ctx.deliver({ removed: false, transaction: tx })
            else if (matches(tx)) ctx.deliver({ removed: false, transaction: onlyHashes ? { hash: (tx as TxLike).hash } : tx })
          }
        } catch (error) {
          ctx.log(`eth_getBlockByHash ${hash} failed: ${error instanceof Error ? error.message : String(error)}`)
        }
      })
    },
    ctx.fail,
  )
  return {
    description: 'built from newHeads and eth_getBlockByHash, filtered by Tidewatch',
    async stop() {
      stopped = true
      await handle.release()
    },
  }
}

async function emulateSyncing(ctx: EmulatorContext): Promise<Emulation> {
  const intervalMs = ctx.syncingPollMs ?? 5_000
  let last: string | null = null
  let timer: NodeJS.Timeout | null = null
  let stopped = false
  const poll = async (): Promise<void> => {
    try {
      const status = await ctx.pool.request<unknown>('eth_syncing', [], Math.min(intervalMs, 15_000))
      const text = JSON.stringify(status)
      // Only changes are events; the first answer always is one.
      if (text !== last) {
        last = text
        ctx.deliver(status)
      }
    } catch (error) {
      ctx.log(`eth_syncing failed: ${error instanceof Error ? error.message : String(error)}`)
    }
    if (!stopped) timer = setTimeout(() => void poll(), intervalMs)
  }
  await poll()
  return {
    description: `built by polling eth_syncing every ${Math.round(intervalMs / 1000)} s`,
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
    },
  }
}

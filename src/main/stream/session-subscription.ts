/**
 * The pending-transaction, mined-transaction and `syncing` requests: run with the same
 * SubscriptionRunner as captured subscriptions (native where the upstream offers the type,
 * else emulated), on the upstream connection's pool, so identical subscriptions share one
 * upstream subscription. These types have no history: `listen: false` ends after the
 * snapshot, if any.
 */
import type { StreamRequestOf } from '../../shared/stream-protocol'
import type { SubscriptionSpec } from '../../shared/subscription-params'
import type { NormalizedEvent } from '../store/captured-event'
import { SubscriptionRunner } from '../subscriptions/subscription-runner'
import type { ConnectionPool } from '../upstream/connection-pool'
import { failureCode, isRateLimit, isUnsupported } from '../upstream/rpc-errors'
import type { JsonRpcError } from '../rpc/json-rpc-client'
import { observingSubscribeErrors } from '../upstream/observed-pool'
import { minedTransactionData, pendingTransactionData, syncingData } from './session-messages'
import { errorText } from '../error-text'
import { upstreamErrorDetails, type LiveRequest } from './session-request'
import type { WatchProvider } from '../chain/watch-types'

export type SubscriptionStreamRequest =
  | StreamRequestOf<'newPendingTransactions'>
  | StreamRequestOf<'alchemy_newFullPendingTransactions'>
  | StreamRequestOf<'alchemy_filteredNewFullPendingTransactions'>
  | StreamRequestOf<'alchemy_pendingTransactions'>
  | StreamRequestOf<'alchemy_minedTransactions'>
  | StreamRequestOf<'syncing'>

export interface SubscriptionContext {
  pool: ConnectionPool | null
  watches: WatchProvider
  log: (message: string) => void
}

const SNAPSHOT_TIMEOUT_MS = 15_000
const HEAD_TIMEOUT_MS = 5_000

export async function openSubscription(request: SubscriptionStreamRequest, live: LiveRequest, ctx: SubscriptionContext): Promise<void> {
  const { pool } = ctx
  if (!pool) {
    live.fail('upstream_unavailable', `No upstream connection is running, so ${request.type} cannot be served now; add or start a connection and try again`, {
      reason: 'no_upstream',
    })
    return
  }
  // Only needed for `listening`; read while the snapshot is fetched.
  const nextBlock = request.listen ? nextBlockOrZero(ctx.watches) : null
  let snapshot: string | null = null
  if (request.type === 'syncing' && request.fetch) {
    let status: unknown
    try {
      status = await pool.request<unknown>('eth_syncing', [], SNAPSHOT_TIMEOUT_MS)
    } catch (error) {
      const code = isUnsupported(error) ? 'unsupported_upstream' : failureCode(error)
      live.fail(code, `eth_syncing failed: ${errorText(error)}`, upstreamErrorDetails(error))
      return
    }
    const data = syncingData(status)
    snapshot = JSON.stringify(data)
    live.send('syncing', data)
  }
  if (!request.listen) {
    live.complete()
    return
  }
  const next = await nextBlock!
  if (live.ended) return

  let listening = false
  const startListening = (): void => {
    if (listening) return
    listening = true
    live.send('listening', { next_block: next })
  }
  const sink = (event: NormalizedEvent): void => {
    if (live.ended) return
    startListening()
    if (event.kind === 'syncing') {
      const data = syncingData(event.payload)
      // Emulated syncing reports the current status first; after a snapshot that is no change.
      const repeat = snapshot !== null && JSON.stringify(data) === snapshot
      snapshot = null
      if (!repeat) live.send('syncing', data)
    } else if (event.kind === 'mined_transaction') {
      live.send('mined_transaction', minedTransactionData(event))
    } else {
      live.send('pending_transaction', pendingTransactionData(event))
    }
  }
  const runner = new SubscriptionRunner({
    pool: reportingUpstreamErrors(pool, (error) =>
      live.fail('upstream_error', `The upstream refused ${request.type}: ${errorText(error)}`, upstreamErrorDetails(error)),
    ),
    spec: { type: request.type, params: request.data } as SubscriptionSpec,
    sink,
    log: (message) => ctx.log(`request ${live.reqId}: ${message}`),
  })
  runner.on('status', (status) => {
    if (live.ended) return
    if (status.state === 'active') startListening()
    if (status.state === 'error') live.fail('unsupported_upstream', status.lastError ?? `The upstream cannot serve ${request.type}`, { type: request.type })
  })
  live.onStop(() => {
    runner.removeAllListeners('status')
    void runner.stop()
  })
  runner.start()
}

async function nextBlockOrZero(watches: WatchProvider): Promise<number> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(-1), HEAD_TIMEOUT_MS)
  })
  try {
    const head = await Promise.race([watches.latestBlock(), timeout])
    return head < 0 ? 0 : head + 1
  } catch {
    return 0
  } finally {
    clearTimeout(timer)
  }
}

/**
 * A JSON-RPC refusal that is neither "unsupported" nor a rate limit (those stay the
 * runner's to handle) ends the request with upstream_error.
 */
function reportingUpstreamErrors(pool: ConnectionPool, report: (error: JsonRpcError) => void): ConnectionPool {
  return observingSubscribeErrors(pool, (error) => {
    if (!isUnsupported(error) && !isRateLimit(error)) report(error)
  })
}

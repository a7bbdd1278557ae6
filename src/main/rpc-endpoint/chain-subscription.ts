/**
 * `logs` and `newHeads` on /v1/rpc, served from the chain tracker the way /v1/stream
 * watches are (PROTOCOL.md section 2): every canonical block's matching logs exactly once,
 * in block and logIndex order, gaps from upstream drops filled before live notifications
 * resume, and on a reorg each delivered log of an orphaned block sent again with
 * `removed: true` before the replacement blocks' logs (geth's semantics); `newHeads` sends
 * the replacement heads and no removal. The subscription starts at the next block, as on
 * a node. No upstream subscription per client: the connection's one `newHeads`
 * subscription drives the tracker, whatever the number of local subscriptions.
 */
import { RPC_ERROR_CODES, type JsonRpcErrorObject } from '../../shared/rpc-protocol'
import type { SubscriptionSpec } from '../../shared/subscription-params'
import { toLogFilter } from '../chain/log-filter'
import { errorText } from '../error-text'
import type { WatchHandle, WatchProvider } from '../chain/watch-types'
import { wireLog } from '../store/chain-store'
import { failureCode } from '../upstream/rpc-errors'
import { upstreamErrorObject } from './upstream-answers'

export type ChainSpec = Extract<SubscriptionSpec, { type: 'logs' | 'newHeads' }>

export function isChainSpec(spec: SubscriptionSpec): spec is ChainSpec {
  return spec.type === 'logs' || spec.type === 'newHeads'
}

export interface ChainSubscriptionTarget {
  /** One notification result: the upstream's log or header object. */
  deliver(result: unknown): void
  /** The watch failed for good; the subscription is gone (JSON-RPC has no way to say so). */
  ended(reason: string): void
}

/** Opens the watch; an error object when it cannot start (no upstream, no answer). */
export async function openChainSubscription(
  spec: ChainSpec,
  watches: WatchProvider,
  target: ChainSubscriptionTarget,
): Promise<{ handle: WatchHandle } | { error: JsonRpcErrorObject }> {
  let head: number
  let chainId: number
  try {
    ;[head, chainId] = await Promise.all([watches.latestBlock(), watches.chainId()])
  } catch (error) {
    return { error: failureCode(error) === 'internal_error' ? internalError(spec, error) : upstreamErrorObject(error, 'eth_subscribe') }
  }
  try {
    const handle = watches.open(
      {
        kind: spec.type,
        filter: spec.type === 'logs' ? toLogFilter(spec.params) : {},
        startBlock: head + 1,
        head,
        fetchSnapshot: false,
        listen: true,
        irreversibleOnly: false,
        withProgress: 0,
        chainId,
      },
      (message) => {
        if (message.type === 'log') target.deliver(wireLog(message.log, message.removed))
        // geth sends no removal for heads: the replacement heads say it.
        else if (message.type === 'head' && !message.data.removed) target.deliver(message.data.header)
        else if (message.type === 'error') target.ended(message.data.message)
      },
    )
    return { handle }
  } catch (error) {
    return { error: internalError(spec, error) }
  }
}

function internalError(spec: ChainSpec, error: unknown): JsonRpcErrorObject {
  return { code: RPC_ERROR_CODES.internalError, message: `Could not start the ${spec.type} subscription: ${errorText(error)}` }
}

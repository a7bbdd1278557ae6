/**
 * `eth_subscribe` and `eth_unsubscribe` for one /v1/rpc socket: its subscriptions by id.
 * Ids are random, 16 bytes of hex like the seed's, so an id from another socket is
 * unknown here (`eth_unsubscribe` answers false) and cannot be guessed.
 */
import { randomBytes } from 'node:crypto'
import { parseSubscribeParams, parseUnsubscribeParams, RPC_ERROR_CODES, type JsonRpcRequest } from '../../shared/rpc-protocol'
import type { ConnectionPool } from '../upstream/connection-pool'
import type { WatchProvider } from '../chain/watch-types'
import { isChainSpec, openChainSubscription } from './chain-subscription'
import { LocalSubscription } from './local-subscription'
import type { MethodOutcome } from './outcome'
import { RpcSubscriptionError, type SharedSubscriptions } from './shared-subscriptions'
import { errorText } from '../error-text'
import { noUpstreamError } from './upstream-answers'

export interface SocketSubscriptionsOptions {
  shared: SharedSubscriptions
  pool: () => ConnectionPool | null
  /** The chain tracker's watches, which serve `logs` and `newHeads`. */
  watches: WatchProvider
  /** Sends one `eth_subscription` notification. */
  notify: (subscription: string, result: unknown) => void
  log: (message: string) => void
  maxSubscriptions: number
}

export class SocketSubscriptions {
  private readonly live = new Map<string, LocalSubscription>()
  private closed = false

  constructor(private readonly options: SocketSubscriptionsOptions) {}

  async subscribe(params: JsonRpcRequest['params']): Promise<MethodOutcome> {
    const spec = parseSubscribeParams(params)
    if (!spec.ok) return { error: spec.error }
    if (this.closed) return { error: { code: RPC_ERROR_CODES.internalError, message: 'The connection is closing' } }
    const pool = this.options.pool()
    if (!pool) return { error: noUpstreamError('eth_subscribe') }
    if (this.live.size >= this.options.maxSubscriptions) {
      return {
        error: {
          code: RPC_ERROR_CODES.limitExceeded,
          message: `This connection already has ${this.live.size} subscriptions, the limit; unsubscribe some or open another connection`,
          data: { limit: this.options.maxSubscriptions },
        },
      }
    }
    const id = this.newId()
    const local = new LocalSubscription(id, (result) => this.options.notify(id, result))
    this.live.set(id, local)
    const ended = (reason: string): void => {
      // JSON-RPC has no way to tell the client; the id becomes unknown, as on a node that dropped it.
      if (this.live.get(id) === local) this.live.delete(id)
      local.close()
      this.options.log(`rpc subscription ${id} (${spec.value.type}) ended: ${reason}`)
    }
    if (isChainSpec(spec.value)) {
      const opened = await openChainSubscription(spec.value, this.options.watches, { deliver: (result) => local.deliver(result), ended })
      if ('error' in opened) {
        if (this.live.get(id) === local) this.live.delete(id)
        local.close()
        return { error: opened.error }
      }
      local.attach({ started: Promise.resolve(), release: () => opened.handle.stop() })
      return { result: id, answered: () => local.answered() }
    }
    const membership = this.options.shared.join(pool, spec.value, { deliver: (result) => local.deliver(result), ended })
    local.attach(membership)
    try {
      await membership.started
    } catch (error) {
      if (this.live.get(id) === local) this.live.delete(id)
      local.close()
      if (error instanceof RpcSubscriptionError) return { error: error.error }
      return { error: { code: RPC_ERROR_CODES.internalError, message: `Could not start the ${spec.value.type} subscription: ${errorText(error)}` } }
    }
    return { result: id, answered: () => local.answered() }
  }

  unsubscribe(params: JsonRpcRequest['params']): MethodOutcome {
    const id = parseUnsubscribeParams(params)
    if (!id.ok) return { error: id.error }
    const local = this.live.get(id.value)
    if (!local) return { result: false }
    this.live.delete(id.value)
    local.close()
    return { result: true }
  }

  /** The socket closed: every subscription goes, and with the last local subscriber its upstream one. */
  closeAll(): void {
    this.closed = true
    const all = [...this.live.values()]
    this.live.clear()
    for (const local of all) local.close()
  }

  private newId(): string {
    let id: string
    do id = `0x${randomBytes(16).toString('hex')}`
    while (this.live.has(id))
    return id
  }
}

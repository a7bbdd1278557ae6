/**
 * A view of a pool that reports every JSON-RPC error of a subscribe: the first
 * `eth_subscribe` and a resubscribe that failed after a reconnect. The SubscriptionRunner
 * retries such errors by itself; an API client waiting for its subscription is better
 * served by the upstream's answer than by retries it cannot see. The view shares
 * everything else with the pool.
 */
import { JsonRpcError } from '../rpc/json-rpc-client'
import type { ConnectionPool } from './connection-pool'

export function observingSubscribeErrors(pool: ConnectionPool, observe: (error: JsonRpcError) => void): ConnectionPool {
  const report = (error: unknown): void => {
    if (error instanceof JsonRpcError) observe(error)
  }
  const view = Object.create(pool) as ConnectionPool
  view.request = pool.request.bind(pool)
  view.acquire = async (params, onResult, onError) => {
    try {
      return await pool.acquire(params, onResult, (error) => {
        report(error)
        onError?.(error)
      })
    } catch (error) {
      report(error)
      throw error
    }
  }
  return view
}

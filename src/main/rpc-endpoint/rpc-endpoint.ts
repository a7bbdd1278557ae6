/**
 * The `/v1/rpc` route of the HTTP server; the token was checked at the upgrade. One
 * SharedSubscriptions per route, so identical subscriptions of different sockets share
 * one upstream subscription.
 */
import { RPC_PATH } from '../../shared/rpc-protocol'
import type { SocketRoute } from '../server/http-server'
import { serveRpcSocket, type RpcDeps } from './rpc-session'
import { SharedSubscriptions, type SharedSubscriptionsOptions } from './shared-subscriptions'

export type RpcRouteOptions = RpcDeps & Pick<SharedSubscriptionsOptions, 'startTimeoutMs' | 'syncingPollMs'>

export function rpcRoute(options: RpcRouteOptions): SocketRoute {
  const shared = new SharedSubscriptions({
    log: options.log,
    ...(options.startTimeoutMs ? { startTimeoutMs: options.startTimeoutMs } : {}),
    ...(options.syncingPollMs ? { syncingPollMs: options.syncingPollMs } : {}),
  })
  return { path: RPC_PATH, onConnection: (socket) => serveRpcSocket(socket, options, shared) }
}

/** Every method other than eth_subscribe/eth_unsubscribe: sent upstream, its answer returned as is. */
import { RPC_ERROR_CODES, type JsonRpcRequest } from '../../shared/rpc-protocol'
import type { ConnectionPool } from '../upstream/connection-pool'
import type { MethodOutcome } from './outcome'
import { noUpstreamError, upstreamErrorObject } from './upstream-answers'

export async function forwardRequest(pool: ConnectionPool | null, request: JsonRpcRequest, timeoutMs: number): Promise<MethodOutcome> {
  // Ethereum methods take params by position only; geth refuses by-name params with -32602 too.
  if (!Array.isArray(request.params)) {
    return {
      error: {
        code: RPC_ERROR_CODES.invalidParams,
        message: `Invalid params: params: ${request.method} takes its params by position (an array)`,
        data: { field: 'params' },
      },
    }
  }
  if (!pool) return { error: noUpstreamError(request.method) }
  try {
    const result = await pool.request<unknown>(request.method, request.params, timeoutMs)
    // A response must carry `result`; an HTTP upstream that sent none is answered as null.
    return { result: result === undefined ? null : result }
  } catch (error) {
    return { error: upstreamErrorObject(error, request.method) }
  }
}

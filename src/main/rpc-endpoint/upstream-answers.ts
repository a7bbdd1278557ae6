/**
 * What /v1/rpc tells a client when the upstream fails: the upstream's own JSON-RPC error,
 * unchanged, where there is one; else a server error that says what went wrong.
 */
import { RPC_ERROR_CODES, type JsonRpcErrorObject } from '../../shared/rpc-protocol'
import { JsonRpcError } from '../rpc/json-rpc-client'
import { errorText } from '../error-text'

/** The client sees the upstream's message as the upstream wrote it (JsonRpcError's own message names the method). */
export function upstreamErrorObject(error: unknown, method: string): JsonRpcErrorObject {
  if (error instanceof JsonRpcError) {
    const message = error.upstreamMessage ?? error.message
    return error.data === undefined ? { code: error.code, message } : { code: error.code, message, data: error.data }
  }
  return { code: RPC_ERROR_CODES.upstreamUnavailable, message: `The upstream did not answer ${method}: ${errorText(error)}` }
}

export function noUpstreamError(method: string): JsonRpcErrorObject {
  return {
    code: RPC_ERROR_CODES.upstreamUnavailable,
    message: `No upstream connection is running, so Tidewatch cannot serve ${method}; add or start a connection and try again`,
  }
}

/**
 * Retries a request that failed for a transient reason: the socket dropped mid-request, a
 * timeout, a rate limit. An answered JSON-RPC error (other than a rate limit) is final.
 */
import { JsonRpcError } from '../rpc/json-rpc-client'
import { isRateLimit } from './rpc-errors'

export async function withRetry<T>(attempt: () => Promise<T>, tries = 5, firstDelayMs = 500): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt()
    } catch (error) {
      const final = error instanceof JsonRpcError && !isRateLimit(error)
      if (final || i >= tries - 1) throw error
      await new Promise((resolve) => setTimeout(resolve, firstDelayMs * 2 ** i))
    }
  }
}

/**
 * Retries a request that failed for a transient reason: the socket dropped mid-request, a
 * timeout, a rate limit. An answered JSON-RPC error (other than a rate limit) is final. An
 * answer too large for the socket is retried once (the oversized frame may have been
 * another request's answer) and is final the second time: asking again gets the same answer.
 */
import { JsonRpcError } from '../rpc/json-rpc-client'
import { AnswerTooLargeError, isRateLimit } from './rpc-errors'

export async function withRetry<T>(attempt: () => Promise<T>, tries = 5, firstDelayMs = 500): Promise<T> {
  let tooLarge = 0
  for (let i = 0; ; i++) {
    try {
      return await attempt()
    } catch (error) {
      if (error instanceof AnswerTooLargeError) tooLarge += 1
      const final = (error instanceof JsonRpcError && !isRateLimit(error)) || tooLarge >= 2
      if (final || i >= tries - 1) throw error
      await new Promise((resolve) => setTimeout(resolve, firstDelayMs * 2 ** i))
    }
  }
}

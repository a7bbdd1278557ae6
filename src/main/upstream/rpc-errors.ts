/**
 * What an upstream's JSON-RPC error means for Tidewatch. Providers disagree on codes, so
 * messages are read too: anvil answers -32602 "data did not match any variant" for
 * alchemy_* and -32603 "Not implemented" for syncing; Alchemy and Infura use -32005 and
 * 429-style messages for rate limits.
 */
import { ConnectionClosedError, JsonRpcError, RequestTimeoutError } from '../rpc/json-rpc-client'

export function isRateLimit(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  // Infura answers -32005 for result-size limits too ("query returned more than 10000 results"): not a rate limit.
  if (/query returned more than|block range|range (is )?too (large|wide)/i.test(error.message)) return false
  const code = error instanceof JsonRpcError ? error.code : undefined
  return code === -32005 || code === 429 || /rate.?limit|too many requests|\b429\b|exceeded.*(capacity|limit|quota)|compute units/i.test(error.message)
}

/** The upstream does not offer this subscription type (so Tidewatch may build it). */
export function isUnsupported(error: unknown): boolean {
  if (!(error instanceof JsonRpcError) || isRateLimit(error)) return false
  if (error.code === -32601 || error.code === -32602) return true
  return /not (implemented|supported|available)|unsupported|unknown (subscription|method)|does not exist|did not match/i.test(error.message)
}

/** No upstream connection is configured or running for what was asked. */
export class NoUpstreamError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'NoUpstreamError'
  }
}

/** No answer from the upstream at all: no connection, a closed socket, a timeout, an unreachable HTTP endpoint. */
export function isUpstreamUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  if (error instanceof NoUpstreamError || error instanceof RequestTimeoutError || error instanceof ConnectionClosedError) return true
  return /^(Not connected to the endpoint|The connection is not started|fetch failed)|\bECONNREFUSED\b|\bHTTP [0-9]{3}\b/.test(error.message)
}

/**
 * PROTOCOL.md section 1's code for a failure while serving a request: the upstream
 * answered with an error (`upstream_error`); it did not answer at all
 * (`upstream_unavailable`); or something failed inside Tidewatch (`internal_error`).
 */
export function failureCode(error: unknown): 'upstream_error' | 'upstream_unavailable' | 'internal_error' {
  if (error instanceof JsonRpcError) return 'upstream_error'
  return isUpstreamUnavailable(error) ? 'upstream_unavailable' : 'internal_error'
}

/**
 * An answer over Tidewatch's size limit: an HTTP body cut off, or a WebSocket dropped on a
 * frame over the limit while this request waited (most likely for its answer). Worded as a
 * provider's "response too large" refusal, so that backfillRange halves the block range,
 * and not as a rate limit. No answer came all the same: upstream_unavailable.
 */
export class AnswerTooLargeError extends ConnectionClosedError {
  constructor(
    readonly method: string,
    readonly limitBytes: number,
  ) {
    super(
      `${method}: the upstream's answer was more than ${limitBytes / 1024 / 1024} MiB, Tidewatch's limit for one answer; ask for less, such as a narrower block range`,
    )
    this.name = 'AnswerTooLargeError'
  }
}

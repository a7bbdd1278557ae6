/**
 * What an upstream's JSON-RPC error means for Tidewatch. Providers disagree on codes, so
 * messages are read too: anvil answers -32602 "data did not match any variant" for
 * alchemy_* and -32603 "Not implemented" for syncing; Alchemy and Infura use -32005 and
 * 429-style messages for rate limits.
 */
import { JsonRpcError } from '../rpc/json-rpc-client'

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

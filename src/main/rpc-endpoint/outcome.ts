/** What one /v1/rpc method call comes to, before it is framed as a JSON-RPC response. */
import type { JsonRpcErrorObject } from '../../shared/rpc-protocol'

export type MethodOutcome =
  | {
      result: unknown
      /** Runs once the response carrying the result was sent (or skipped, for a notification). */
      answered?: () => void
    }
  | { error: JsonRpcErrorObject }

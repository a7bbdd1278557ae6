/**
 * One request of a `/v1/stream` connection from admission to its end: it owns the req_id
 * while it lives, stamps that req_id on everything it sends, and stops whatever it runs
 * (a watch, a subscription runner) exactly once. Nothing is sent after the end, so a
 * req_id reused by a later request never receives a stale message.
 */
import type { StreamErrorCode, StreamMessage, StreamMessageData, StreamMessageType } from '../../shared/stream-protocol'
import { JsonRpcError } from '../rpc/json-rpc-client'
import { errorText } from '../error-text'

export class LiveRequest {
  private stopper: (() => void) | null = null
  private done = false

  constructor(
    readonly reqId: string,
    private readonly emit: (message: StreamMessage) => void,
    private readonly released: (request: LiveRequest) => void,
    private readonly log: (message: string) => void,
  ) {}

  get ended(): boolean {
    return this.done
  }

  send<T extends Exclude<StreamMessageType, 'error' | 'complete'>>(type: T, data: StreamMessageData[T]): void {
    if (!this.done) this.emit({ type, req_id: this.reqId, data } as StreamMessage)
  }

  /** Everything was delivered (`listen: false`). */
  complete(): void {
    if (this.done) return
    this.emit({ type: 'complete', req_id: this.reqId, data: {} })
    this.end()
  }

  /** An error answers the request and ends it. */
  fail(code: StreamErrorCode, message: string, details?: Record<string, unknown>): void {
    if (this.done) return
    this.emit({ type: 'error', req_id: this.reqId, data: details ? { code, message, details } : { code, message } })
    this.end()
  }

  /** How to stop what the request runs; runs at once when the request ended while it was being set up. */
  onStop(stop: () => void): void {
    if (this.done) this.runStop(stop)
    else this.stopper = stop
  }

  /** Ends silently (unlisten, connection closed) and frees the req_id. */
  end(): void {
    if (this.done) return
    this.done = true
    this.released(this)
    const stop = this.stopper
    this.stopper = null
    if (stop) this.runStop(stop)
  }

  private runStop(stop: () => void): void {
    try {
      stop()
    } catch (error) {
      this.log(`request ${this.reqId}: stopping failed: ${errorText(error)}`)
    }
  }
}

/** Details of an upstream failure: the JSON-RPC error's code, message and data when it is one. */
export function upstreamErrorDetails(error: unknown): Record<string, unknown> {
  if (error instanceof JsonRpcError) return { code: error.code, message: error.message, ...(error.data !== undefined ? { data: error.data } : {}) }
  return { message: errorText(error) }
}

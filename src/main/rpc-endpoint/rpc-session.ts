/**
 * One `/v1/rpc` connection (PROTOCOL.md section 2): JSON-RPC 2.0 frames, single or batch,
 * answered per the spec (parse errors with id null, no answer to notifications, a batch
 * answered as one array in request order). `eth_subscribe`/`eth_unsubscribe` are served
 * here; every other method goes to the upstream. Nothing a client sends may throw out of
 * the socket handler.
 */
import type { RawData, WebSocket } from 'ws'
import {
  MAX_BATCH_LENGTH,
  MAX_SUBSCRIPTIONS_PER_CONNECTION,
  parseRpcRequest,
  RPC_ERROR_CODES,
  type JsonRpcErrorObject,
  type JsonRpcId,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type SubscriptionNotification,
} from '../../shared/rpc-protocol'
import { boundedSender, DEFAULT_MAX_BUFFERED_BYTES } from '../server/socket-send'
import type { ConnectionPool } from '../upstream/connection-pool'
import type { WatchProvider } from '../chain/watch-types'
import { forwardRequest } from './forward-request'
import type { MethodOutcome } from './outcome'
import type { SharedSubscriptions } from './shared-subscriptions'
import { SocketSubscriptions } from './socket-subscriptions'
import { errorText } from '../error-text'

export interface RpcDeps {
  /** The upstream connection's pool; null while there is none. */
  pool: () => ConnectionPool | null
  /** The chain tracker's watches (logs and newHeads are served from the tracker, never straight from the upstream). */
  watches: WatchProvider
  log: (message: string) => void
  /** Subscriptions per connection; PROTOCOL.md adopts Alchemy's 1,000. */
  maxSubscriptions?: number
  /** A client that lets this much go unread is disconnected rather than buffered without bound. */
  maxBufferedBytes?: number
  /** How long a forwarded request may wait for the upstream. */
  requestTimeoutMs?: number
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

type Answer = { response: JsonRpcResponse | null; answered: (() => void) | null }

export function serveRpcSocket(socket: WebSocket, deps: RpcDeps, shared: SharedSubscriptions): void {
  const maxBuffered = deps.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES
  const requestTimeoutMs = deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS

  const send: (message: JsonRpcResponse | JsonRpcResponse[] | SubscriptionNotification) => void = boundedSender(socket, maxBuffered, deps.log, 'rpc')

  const subscriptions = new SocketSubscriptions({
    shared,
    pool: deps.pool,
    watches: deps.watches,
    notify: (subscription, result) => send({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription, result } }),
    log: deps.log,
    maxSubscriptions: deps.maxSubscriptions ?? MAX_SUBSCRIPTIONS_PER_CONNECTION,
  })

  const call = (request: JsonRpcRequest): Promise<MethodOutcome> | MethodOutcome => {
    switch (request.method) {
      case 'eth_subscribe':
        return subscriptions.subscribe(request.params)
      case 'eth_unsubscribe':
        return subscriptions.unsubscribe(request.params)
      default:
        return forwardRequest(deps.pool(), request, requestTimeoutMs)
    }
  }

  const answer = async (value: unknown): Promise<Answer> => {
    const parsed = parseRpcRequest(value)
    if (!parsed.ok) return { response: errorResponse(parsed.id, parsed.error), answered: null }
    const { request } = parsed
    let outcome: MethodOutcome
    try {
      outcome = await call(request)
    } catch (error) {
      deps.log(`rpc ${request.method} failed unexpectedly: ${errorText(error)}`)
      outcome = { error: { code: RPC_ERROR_CODES.internalError, message: `Internal error while serving ${request.method}: ${errorText(error)}` } }
    }
    const answered = 'result' in outcome ? (outcome.answered ?? null) : null
    // A notification (no id) is carried out but never answered, errors included (JSON-RPC 2.0, section 4.1).
    if (request.notification) return { response: null, answered }
    const response: JsonRpcResponse = 'error' in outcome ? errorResponse(request.id, outcome.error) : { jsonrpc: '2.0', id: request.id, result: outcome.result }
    return { response, answered }
  }

  const handleFrame = async (text: string): Promise<void> => {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      send(errorResponse(null, { code: RPC_ERROR_CODES.parseError, message: `Parse error: the frame is not JSON (${errorText(error)})` }))
      return
    }
    if (!Array.isArray(json)) {
      const single = await answer(json)
      if (single.response) send(single.response)
      single.answered?.()
      return
    }
    if (json.length === 0) {
      send(errorResponse(null, { code: RPC_ERROR_CODES.invalidRequest, message: 'Invalid request: an empty batch' }))
      return
    }
    if (json.length > MAX_BATCH_LENGTH) {
      send(
        errorResponse(null, {
          code: RPC_ERROR_CODES.invalidRequest,
          message: `Invalid request: a batch of ${json.length} requests; at most ${MAX_BATCH_LENGTH} are served in one batch`,
        }),
      )
      return
    }
    const answers = await Promise.all(json.map(answer))
    const responses = answers.flatMap((a) => (a.response ? [a.response] : []))
    // A batch of notifications only gets nothing back, not an empty array (JSON-RPC 2.0, section 6).
    if (responses.length > 0) send(responses)
    for (const a of answers) a.answered?.()
  }

  socket.on('message', (data) => {
    handleFrame(frameText(data)).catch((error: unknown) => deps.log(`rpc frame failed unexpectedly: ${errorText(error)}`))
  })
  socket.on('close', () => subscriptions.closeAll())
  socket.on('error', () => socket.terminate())
}

function errorResponse(id: JsonRpcId, error: JsonRpcErrorObject): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error }
}

function frameText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8')
  return data.toString('utf8')
}

/**
 * One `/v1/stream` connection (PROTOCOL.md section 1): validates each request frame, keeps
 * the connection's live requests by req_id, and hands `logs`/`newHeads` to the chain
 * tracker's watches and the other subscription types to a SubscriptionRunner. Every
 * failure is answered as an `error` message for that request; the connection stays open.
 */
import type { RawData, WebSocket } from 'ws'
import { MAX_LIVE_REQUESTS, parseStreamRequest, type StreamErrorCode, type StreamMessage, type StreamRequest } from '../../shared/stream-protocol'
import { boundedSender, DEFAULT_MAX_BUFFERED_BYTES } from '../server/socket-send'
import type { ConnectionPool } from '../upstream/connection-pool'
import { errorText } from '../error-text'
import { failureCode } from '../upstream/rpc-errors'
import { LiveRequest } from './session-request'
import { openSubscription } from './session-subscription'
import { openWatch, type LogDecoder } from './session-watch'
import type { WatchProvider } from '../chain/watch-types'

export interface StreamDeps {
  watches: WatchProvider
  /** The upstream connection's pool, for the pending, mined and syncing types; null while there is none. */
  pool: () => ConnectionPool | null
  log: (message: string) => void
  /** A log's event and arguments for `decoded` on log messages (PROTOCOL.md: optional); none when absent. */
  decodeLog?: LogDecoder
  /** Live requests per connection; PROTOCOL.md: 1,000. */
  maxLiveRequests?: number
  /** A client that lets this much go unread is disconnected rather than buffered without bound. */
  maxBufferedBytes?: number
}

export function serveStreamSocket(socket: WebSocket, deps: StreamDeps): void {
  const maxLive = deps.maxLiveRequests ?? MAX_LIVE_REQUESTS
  const maxBuffered = deps.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES
  const live = new Map<string, LiveRequest>()
  let generated = 0

  const emit: (message: StreamMessage) => void = boundedSender(socket, maxBuffered, deps.log, 'stream')
  const answerError = (reqId: string | null, code: StreamErrorCode, message: string, details?: Record<string, unknown>): void =>
    emit({ type: 'error', req_id: reqId, data: details ? { code, message, details } : { code, message } })
  const newReqId = (): string => {
    let id: string
    do id = `tw-${++generated}`
    while (live.has(id))
    return id
  }

  const start = (request: Exclude<StreamRequest, { type: 'ping' | 'unlisten' }>, reqId: string): void => {
    const entry = new LiveRequest(
      reqId,
      emit,
      (ended) => {
        if (live.get(ended.reqId) === ended) live.delete(ended.reqId)
      },
      deps.log,
    )
    live.set(reqId, entry)
    const opened =
      request.type === 'logs' || request.type === 'newHeads'
        ? openWatch(request, entry, deps.watches, deps.log, deps.decodeLog)
        : openSubscription(request, entry, { pool: deps.pool(), watches: deps.watches, log: deps.log })
    opened.catch((error: unknown) => entry.fail(failureCode(error), `Could not start the ${request.type} request: ${errorText(error)}`))
  }

  const handle = (text: string): void => {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      answerError(null, 'invalid_json', `The frame is not JSON: ${errorText(error)}`)
      return
    }
    const parsed = parseStreamRequest(json)
    if (!parsed.ok) {
      answerError(parsed.reqId, 'invalid_request', parsed.message, { field: parsed.field })
      return
    }
    const request = parsed.request
    if (request.type === 'unlisten') {
      const target = live.get(request.data.req_id)
      target?.end()
      emit({ type: 'unlistened', req_id: request.data.req_id, data: { success: target !== undefined } })
      return
    }
    const reqId = request.req_id ?? newReqId()
    if (request.type === 'ping') {
      emit({ type: 'pong', req_id: reqId, data: {} })
      return
    }
    if (live.has(reqId)) {
      answerError(reqId, 'duplicate_req_id', `req_id "${reqId}" belongs to a request that is still live; choose another or unlisten it first`, {
        field: 'req_id',
      })
      return
    }
    if (live.size >= maxLive) {
      answerError(reqId, 'too_many_requests', `This connection already has ${live.size} live requests, the limit; unlisten some or open another connection`, {
        limit: maxLive,
      })
      return
    }
    start(request, reqId)
  }

  socket.on('message', (data) => {
    try {
      handle(frameText(data))
    } catch (error) {
      deps.log(`stream request failed unexpectedly: ${errorText(error)}`)
    }
  })
  socket.on('close', () => {
    for (const request of [...live.values()]) request.end()
  })
  socket.on('error', () => socket.terminate())
}

function frameText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8')
  return data.toString('utf8')
}

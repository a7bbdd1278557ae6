/**
 * The UI transport of headless mode: the contract over a WebSocket, frames per
 * src/shared/ws-protocol.ts. Every frame is validated; a bad one gets an error answer
 * and the socket stays open. Like the /v1 endpoints, a browser tab that stops reading
 * (a frozen or backgrounded tab while blocks stream in) is disconnected rather than
 * buffered without bound.
 */
import type { WebSocket } from 'ws'
import { uiClientFrameSchema, type UiServerFrame } from '../../shared/ws-protocol'
import type { Api } from '../api/api'
import { errorText } from '../error-text'
import { boundedSender, DEFAULT_MAX_BUFFERED_BYTES } from './socket-send'

export interface UiSocketOptions {
  log: (message: string) => void
  /** Unsent bytes at which the socket is dropped; the page reconnects and pages through the store again. */
  maxBufferedBytes?: number
}

export function serveUiSocket(socket: WebSocket, api: Api, options: UiSocketOptions): void {
  const send: (frame: UiServerFrame) => void = boundedSender(socket, options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES, options.log, 'UI')
  const unsubscribe = api.onEvent((event, payload) => send({ event, payload }))
  socket.on('close', unsubscribe)
  socket.on('error', () => socket.terminate())
  socket.on('message', (data) => {
    let json: unknown
    try {
      json = JSON.parse(data.toString())
    } catch {
      send({ id: 0, ok: false, error: { code: 'invalid_request', message: 'Frame is not JSON' } })
      return
    }
    const frame = uiClientFrameSchema.safeParse(json)
    if (!frame.success) {
      const id = typeof (json as { id?: unknown })?.id === 'number' ? (json as { id: number }).id : 0
      send({ id, ok: false, error: { code: 'invalid_request', message: `Malformed frame: ${frame.error.issues[0]?.message ?? 'invalid'}` } })
      return
    }
    const { id, command, payload } = frame.data
    // Like /v1/stream and /v1/rpc: a failure serving one frame is that frame's answer, never an unhandled rejection.
    api
      .handle(command, payload)
      .then((result) => send({ id, ...result }))
      .catch((error: unknown) => {
        options.log(`UI command ${command} failed unexpectedly: ${errorText(error)}`)
        send({ id, ok: false, error: { code: 'internal', message: `${command} failed: ${errorText(error)}` } })
      })
  })
}

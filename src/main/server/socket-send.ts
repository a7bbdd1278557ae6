/**
 * Sending to an API client with a bound on what it leaves unread: a client that stops
 * reading is disconnected rather than buffered without limit (both /v1 endpoints).
 */
import type { WebSocket } from 'ws'

export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024

export function boundedSender(socket: WebSocket, maxBufferedBytes: number, log: (message: string) => void, what: string): (message: unknown) => void {
  return (message) => {
    if (socket.readyState !== socket.OPEN) return
    if (socket.bufferedAmount > maxBufferedBytes) {
      log(`${what} client read too slowly (${socket.bufferedAmount} bytes unsent); disconnecting it`)
      socket.terminate()
      return
    }
    socket.send(JSON.stringify(message))
  }
}

/** The `/v1/stream` route of the HTTP server; the token was checked at the upgrade. */
import { STREAM_PATH } from '../../shared/stream-protocol'
import type { SocketRoute } from '../server/http-server'
import { serveStreamSocket, type StreamDeps } from './stream-session'

export function streamRoute(deps: StreamDeps): SocketRoute {
  return { path: STREAM_PATH, onConnection: (socket) => serveStreamSocket(socket, deps) }
}

/**
 * The headless HTTP server: the renderer's static files at `/`, and token-protected
 * WebSocket endpoints. Every request must name this server in its Host header (and an
 * upgrade from a browser must come from this server's own origin), else 403; an upgrade
 * without a valid token is refused with 401 before any WebSocket exists. Nothing a client
 * sends, or how it hangs up, may throw out of these handlers.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { UI_SOCKET_PATH } from '../../shared/ws-protocol'
import { requestHasToken } from './api-token'
import { createHostPolicy, parseRequestTarget } from './request-guard'
import { serveDownload, serveStatic } from './static-files'

export interface SocketRoute {
  path: string
  onConnection: (socket: WebSocket) => void
}

export interface HttpServerOptions {
  host: string
  port: number
  token: string
  rendererRoot: string
  routes: SocketRoute[]
  /** Files downloadable with the token, e.g. exports: GET <path><name>?token=… */
  downloads?: { path: string; dir: string }
}

export interface RunningHttpServer {
  url: string
  port: number
  close(): Promise<void>
}

/** WebSocket frames larger than this close the connection (1009); the biggest request is far smaller. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024

const MISSING_TOKEN = 'Missing or invalid Tidewatch API token.'

export function uiRoute(onConnection: (socket: WebSocket) => void): SocketRoute {
  return { path: UI_SOCKET_PATH, onConnection }
}

export function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES })
  const hosts = createHostPolicy(options.host)
  const server = http.createServer((request, response) => {
    const plain = (status: number, text: string): void => void response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text)
    const refusal = hosts.refuseRequest(request.headers)
    if (refusal) return plain(403, refusal)
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405).end()
      return
    }
    const target = parseRequestTarget(request.url)
    if (!target) return plain(400, 'Bad request: the request target is not a path.')
    const downloads = options.downloads
    if (downloads && target.pathname.startsWith(downloads.path)) {
      if (!requestHasToken(target, request.headers, options.token)) return plain(401, MISSING_TOKEN)
      serveDownload(downloads, target, response)
      return
    }
    serveStatic(options.rendererRoot, target, response)
  })
  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // From here the socket is ours, not the HTTP server's: a client that resets it
    // mid-upgrade must not leave an 'error' without a listener.
    socket.on('error', () => socket.destroy())
    const refusal = hosts.refuseUpgrade(request.headers)
    if (refusal) return refuseUpgrade(socket, '403 Forbidden', refusal)
    const target = parseRequestTarget(request.url)
    if (!target) return refuseUpgrade(socket, '400 Bad Request', 'Bad request: the request target is not a path.')
    const route = options.routes.find((candidate) => candidate.path === target.pathname)
    if (!route) return refuseUpgrade(socket, '404 Not Found', '')
    if (!requestHasToken(target, request.headers, options.token)) return refuseUpgrade(socket, '401 Unauthorized', MISSING_TOKEN)
    sockets.handleUpgrade(request, socket, head, (ws) => route.onConnection(ws))
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      const { port } = server.address() as AddressInfo
      const host = options.host.includes(':') ? `[${options.host}]` : options.host
      resolve({
        url: `http://${host}:${port}/`,
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const client of sockets.clients) client.terminate()
            sockets.close()
            server.closeAllConnections()
            server.close(() => done())
          }),
      })
    })
  })
}

/** Answers an upgrade request with a plain HTTP error and closes its socket. */
function refuseUpgrade(socket: Duplex, status: string, text: string): void {
  const body = text === '' ? '' : `${text}\r\n`
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
}

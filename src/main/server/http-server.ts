/**
 * The headless HTTP server: the renderer's static files at `/`, and token-protected
 * WebSocket endpoints. A request for an upgrade without a valid token is refused with 401
 * before any WebSocket exists.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import { UI_SOCKET_PATH } from '../../shared/ws-protocol'
import { requestHasToken } from './api-token'
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

export function uiRoute(onConnection: (socket: WebSocket) => void): SocketRoute {
  return { path: UI_SOCKET_PATH, onConnection }
}

export function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 })
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405).end()
      return
    }
    const downloads = options.downloads
    if (downloads && (request.url ?? '').startsWith(downloads.path)) {
      if (!requestHasToken(request, options.token)) {
        response.writeHead(401, { 'content-type': 'text/plain' }).end('Missing or invalid Tidewatch API token.')
        return
      }
      serveDownload(downloads, request, response)
      return
    }
    serveStatic(options.rendererRoot, request, response)
  })
  server.on('upgrade', (request, socket, head) => {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname
    const route = options.routes.find((candidate) => candidate.path === pathname)
    if (!route) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    if (!requestHasToken(request, options.token)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 41\r\n\r\nMissing or invalid Tidewatch API token.\r\n')
      return
    }
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

/**
 * A scripted JSON-RPC WebSocket peer on a free port: each test says how it answers.
 * Used where a real node cannot misbehave on demand (malformed frames, silence, errors).
 */
import { WebSocketServer, type WebSocket } from 'ws'
import type { AddressInfo } from 'node:net'

export interface RpcRequest {
  id: number | string | null
  method: string
  params: unknown[]
}

export type Responder = (request: RpcRequest, socket: WebSocket) => void

export interface ScriptedServer {
  url: string
  sockets: Set<WebSocket>
  requests: RpcRequest[]
  setResponder(responder: Responder): void
  close(): Promise<void>
}

export async function startScriptedServer(responder: Responder): Promise<ScriptedServer> {
  let current = responder
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const sockets = new Set<WebSocket>()
  const requests: RpcRequest[] = []
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('message', (data) => {
      const request = JSON.parse(data.toString()) as RpcRequest
      requests.push(request)
      current(request, socket)
    })
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${port}`,
    sockets,
    requests,
    setResponder: (next) => {
      current = next
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.terminate()
        server.close(() => resolve())
      }),
  }
}

export function reply(socket: WebSocket, id: RpcRequest['id'], result: unknown): void {
  socket.send(JSON.stringify({ jsonrpc: '2.0', id, result }))
}

export function notify(socket: WebSocket, subscription: string, result: unknown): void {
  socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription, result } }))
}

/** Resolves when the predicate holds (or the promise it returns resolves to a truthy value), polling; rejects with the label after the timeout. */
export async function waitFor<T>(
  label: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${label}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

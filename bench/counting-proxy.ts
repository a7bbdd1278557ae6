/**
 * A TCP proxy between Tidewatch and its upstream that counts what crosses it: bytes each
 * way, and the JSON-RPC requests by method (read from the client's WebSocket frames). It
 * drops the client's permessage-deflate offer so frames stay readable; anvil offers none.
 */
import net from 'node:net'
import type { AddressInfo } from 'node:net'

export interface UpstreamCounts {
  bytesUp: number
  bytesDown: number
  requests: Map<string, number>
}

export interface CountingProxy {
  port: number
  snapshot(): UpstreamCounts
  close(): Promise<void>
}

export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  const counts: UpstreamCounts = { bytesUp: 0, bytesDown: 0, requests: new Map() }
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1')
    sockets.add(client).add(upstream)
    const end = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    let handshake: Buffer | null = Buffer.alloc(0)
    let frames: Buffer = Buffer.alloc(0)
    client.on('data', (chunk: Buffer) => {
      if (handshake !== null) {
        handshake = Buffer.concat([handshake, chunk])
        const at = handshake.indexOf('\r\n\r\n')
        if (at < 0) return
        const head = handshake
          .subarray(0, at)
          .toString('latin1')
          .replace(/\r\nSec-WebSocket-Extensions:[^\r]*/i, '')
        const rest = handshake.subarray(at + 4)
        handshake = null
        const out = Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), rest])
        counts.bytesUp += out.length
        upstream.write(out)
        frames = Buffer.concat([frames, rest])
      } else {
        counts.bytesUp += chunk.length
        upstream.write(chunk)
        frames = Buffer.concat([frames, chunk])
      }
      frames = readFrames(frames, (text) => countRequests(text, counts.requests))
    })
    upstream.on('data', (chunk: Buffer) => {
      counts.bytesDown += chunk.length
      client.write(chunk)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    port: (server.address() as AddressInfo).port,
    snapshot: () => ({ bytesUp: counts.bytesUp, bytesDown: counts.bytesDown, requests: new Map(counts.requests) }),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** Calls `onText` for every complete (masked, unfragmented) text frame; returns what is left. */
function readFrames(buffer: Buffer, onText: (text: string) => void): Buffer {
  let offset = 0
  for (;;) {
    if (buffer.length - offset < 2) break
    const opcode = buffer[offset]! & 0x0f
    const masked = (buffer[offset + 1]! & 0x80) !== 0
    let length = buffer[offset + 1]! & 0x7f
    let header = 2
    if (length === 126) {
      if (buffer.length - offset < 4) break
      length = buffer.readUInt16BE(offset + 2)
      header = 4
    } else if (length === 127) {
      if (buffer.length - offset < 10) break
      length = Number(buffer.readBigUInt64BE(offset + 2))
      header = 10
    }
    const maskAt = offset + header
    const dataAt = maskAt + (masked ? 4 : 0)
    if (buffer.length < dataAt + length) break
    if (opcode === 1) {
      const payload = Buffer.from(buffer.subarray(dataAt, dataAt + length))
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= buffer[maskAt + (i % 4)]!
      onText(payload.toString('utf8'))
    }
    offset = dataAt + length
  }
  return buffer.subarray(offset)
}

function countRequests(text: string, requests: Map<string, number>): void {
  try {
    const parsed = JSON.parse(text) as { method?: string } | { method?: string }[]
    for (const request of Array.isArray(parsed) ? parsed : [parsed]) if (request.method) requests.set(request.method, (requests.get(request.method) ?? 0) + 1)
  } catch {
    requests.set('(unreadable)', (requests.get('(unreadable)') ?? 0) + 1)
  }
}

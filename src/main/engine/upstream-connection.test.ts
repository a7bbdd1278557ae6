import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { ConnectionStatus } from '../../shared/contract'
import { notify, reply, startScriptedServer, waitFor, type ScriptedServer } from '../../../test/helpers/scripted-server'
import type { ParsedHead } from './head-parser'
import { UpstreamConnection } from './upstream-connection'

const header = (n: number) => ({
  number: `0x${n.toString(16)}`,
  hash: `0x${n.toString(16).padStart(64, 'a')}`,
  parentHash: `0x${(n - 1).toString(16).padStart(64, 'a')}`,
  timestamp: '0x6553f100',
  gasUsed: '0x5208',
  gasLimit: '0x1c9c380',
  baseFeePerGas: '0x7',
})

let server: ScriptedServer | undefined
let connection: UpstreamConnection | undefined
afterEach(async () => {
  await connection?.stop()
  await server?.close()
  connection = server = undefined
})

describe('UpstreamConnection', () => {
  it('reconnects after a drop, resubscribes, and keeps delivering heads', async () => {
    let subscriptions = 0
    server = await startScriptedServer((request, socket) => {
      if (request.method === 'eth_subscribe') {
        subscriptions += 1
        const id = `0xsub${subscriptions}`
        reply(socket, request.id, id)
        notify(socket, id, header(subscriptions * 10))
      } else reply(socket, request.id, '0x0')
    })
    connection = new UpstreamConnection({ id: 1, url: server.url, backoff: { initialMs: 20, maxMs: 50 } })
    const heads: ParsedHead[] = []
    const states: ConnectionStatus[] = []
    connection.on('head', (head) => heads.push(head))
    connection.on('status', (status) => states.push(status))
    connection.start()
    await waitFor('first head', () => heads.length === 1)
    for (const socket of server.sockets) socket.terminate()
    await waitFor('head after reconnect', () => heads.length === 2)
    expect(heads.map((h) => h.number)).toEqual([10, 20])
    expect(states.some((s) => s.state === 'reconnecting' && /closed/i.test(s.lastError ?? ''))).toBe(true)
    expect(connection.getStatus()).toMatchObject({ state: 'connected', reconnectCount: 1, headNumber: 20, lastError: null })
  })

  it('reports a malformed header without dropping the connection', async () => {
    server = await startScriptedServer((request, socket) => {
      if (request.method !== 'eth_subscribe') return reply(socket, request.id, '0x0')
      reply(socket, request.id, '0xs')
      notify(socket, '0xs', { number: 'twelve' })
      notify(socket, '0xs', header(5))
    })
    connection = new UpstreamConnection({ id: 2, url: server.url })
    const heads: ParsedHead[] = []
    const errors: string[] = []
    connection.on('head', (head) => heads.push(head))
    connection.on('status', (status) => status.lastError && errors.push(status.lastError))
    connection.start()
    await waitFor('valid head after the bad one', () => heads.length === 1)
    expect(errors[0]).toMatch(/newHeads payload rejected: number: expected a hex quantity/)
    expect(connection.getStatus().state).toBe('connected')
  })

  it('stops retrying when the endpoint rejects the API key, and never shows the key', async () => {
    const key = 'SECRETkey0123456789abcdef'
    const refusing = http.createServer()
    refusing.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n'))
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', () => resolve()))
    const url = `ws://127.0.0.1:${(refusing.address() as AddressInfo).port}/v2/${key}`
    const logs: string[] = []
    connection = new UpstreamConnection({ id: 3, url, backoff: { initialMs: 10, maxMs: 20 }, log: (m) => logs.push(m) })
    connection.start()
    await waitFor('failed', () => connection!.getStatus().state === 'failed')
    expect(connection.getStatus().lastError).toMatch(/HTTP 401.*API key was rejected/)
    expect(connection.getStatus().reconnectCount).toBe(0)
    expect(logs.join('\n')).not.toContain(key)
    await new Promise<void>((resolve) => refusing.close(() => resolve()))
  })

  it('keeps retrying an unreachable endpoint with the reason shown', async () => {
    connection = new UpstreamConnection({ id: 4, url: 'ws://127.0.0.1:9', backoff: { initialMs: 10, maxMs: 20 } })
    connection.start()
    await waitFor('two retries', () => connection!.getStatus().reconnectCount >= 2)
    expect(connection.getStatus()).toMatchObject({ state: expect.stringMatching(/reconnecting|connecting/), lastError: expect.stringMatching(/ECONNREFUSED/) })
  })
})

import { afterEach, describe, expect, it } from 'vitest'
import { notify, reply, startScriptedServer, waitFor, type ScriptedServer } from '../../../test/helpers/scripted-server'
import { ConnectionClosedError, JsonRpcClient, JsonRpcError, RequestTimeoutError, UpgradeRejectedError } from './json-rpc-client'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

let server: ScriptedServer | undefined
let client: JsonRpcClient | undefined

afterEach(async () => {
  client?.terminate()
  client = undefined
  await server?.close()
  server = undefined
})

describe('JsonRpcClient', () => {
  it('correlates answers that arrive out of order with their requests', async () => {
    const held: { id: number; socket: import('ws').WebSocket; method: string }[] = []
    server = await startScriptedServer((request, socket) => {
      held.push({ id: request.id as number, socket, method: request.method })
      if (held.length === 3) for (const entry of [...held].reverse()) reply(entry.socket, entry.id, `answer to ${entry.method}`)
    })
    client = await JsonRpcClient.connect(server.url)
    const answers = await Promise.all([client.request('a'), client.request('b'), client.request('c')])
    expect(answers).toEqual(['answer to a', 'answer to b', 'answer to c'])
    expect(new Set(server.requests.map((r) => r.id)).size).toBe(3)
    expect(server.requests[0]).toMatchObject({ method: 'a', params: [] })
  })

  it('rejects with a timeout when the peer never answers, and ignores a late answer', async () => {
    let late: (() => void) | undefined
    server = await startScriptedServer((request, socket) => {
      late = () => reply(socket, request.id, 'too late')
    })
    client = await JsonRpcClient.connect(server.url)
    const protocolErrors: string[] = []
    client.on('protocolError', (message) => protocolErrors.push(message))
    await expect(client.request('eth_blockNumber', [], 100)).rejects.toBeInstanceOf(RequestTimeoutError)
    late?.()
    await waitFor('late answer reported', () => protocolErrors.length > 0)
    expect(protocolErrors[0]).toMatch(/unknown or timed-out request id/)
  })

  it('turns JSON-RPC error answers into JsonRpcError with code and data', async () => {
    server = await startScriptedServer((request, socket) => {
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, error: { code: -32602, message: 'invalid params', data: { field: 'x' } } }))
    })
    client = await JsonRpcClient.connect(server.url)
    const error = await client.request('eth_subscribe', ['nope']).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JsonRpcError)
    expect(error).toMatchObject({ code: -32602, data: { field: 'x' } })
    expect((error as Error).message).toContain('invalid params')
  })

  it('reports malformed frames and keeps working', async () => {
    server = await startScriptedServer((request, socket) => {
      socket.send('this is not json')
      socket.send(JSON.stringify(42))
      socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { nope: true } }))
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: 'weird', result: 1 }))
      reply(socket, request.id, 'still fine')
    })
    client = await JsonRpcClient.connect(server.url)
    const problems: string[] = []
    client.on('protocolError', (message) => problems.push(message))
    await expect(client.request('eth_chainId')).resolves.toBe('still fine')
    expect(problems).toHaveLength(4)
    expect(problems[0]).toMatch(/not JSON/)
    expect(problems[2]).toMatch(/eth_subscription without/)
    expect(client.isOpen).toBe(true)
  })

  it('subscribes, routes notifications by subscription id, and unsubscribes', async () => {
    server = await startScriptedServer((request, socket) => {
      if (request.method === 'eth_subscribe') {
        reply(socket, request.id, '0xabc')
        notify(socket, '0xabc', { number: '0x1' })
        notify(socket, '0xother', { number: '0x2' })
      } else if (request.method === 'eth_unsubscribe') {
        reply(socket, request.id, request.params[0] === '0xabc')
      }
    })
    client = await JsonRpcClient.connect(server.url)
    const unrouted: [string, unknown][] = []
    const routed: unknown[] = []
    client.on('notification', (id, result) => unrouted.push([id, result]))
    // The first notification follows the answer in the same tick: it must still reach the listener.
    await expect(client.subscribe(['newHeads'], (result) => routed.push(result))).resolves.toBe('0xabc')
    await waitFor('both notifications', () => routed.length + unrouted.length === 2)
    expect(routed).toEqual([{ number: '0x1' }])
    expect(unrouted).toEqual([['0xother', { number: '0x2' }]])
    expect(server.requests[0]).toMatchObject({ method: 'eth_subscribe', params: ['newHeads'] })
    await expect(client.unsubscribe('0xabc')).resolves.toBe(true)
    await expect(client.unsubscribe('0xmissing')).resolves.toBe(false)
  })

  it("routes the seed's bare notification form ({subscription, result}, no envelope) like the full one", async () => {
    // shared/seeds/003: the syncing example is {"subscription": "0xe2ff...", "result": {"syncing": false, ...}}.
    const status = { syncing: false, status: { startingBlock: 674427, currentBlock: 67400, highestBlock: 674432 } }
    server = await startScriptedServer((request, socket) => {
      if (request.method !== 'eth_subscribe') return
      reply(socket, request.id, '0xe2ffeb2703bcf602d42922385829ce96')
      socket.send(JSON.stringify({ subscription: '0xe2ffeb2703bcf602d42922385829ce96', result: status }))
      notify(socket, '0xe2ffeb2703bcf602d42922385829ce96', { syncing: true, status: null })
    })
    client = await JsonRpcClient.connect(server.url)
    const problems: string[] = []
    client.on('protocolError', (problem) => problems.push(problem))
    const routed: unknown[] = []
    await client.subscribe(['syncing'], (result) => routed.push(result))
    await waitFor('both forms', () => routed.length === 2)
    expect(routed).toEqual([status, { syncing: true, status: null }])
    expect(problems).toEqual([])
  })

  it('fails pending requests when the peer drops the connection', async () => {
    server = await startScriptedServer((_request, socket) => socket.terminate())
    client = await JsonRpcClient.connect(server.url)
    await expect(client.request('eth_chainId')).rejects.toBeInstanceOf(ConnectionClosedError)
    expect(client.isOpen).toBe(false)
  })

  it('explains a refused connection and a rejected upgrade', async () => {
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()))
    const { port } = closed.address() as AddressInfo
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    await expect(JsonRpcClient.connect(`ws://127.0.0.1:${port}`)).rejects.toThrow(/ECONNREFUSED/)

    const refusing = http.createServer((_req, res) => res.writeHead(401).end())
    refusing.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n'))
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', () => resolve()))
    const refusingPort = (refusing.address() as AddressInfo).port
    const error = await JsonRpcClient.connect(`ws://127.0.0.1:${refusingPort}`).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UpgradeRejectedError)
    expect((error as UpgradeRejectedError).statusCode).toBe(401)
    expect((error as Error).message).toMatch(/API key was rejected/)
    await new Promise<void>((resolve) => refusing.close(() => resolve()))
  })
})

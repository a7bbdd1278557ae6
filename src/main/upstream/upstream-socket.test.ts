import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { notify, reply, startScriptedServer, waitFor, type ScriptedServer } from '../../../test/helpers/scripted-server'
import { JsonRpcError } from '../rpc/json-rpc-client'
import { AnswerTooLargeError } from './rpc-errors'
import { MAX_FRAME_BYTES, UpstreamSocket } from './upstream-socket'

let server: ScriptedServer | undefined
let socket: UpstreamSocket | undefined
afterEach(async () => {
  await socket?.stop()
  await server?.close()
  socket = server = undefined
})

describe('UpstreamSocket', () => {
  it('stops retrying when the endpoint rejects the API key, and never shows the key', async () => {
    const key = 'SECRETkey0123456789abcdef'
    const refusing = http.createServer()
    refusing.on('upgrade', (_req, s) => s.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n'))
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', () => resolve()))
    const logs: string[] = []
    socket = new UpstreamSocket({
      url: `ws://127.0.0.1:${(refusing.address() as AddressInfo).port}/v2/${key}`,
      backoff: { initialMs: 10, maxMs: 20 },
      log: (m) => logs.push(m),
    })
    socket.start()
    await waitFor('failed', () => socket!.getStatus().state === 'failed')
    expect(socket.getStatus().lastError).toMatch(/HTTP 401.*API key was rejected/)
    expect(socket.getStatus().reconnectCount).toBe(0)
    expect(logs.join('\n')).not.toContain(key)
    await new Promise<void>((resolve) => refusing.close(() => resolve()))
  })

  it('backs off harder on HTTP 429 at the upgrade and says it is rate limited', async () => {
    const throttling = http.createServer()
    throttling.on('upgrade', (_req, s) => s.end('HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n'))
    await new Promise<void>((resolve) => throttling.listen(0, '127.0.0.1', () => resolve()))
    socket = new UpstreamSocket({ url: `ws://127.0.0.1:${(throttling.address() as AddressInfo).port}`, backoff: { initialMs: 10, maxMs: 5_000 } })
    socket.start()
    await waitFor('rate limited', () => socket!.getStatus().state === 'reconnecting')
    expect(socket.getStatus().lastError).toMatch(/Rate limited by the provider, backing off: .*HTTP 429/)
    await new Promise<void>((resolve) => throttling.close(() => resolve()))
  })

  it('keeps retrying an unreachable endpoint with the reason shown', async () => {
    socket = new UpstreamSocket({ url: 'ws://127.0.0.1:9', backoff: { initialMs: 10, maxMs: 20 } })
    socket.start()
    await waitFor('two retries', () => socket!.getStatus().reconnectCount >= 2)
    expect(socket.getStatus()).toMatchObject({ state: expect.stringMatching(/reconnecting|connecting/), lastError: expect.stringMatching(/ECONNREFUSED/) })
  })

  it('waits for the connection before subscribing and rejects with the upstream error', async () => {
    server = await startScriptedServer((request, ws) => {
      if (request.method === 'eth_subscribe' && request.params[0] === 'syncing') {
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, error: { code: -32603, message: 'Not implemented' } }))
      } else if (request.method === 'eth_subscribe') {
        reply(ws, request.id, '0xa')
        notify(ws, '0xa', 'first')
      } else reply(ws, request.id, true)
    })
    socket = new UpstreamSocket({ url: server.url })
    socket.start()
    const got: unknown[] = []
    // Subscribed before the socket is open: answered once it is, first notification included.
    await socket.subscribe(
      ['newHeads'],
      (r) => got.push(r),
      () => undefined,
    )
    await waitFor('first notification', () => got.length === 1)
    await expect(
      socket.subscribe(
        ['syncing'],
        () => undefined,
        () => undefined,
      ),
    ).rejects.toThrow(/Not implemented/)
    expect(socket.subscriptionCount).toBe(1)
  })

  it('drops a connection that sends a frame over 64 MiB, says why once, fails the waiting request as too large and reconnects', async () => {
    let connections = 0
    server = await startScriptedServer((request, ws) => {
      if (request.method === 'eth_subscribe') return reply(ws, request.id, '0xa')
      if (request.method === 'eth_getLogs' && connections === 1) {
        // A text frame one byte over the limit: the client refuses it from its header.
        ws.send(Buffer.alloc(MAX_FRAME_BYTES + 1, 0x20), { binary: false }, () => undefined)
        return
      }
      reply(ws, request.id, [])
    })
    server.sockets.clear()
    const logs: string[] = []
    const key = 'frameKey0123456789abcdef'
    socket = new UpstreamSocket({ url: `${server.url}/v2/${key}`, backoff: { initialMs: 10, maxMs: 20 }, log: (m) => logs.push(m) })
    const ready: boolean[] = []
    socket.on('ready', (reconnected) => {
      connections += 1
      ready.push(reconnected)
    })
    socket.start()
    const got: unknown[] = []
    await socket.subscribe(
      ['newHeads'],
      (r) => got.push(r),
      () => undefined,
    )
    const failure = await socket.request('eth_getLogs', [{ fromBlock: '0x0', toBlock: '0xffff' }]).catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(AnswerTooLargeError)
    expect((failure as Error).message).toMatch(/^eth_getLogs: the upstream's answer was more than 64 MiB, Tidewatch's limit for one answer/)
    await waitFor('reconnected and resubscribed', () => ready.length === 2 && socket!.getStatus().state === 'connected')
    expect(ready).toEqual([false, true])
    await expect(socket.request('eth_getLogs', [{ fromBlock: '0x0', toBlock: '0x7fff' }])).resolves.toEqual([])
    expect(socket.getStatus().reconnectCount).toBe(1)
    expect(logs.filter((m) => /frame of more than 64 MiB/.test(m))).toHaveLength(1)
    expect(logs.join('\n')).not.toContain(key)
    const ws = [...server.sockets].at(-1)!
    notify(ws, '0xa', 'after the reconnect')
    await waitFor('notification on the new socket', () => got.includes('after the reconnect'))
  })

  it('logs a flood of malformed frames and unknown subscription ids once per problem, and stays connected', async () => {
    server = await startScriptedServer((request, ws) => {
      if (request.method !== 'eth_subscribe') return reply(ws, request.id, '0x1')
      reply(ws, request.id, '0xa')
      for (let i = 0; i < 200; i++) {
        ws.send('{not json')
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: 10_000 + i, result: '0x0' }))
        notify(ws, `0x${(0xbeef + i).toString(16)}`, { n: i })
      }
      notify(ws, '0xa', 'last')
    })
    const logs: string[] = []
    socket = new UpstreamSocket({ url: server.url, log: (m) => logs.push(m) })
    socket.start()
    const got: unknown[] = []
    await socket.subscribe(
      ['newHeads'],
      (r) => got.push(r),
      () => undefined,
    )
    await waitFor('the good notification after the flood', () => got.includes('last'))
    expect(logs).toEqual([
      'Malformed frame from upstream (not JSON)',
      'Malformed frame from upstream (answer to unknown or timed-out request id 10000)',
      'notification for subscription "0xbeef", which this connection does not hold; ignored',
    ])
    expect(socket.getStatus()).toMatchObject({ state: 'connected', reconnectCount: 0 })
  })

  it('masks the key in upstream errors that quote the URL, for subscriptions and requests alike', async () => {
    const key = 'quotedKey0123456789abcdef'
    server = await startScriptedServer((request, ws) => {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, error: { code: -32000, message: `project ${key} is over its limits (/v3/${key})` } }))
    })
    socket = new UpstreamSocket({ url: `${server.url}/v3/${key}` })
    socket.start()
    await waitFor('connected', () => socket!.getStatus().state === 'connected')
    const subscribeError = (await socket
      .subscribe(
        ['newHeads'],
        () => undefined,
        () => undefined,
      )
      .catch((e: unknown) => e)) as JsonRpcError
    const requestError = (await socket.request('eth_blockNumber').catch((e: unknown) => e)) as JsonRpcError
    for (const error of [subscribeError, requestError]) {
      expect(error).toBeInstanceOf(JsonRpcError)
      expect(error.code).toBe(-32000)
      expect(`${error.message} ${error.upstreamMessage}`).not.toContain(key)
      expect(error.upstreamMessage).toBe('project *** is over its limits (/v3/***)')
    }
  })
})

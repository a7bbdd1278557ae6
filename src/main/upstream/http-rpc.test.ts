/** JSON-RPC over HTTP: credentials in the URL work, and no failure quotes the URL's secrets. */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionClosedError, JsonRpcError, RequestTimeoutError } from '../rpc/json-rpc-client'
import { httpRequest } from './http-rpc'
import { AnswerTooLargeError } from './rpc-errors'

const USER = 'tide-user'
const PASSWORD = 'p@ss:w%rd-9f8e7d6c5b4a'
const KEY = 'pathKey0123456789abcdef'
const userinfo = `${encodeURIComponent(USER)}:${encodeURIComponent(PASSWORD)}`

let server: http.Server | undefined
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
})

interface Seen {
  url: string | undefined
  authorization: string | undefined
}

async function serve(answer: (request: { method: string }, response: http.ServerResponse) => void): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = []
  server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      seen.push({ url: req.url, authorization: req.headers.authorization })
      answer(JSON.parse(body) as { method: string }, res)
    })
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()))
  return { base: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

const secretsIn = (text: string): string[] => [USER, PASSWORD, encodeURIComponent(PASSWORD), KEY].filter((s) => text.includes(s))

describe('httpRequest', () => {
  it('sends credentials from the URL as an Authorization: Basic header, and the URL without them', async () => {
    const { base, seen } = await serve((_request, res) => res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: '0x1' })))
    await expect(httpRequest(`http://${userinfo}@${base}/v2/${KEY}`, 'eth_chainId', [])).resolves.toBe('0x1')
    expect(seen[0]!.url).toBe(`/v2/${KEY}`)
    expect(seen[0]!.authorization).toBe(`Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`)
  })

  it('sends no Authorization header when the URL has no credentials', async () => {
    const { base, seen } = await serve((_request, res) => res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: null })))
    await httpRequest(`http://${base}/`, 'eth_syncing', [])
    expect(seen[0]!.authorization).toBeUndefined()
  })

  it('keeps every secret out of the messages of failures', async () => {
    const failures: unknown[] = []
    const { base } = await serve((request, res) => {
      if (request.method === 'quote_url')
        return res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32000, message: `invalid key in http://${base}/v2/${KEY}` } }))
      if (request.method === 'not_json') return res.end(`<html>no route to /v2/${KEY}</html>`)
      res.statusCode = 503
      res.statusMessage = `down for ${KEY}`
      res.end()
    })
    const url = `http://${userinfo}@${base}/v2/${KEY}`
    for (const method of ['quote_url', 'not_json', 'unavailable']) failures.push(await httpRequest(url, method, []).catch((e: unknown) => e))
    // A port nothing listens on; an unparseable URL; a timeout.
    const closedPort = await new Promise<number>((resolve) => {
      const probe = http.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo
        probe.close(() => resolve(port))
      })
    })
    failures.push(await httpRequest(`http://${userinfo}@127.0.0.1:${closedPort}/v2/${KEY}`, 'eth_blockNumber', []).catch((e: unknown) => e))
    failures.push(await httpRequest(`http://${userinfo}@[::1/v2/${KEY}`, 'eth_blockNumber', []).catch((e: unknown) => e))
    server!.removeAllListeners('request')
    server!.on('request', () => undefined)
    failures.push(await httpRequest(url, 'eth_blockNumber', [], 200).catch((e: unknown) => e))

    const messages = failures.map((failure) => {
      expect(failure).toBeInstanceOf(Error)
      const error = failure as Error
      return [error.message, error instanceof JsonRpcError ? error.upstreamMessage : undefined].filter(Boolean).join(' | ')
    })
    expect(messages.map(secretsIn)).toEqual(messages.map(() => []))
    expect(messages[0]).toMatch(/^quote_url: invalid key in http:\/\/127\.0\.0\.1:\d+\/v2\/\*\*\*/)
    expect(messages[1]).toMatch(/^not_json: http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+\/v2\/\*\*\* answered HTTP 200 with a body that is not JSON/)
    expect(messages[2]).toMatch(/^unavailable: HTTP 503 down for \*\*\*/)
    expect(messages[3]).toMatch(/^eth_blockNumber: could not reach http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+\/v2\/\*\*\*: ECONNREFUSED/)
    expect(messages[4]).toBe("eth_blockNumber: the connection's HTTP URL is not a valid URL")
    expect(messages[5]).toBe('eth_blockNumber got no answer within 200 ms')
    // No answer at all: the kinds a closed or silent socket gives, so /v1 clients hear "upstream unavailable".
    expect(failures[3]).toBeInstanceOf(ConnectionClosedError)
    expect(failures[5]).toBeInstanceOf(RequestTimeoutError)
  })

  it('refuses an answer larger than the limit, declared or streamed, as too large', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, result: 'x'.repeat(200_000) })
    const { base } = await serve((request, res) => {
      // One answer with its length declared, one streamed in chunks without it.
      if (request.method === 'declared') return res.writeHead(200, { 'content-length': Buffer.byteLength(big) }).end(big)
      res.writeHead(200, { 'transfer-encoding': 'chunked' })
      for (let i = 0; i < big.length; i += 16_384) res.write(big.slice(i, i + 16_384))
      res.end()
    })
    for (const method of ['declared', 'streamed']) {
      const error = await httpRequest(`http://${base}/`, method, [], 5_000, 64 * 1024).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(AnswerTooLargeError)
      expect((error as Error).message).toMatch(new RegExp(`^${method}: the upstream's answer was more than 0\\.0625 MiB`))
    }
    await expect(httpRequest(`http://${base}/`, 'streamed', [], 5_000, 1024 * 1024)).resolves.toHaveLength(200_000)
  })
})

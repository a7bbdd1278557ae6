/**
 * The HTTP server itself, with raw TCP clients: request targets URL parsing cannot take,
 * clients that reset an upgrade, the Host and Origin checks against DNS rebinding and
 * cross-site WebSockets, and downloads whose file goes away. After each, the server still
 * answers.
 */
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { rawExchange } from '../../../test/helpers/raw-http'
import { startHttpServer, type RunningHttpServer } from './http-server'

const TOKEN = 'http-test-token-0123456789abcdef0123456789ab'
let dir: string
let rendererRoot: string
let downloadsDir: string
let server: RunningHttpServer
/** Errors no handler caught: in `tidewatch serve` each of them ends the process. */
const uncaught: unknown[] = []
const recordUncaught = (error: unknown): void => void uncaught.push(error)

const get = (target: string, headers: Record<string, string | null> = {}, port = server.port): Promise<{ status: number | null; body: string }> => {
  const lines = Object.entries({ Host: `127.0.0.1:${port}`, Connection: 'close', ...headers })
    .filter((entry): entry is [string, string] => entry[1] !== null)
    .map(([name, value]) => `${name}: ${value}\r\n`)
  return rawExchange(port, `GET ${target} HTTP/1.1\r\n${lines.join('')}\r\n`)
}

const upgradeRequest = (target: string, headers: Record<string, string | null> = {}): string => {
  const all = {
    Host: `127.0.0.1:${server.port}`,
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    ...headers,
  }
  const lines = Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== null)
  return `GET ${target} HTTP/1.1\r\n${lines.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`
}

/** Still serving: the index page answers 200. */
async function expectServing(): Promise<void> {
  const answer = await get('/')
  expect(answer.status).toBe(200)
  expect(answer.body).toContain('tidewatch index')
}

beforeAll(async () => {
  process.on('uncaughtException', recordUncaught)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-http-'))
  rendererRoot = path.join(dir, 'renderer')
  downloadsDir = path.join(dir, 'exports')
  fs.mkdirSync(rendererRoot)
  fs.mkdirSync(downloadsDir)
  fs.writeFileSync(path.join(rendererRoot, 'index.html'), '<!doctype html><title>tidewatch index</title>')
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    rendererRoot,
    downloads: { path: '/exports/', dir: downloadsDir },
    routes: [{ path: '/v1/stream', onConnection: (socket) => socket.send('hello') }],
  })
})
afterAll(async () => {
  process.off('uncaughtException', recordUncaught)
  await server?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})
afterEach(() => {
  vi.restoreAllMocks()
  expect(uncaught.splice(0), 'errors that would end the process').toEqual([])
})

describe('request targets', () => {
  it('answers `//` without a token (an HTTP request and an upgrade) and keeps serving', async () => {
    expect((await get('//')).status).toBe(404)
    expect((await rawExchange(server.port, upgradeRequest('//'))).status).toBe(404)
    await expectServing()
  })

  it('answers malformed percent-encodings and NUL bytes with 400', async () => {
    for (const target of ['/%zz', '/%', '/%E0%A4%A', '/a%00.html', `/exports/%zz?token=${TOKEN}`]) {
      const answer = await get(target)
      expect(answer.status, target).toBe(400)
    }
    await expectServing()
  })

  it('refuses a request target that is not a path', async () => {
    expect((await get('http://127.0.0.1/')).status).toBe(400)
    expect((await rawExchange(server.port, upgradeRequest(`*`))).status).toBe(400)
    await expectServing()
  })

  it('keeps files outside the renderer root out of reach', async () => {
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'not for you')
    for (const target of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt']) {
      const answer = await get(target)
      expect([403, 404], target).toContain(answer.status)
      expect(answer.body).not.toContain('not for you')
    }
  })
})

describe('upgrades', () => {
  it('survives a client that resets the connection after its refused upgrade', async () => {
    // Half-open on our side, so that the server's FIN after its answer does not close the socket for us.
    const socket = net.connect({ host: '127.0.0.1', port: server.port, allowHalfOpen: true })
    socket.on('error', () => undefined)
    let answer = ''
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()))
    const ended = new Promise((resolve) => socket.once('end', resolve))
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write(upgradeRequest('/v1/stream'))
    await ended
    expect(answer).toMatch(/^HTTP\/1\.1 401/)
    // The server has answered and half-closed; the reset reaches a socket no HTTP parser owns any more.
    const closed = new Promise((resolve) => socket.once('close', resolve))
    socket.resetAndDestroy()
    await closed
    await expectServing()
  })

  it('survives resets at every point of an upgrade request, with and without a token', async () => {
    for (const request of [upgradeRequest('/v1/stream'), upgradeRequest(`/v1/stream?token=${TOKEN}`)]) {
      for (const resetAfter of [1, 20, request.length - 2, request.length]) {
        expect((await rawExchange(server.port, request, { resetAfter })).status).toBeNull()
      }
    }
    await expectServing()
  })
})

describe('Host and Origin', () => {
  it.each([['localhost'], ['localhost:7457'], ['127.0.0.1'], ['[::1]:9'], ['LOCALHOST']])('serves Host %s', async (host) => {
    expect((await get('/', { Host: host })).status).toBe(200)
  })

  it.each([['evil.example'], ['evil.example:7457'], ['127.0.0.1.evil.example'], ['evil@127.0.0.1'], ['localhost.evil.example'], ['']])(
    'refuses Host %j with 403 and says why',
    async (host) => {
      const answer = await get('/', { Host: host })
      expect(answer.status).toBe(403)
      expect(answer.body).toMatch(/Host header/)
      expect(answer.body).not.toContain('<')
    },
  )

  it('refuses a request without a Host header', async () => {
    const answer = await rawExchange(server.port, 'GET / HTTP/1.0\r\n\r\n')
    expect(answer.status).toBe(403)
    expect(answer.body).toMatch(/no Host header/)
  })

  it('refuses upgrades for another Host, and from another origin, before looking at the token', async () => {
    const withToken = `/v1/stream?token=${TOKEN}`
    const rebound = await rawExchange(server.port, upgradeRequest(withToken, { Host: `attacker.example:${server.port}` }))
    expect(rebound.status).toBe(403)
    for (const origin of ['http://attacker.example', `http://localhost:${server.port}`, `https://127.0.0.1:${server.port}`, 'null', 'not a url']) {
      const answer = await rawExchange(server.port, upgradeRequest(withToken, { Origin: origin }))
      expect(answer.status, origin).toBe(403)
      expect(answer.body).toMatch(/another origin/)
    }
  })

  it("accepts upgrades from the server's own origin and from clients that send none", async () => {
    const url = `ws://127.0.0.1:${server.port}/v1/stream?token=${TOKEN}`
    for (const options of [{ origin: `http://127.0.0.1:${server.port}` }, {}]) {
      const socket = new WebSocket(url, options)
      const first = await new Promise<string>((resolve, reject) => {
        socket.once('message', (data) => resolve(data.toString()))
        socket.once('error', reject)
      })
      expect(first).toBe('hello')
      socket.close()
    }
  })

  it('accepts the host it was asked to listen on, besides loopback names', async () => {
    const other = await startHttpServer({ host: '127.0.0.2', port: 0, token: TOKEN, rendererRoot, routes: [] })
    try {
      const answer = await rawExchange(other.port, `GET / HTTP/1.1\r\nHost: 127.0.0.2:${other.port}\r\nConnection: close\r\n\r\n`, { host: '127.0.0.2' })
      expect(answer.status).toBe(200)
    } finally {
      await other.close()
    }
    expect((await get('/', { Host: `127.0.0.2:${server.port}` })).status).toBe(403)
  })
})

describe('downloads', () => {
  it('serves a file with the token and refuses without', async () => {
    fs.writeFileSync(path.join(downloadsDir, 'events.csv'), 'id\n1\n')
    expect((await get('/exports/events.csv')).status).toBe(401)
    const answer = await get(`/exports/events.csv?token=${TOKEN}`)
    expect(answer.status).toBe(200)
    expect(answer.body).toBe('id\n1\n')
  })

  it('answers 404 for an export removed between stat and open, and keeps serving', async () => {
    const file = path.join(downloadsDir, 'gone.csv')
    fs.writeFileSync(file, 'id\n')
    const realStat = fs.stat
    vi.spyOn(fs, 'stat').mockImplementation(((target: fs.PathLike, callback: (error: NodeJS.ErrnoException | null, stats: fs.Stats) => void) =>
      realStat(target, (error, stats) => {
        if (String(target) === file) fs.rmSync(file)
        callback(error, stats)
      })) as typeof fs.stat)
    const answer = await get(`/exports/gone.csv?token=${TOKEN}`)
    expect(answer.status).toBe(404)
    vi.restoreAllMocks()
    await expectServing()
  })
})

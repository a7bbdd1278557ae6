/**
 * The /ui socket over the real HTTP server with a stand-in Api: bad frames get an error
 * answer, and a client that stops reading is dropped instead of buffered without bound.
 */
import fs from 'node:fs'
import type { Socket } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { waitFor } from '../../../test/helpers/scripted-server'
import type { Api, EventListener } from '../api/api'
import { startHttpServer, uiRoute, type RunningHttpServer } from './http-server'
import { serveUiSocket, type UiSocketOptions } from './ui-socket'

const TOKEN = 'ui-test-token-0123456789abcdef0123456789abcdef'
let server: RunningHttpServer | null = null
const sockets: WebSocket[] = []

function standInApi(): Api & { listeners: Set<EventListener> } {
  const listeners = new Set<EventListener>()
  return {
    listeners,
    handle: async (name) => ({ ok: true, value: { name } }) as never,
    onEvent(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

async function connect(api: Api, options: Partial<UiSocketOptions> & Pick<UiSocketOptions, 'log'>): Promise<{ socket: WebSocket; frames: unknown[] }> {
  const rendererRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-ui-'))
  server = await startHttpServer({ host: '127.0.0.1', port: 0, token: TOKEN, rendererRoot, routes: [uiRoute((socket) => serveUiSocket(socket, api, options))] })
  const socket = new WebSocket(`ws://127.0.0.1:${server.port}/ui?token=${TOKEN}`)
  sockets.push(socket)
  const frames: unknown[] = []
  socket.on('message', (data) => frames.push(JSON.parse(data.toString())))
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
  return { socket, frames }
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate()
  await server?.close()
  server = null
})

describe('the /ui socket', () => {
  it('answers frames that are not JSON or not a command with invalid_request, and commands with their result', async () => {
    const { socket, frames } = await connect(standInApi(), { log: () => undefined })
    socket.send('{not json')
    socket.send(JSON.stringify({ id: 7, command: 'no.such.command' }))
    socket.send(JSON.stringify({ id: 8, command: 'app.info', payload: {} }))
    await waitFor('three answers', () => frames.length === 3)
    expect(frames).toEqual([
      { id: 0, ok: false, error: { code: 'invalid_request', message: 'Frame is not JSON' } },
      { id: 7, ok: false, error: { code: 'invalid_request', message: expect.stringMatching(/^Malformed frame/) } },
      { id: 8, ok: true, value: { name: 'app.info' } },
    ])
  })

  it('answers a command whose handling fails unexpectedly with an internal error, and stays open', async () => {
    const api = standInApi()
    api.handle = async (name) => {
      if (name === 'events.list') throw new Error('the store went away')
      return { ok: true, value: { name } } as never
    }
    const logs: string[] = []
    const { socket, frames } = await connect(api, { log: (m) => logs.push(m) })
    socket.send(JSON.stringify({ id: 3, command: 'events.list', payload: {} }))
    socket.send(JSON.stringify({ id: 4, command: 'app.info', payload: {} }))
    await waitFor('two answers', () => frames.length === 2)
    // Answers come as each command finishes, not in request order.
    expect([...frames].sort((a, b) => (a as { id: number }).id - (b as { id: number }).id)).toEqual([
      { id: 3, ok: false, error: { code: 'internal', message: 'events.list failed: the store went away' } },
      { id: 4, ok: true, value: { name: 'app.info' } },
    ])
    expect(logs).toEqual(['UI command events.list failed unexpectedly: the store went away'])
  })

  it('disconnects a client that stops reading instead of buffering without bound', async () => {
    const api = standInApi()
    const logs: string[] = []
    const { socket } = await connect(api, { log: (m) => logs.push(m), maxBufferedBytes: 64 * 1024 })
    // Stop reading at the TCP level: the server's socket backs up.
    ;(socket as unknown as { _socket: Socket })._socket.pause()
    const big = { rows: 'x'.repeat(512 * 1024) }
    for (let i = 0; i < 400 && !logs.some((m) => /read too slowly/.test(m)); i++) {
      for (const listener of api.listeners) listener('events.appended', big as never)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    expect(logs.find((m) => /read too slowly/.test(m))).toMatch(/^UI client read too slowly \(\d+ bytes unsent\); disconnecting it$/)
    // The socket closed and its event listener went with it.
    await waitFor('listener released', () => api.listeners.size === 0)
  })
})

/**
 * Loads the built, sandbox-ready preload bundle with a stub `electron` module and checks
 * that it requires nothing else and exposes exactly the contract. Needs `npm run build`
 * (npm test builds first).
 */
import fs from 'node:fs'
import path from 'node:path'
import vm from 'node:vm'
import { describe, expect, it } from 'vitest'
import { COMMAND_NAMES, EVENT_NAMES, commandChannel, commandMethodName, eventChannel, eventMethodName } from '../shared/channels'

const bundle = path.resolve(__dirname, '../../out/preload/index.cjs')

function loadPreload() {
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` first`)
  const required: string[] = []
  const exposed = new Map<string, Record<string, (...args: unknown[]) => unknown>>()
  const invoked: [string, unknown][] = []
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>()
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: Record<string, (...args: unknown[]) => unknown>) => exposed.set(key, api) },
    ipcRenderer: {
      invoke: async (channel: string, payload: unknown) => {
        invoked.push([channel, payload])
        return { ok: true, value: 'answer' }
      },
      on: (channel: string, listener: (...args: unknown[]) => void) => {
        if (!listeners.has(channel)) listeners.set(channel, new Set())
        listeners.get(channel)!.add(listener)
      },
      removeListener: (channel: string, listener: (...args: unknown[]) => void) => listeners.get(channel)?.delete(listener),
    },
  }
  const sandboxRequire = (id: string): unknown => {
    required.push(id)
    if (id === 'electron') return electron
    throw new Error(`a sandboxed preload cannot require ${id}`)
  }
  const module = { exports: {} }
  // The same shape Electron's sandboxed preload wrapper provides: no Node globals.
  vm.runInNewContext(fs.readFileSync(bundle, 'utf8'), { require: sandboxRequire, module, exports: module.exports, console })
  return { required, exposed, invoked, listeners }
}

describe('preload bundle', () => {
  it('requires only electron and exposes one method per command and one on<Event> per event', () => {
    const { required, exposed } = loadPreload()
    expect(new Set(required)).toEqual(new Set(['electron']))
    expect([...exposed.keys()]).toEqual(['tidewatch'])
    const api = exposed.get('tidewatch')!
    expect(Object.keys(api).sort()).toEqual([...COMMAND_NAMES.map(commandMethodName), ...EVENT_NAMES.map(eventMethodName)].sort())
    expect(Object.isFrozen(api)).toBe(true)
  })

  it('forwards commands to their channels and unsubscribes event listeners', async () => {
    const { exposed, invoked, listeners } = loadPreload()
    const api = exposed.get('tidewatch')!
    await expect(api.connectionsAdd!({ url: 'ws://127.0.0.1:8545' })).resolves.toEqual({ ok: true, value: 'answer' })
    expect(invoked).toEqual([[commandChannel('connections.add'), { url: 'ws://127.0.0.1:8545' }]])

    const received: unknown[] = []
    const unsubscribe = api.onHeadsAppended!((payload: unknown) => received.push(payload)) as () => void
    const channel = eventChannel('heads.appended')
    for (const listener of listeners.get(channel)!) listener({ sender: 'ignored' }, { connectionId: 1, lastId: 3, count: 1 })
    expect(received).toEqual([{ connectionId: 1, lastId: 3, count: 1 }])
    unsubscribe()
    expect(listeners.get(channel)!.size).toBe(0)
    expect(() => api.onConnectionsStatus!('not a function')).toThrow(/expects a function/)
  })
})

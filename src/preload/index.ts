/**
 * The preload bridge: exactly the contract, one method per command and one `on<Event>`
 * per event (returning its unsubscribe function), generated from the shared name list.
 * Runs sandboxed, so it may require only 'electron'; raw ipcRenderer is never exposed.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { COMMAND_NAMES, EVENT_NAMES, commandChannel, commandMethodName, eventChannel, eventMethodName } from '../shared/channels'

const bridge: Record<string, unknown> = {}

for (const name of COMMAND_NAMES) {
  const channel = commandChannel(name)
  bridge[commandMethodName(name)] = (request: unknown) => ipcRenderer.invoke(channel, request)
}

for (const name of EVENT_NAMES) {
  const channel = eventChannel(name)
  bridge[eventMethodName(name)] = (listener: (payload: unknown) => void) => {
    if (typeof listener !== 'function') throw new TypeError(`${eventMethodName(name)} expects a function`)
    const forward = (_event: IpcRendererEvent, payload: unknown): void => listener(payload)
    ipcRenderer.on(channel, forward)
    return () => {
      ipcRenderer.removeListener(channel, forward)
    }
  }
}

contextBridge.exposeInMainWorld('tidewatch', Object.freeze(bridge))

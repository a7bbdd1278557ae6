/**
 * The contract over Electron IPC. Registered against a minimal IpcMainLike interface so it
 * is unit-tested without Electron (the pattern of Bruno's SQLite package).
 */
import { COMMAND_NAMES, commandChannel, eventChannel } from '../../shared/channels'
import type { Api } from '../api/api'

export interface IpcMainLike {
  handle(channel: string, listener: (event: { senderFrame?: { url: string } | null }, payload: unknown) => unknown): void
  removeHandler(channel: string): void
}

export interface EventTarget {
  send(channel: string, payload: unknown): void
  isDestroyed(): boolean
}

/** Only our own renderer (file:// in the app, the dev server in development) may call. */
export type SenderCheck = (url: string | undefined) => boolean

export function registerIpcTransport(ipc: IpcMainLike, api: Api, target: () => EventTarget | null, isTrustedSender: SenderCheck): () => void {
  for (const name of COMMAND_NAMES) {
    ipc.handle(commandChannel(name), async (event, payload) => {
      if (!isTrustedSender(event.senderFrame?.url)) {
        return { ok: false, error: { code: 'invalid_request', message: 'Sender is not the Tidewatch window' } }
      }
      return api.handle(name, payload)
    })
  }
  const stopEvents = api.onEvent((name, payload) => {
    const window = target()
    if (window && !window.isDestroyed()) window.send(eventChannel(name), payload)
  })
  return () => {
    stopEvents()
    for (const name of COMMAND_NAMES) ipc.removeHandler(commandChannel(name))
  }
}

import type { GenericBridge, TidewatchBridge } from '@shared/bridge'
import { commandMethodName, eventMethodName } from '@shared/channels'

/** Adapts the preload's named methods (`connectionsAdd`, `onHeadsAppended`, ...) to name-based access. */
export function createElectronBridge(api: TidewatchBridge): GenericBridge {
  const methods = api as unknown as Record<string, unknown>
  return {
    invoke(name, request) {
      const method = methods[commandMethodName(name)]
      if (typeof method !== 'function') {
        return Promise.resolve({
          ok: false,
          error: { code: 'internal', message: `The preload does not expose the command ${name}` },
        })
      }
      return Promise.resolve((method as (request: unknown) => Promise<unknown>).call(api, request))
    },
    subscribe(name, listener) {
      const method = methods[eventMethodName(name)]
      if (typeof method !== 'function') {
        console.warn(`[tidewatch] the preload does not expose the event ${name}`)
        return () => {}
      }
      const unsubscribe: unknown = (method as (l: (payload: unknown) => void) => unknown).call(api, listener)
      return typeof unsubscribe === 'function' ? (unsubscribe as () => void) : () => {}
    },
  }
}

/** One handler per contract command; requests arrive already validated. */
import type { CommandName } from '../../shared/channels'
import type { CommandRequestParsed, CommandResponse } from '../../shared/contract'
import { NotFoundError, type Engine } from '../engine/engine'
import type { LocalApiController } from '../server/local-api'

export { NotFoundError }

export type Handlers = {
  [N in CommandName]: (request: CommandRequestParsed<N>) => CommandResponse<N> | Promise<CommandResponse<N>>
}

export interface AppInfo {
  version: string
  transport: 'electron' | 'websocket'
  dataDir: string
}

export interface HandlerDeps {
  /** Set once the transport side has decided how the local stream API runs. */
  localApi: () => LocalApiController | null
}

export function createHandlers(engine: Engine, info: AppInfo, deps: HandlerDeps): Handlers {
  const localApi = (): LocalApiController => {
    const controller = deps.localApi()
    if (!controller) throw new Error('The local API is not available yet')
    return controller
  }
  return {
    'app.info': () => info,
    'connections.list': () => engine.listConnections(),
    'connections.add': (request) => engine.addConnection(request),
    'connections.remove': async (request) => {
      const removed = await engine.removeConnection(request.id)
      if (!removed) throw new NotFoundError(`There is no connection ${request.id}`)
      return { removed }
    },
    'heads.list': (request) => engine.listHeads(request),
    'subscriptions.list': (request) => engine.listSubscriptions(request.connectionId),
    'subscriptions.create': (request) => engine.createSubscription(request),
    'subscriptions.pause': (request) => engine.setSubscriptionPaused(request.id, true),
    'subscriptions.resume': (request) => engine.setSubscriptionPaused(request.id, false),
    'subscriptions.remove': async (request) => {
      const removed = await engine.removeSubscription(request.id)
      if (!removed) throw new NotFoundError(`There is no subscription ${request.id}`)
      return { removed }
    },
    'events.list': (request) => engine.listEvents(request),
    'localApi.get': () => localApi().get(),
    'localApi.set': (request) => localApi().set(request.enabled, request.port),
  }
}

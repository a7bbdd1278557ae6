/**
 * The contract served by the engine, independent of transport: validates every request
 * with the shared schemas, runs its handler, and fans engine events out to listeners.
 * Transports (Electron IPC, the UI WebSocket) only move bytes to and from here.
 */
import { COMMAND_NAMES, type CommandName, type EventName } from '../../shared/channels'
import { commands, describeZodError, events, type CommandResult, type EventPayload } from '../../shared/contract'
import type { Engine } from '../engine/engine'
import { createHandlers, InvalidInputError, NotFoundError, type AppInfo, type HandlerDeps, type Handlers } from './handlers'

export type EventListener = <N extends EventName>(name: N, payload: EventPayload<N>) => void

export interface Api {
  handle(name: string, payload: unknown): Promise<CommandResult<CommandName>>
  onEvent(listener: EventListener): () => void
}

export function isCommandName(name: string): name is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(name)
}

export function createApi(engine: Engine, info: AppInfo, log: (message: string) => void, deps: HandlerDeps): Api {
  const handlers: Handlers = createHandlers(engine, info, deps)
  const listeners = new Set<EventListener>()
  const publish = <N extends EventName>(name: N, payload: EventPayload<N>): void => {
    const checked = events[name].parse(payload) as EventPayload<N>
    for (const listener of listeners) listener(name, checked)
  }
  engine.on('status', (status) => publish('connections.status', status))
  engine.on('connectionsChanged', () => publish('connections.changed', {}))
  engine.on('headsAppended', (batch) => publish('heads.appended', batch))
  engine.on('eventsAppended', (batch) => publish('events.appended', batch))
  engine.on('eventsRetracted', (retraction) => publish('events.retracted', retraction))
  engine.on('subscriptionChanged', (subscription, removedId) => publish('subscriptions.changed', { subscription, removedId }))
  engine.on('exportProgress', (progress) => publish('export.progress', progress))
  engine.on('notification', (notification) => publish('notification', notification))
  engine.on('watchlistChanged', () => publish('watchlist.changed', {}))
  engine.on('tokensResolved', (tokens) => publish('tokens.resolved', { tokens }))
  engine.on('storageStatus', (status) => publish('storage.status', status))

  return {
    async handle(name, payload) {
      if (!isCommandName(name)) return { ok: false, error: { code: 'invalid_request', message: `Unknown command ${JSON.stringify(name)}` } }
      const parsed = commands[name].request.safeParse(payload ?? {})
      if (!parsed.success) return { ok: false, error: describeZodError(parsed.error) }
      try {
        const handler = handlers[name] as (request: unknown) => unknown
        const value = await handler(parsed.data)
        return { ok: true, value: commands[name].response.parse(value) }
      } catch (error) {
        if (error instanceof NotFoundError) return { ok: false, error: { code: 'not_found', message: error.message } }
        if (error instanceof InvalidInputError)
          return { ok: false, error: { code: 'invalid_request', message: error.message, ...(error.field ? { field: error.field } : {}) } }
        const message = error instanceof Error ? error.message : String(error)
        log(`command ${name} failed: ${message}`)
        return { ok: false, error: { code: 'internal', message } }
      }
    },
    onEvent(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

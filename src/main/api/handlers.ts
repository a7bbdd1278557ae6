/** One handler per contract command; requests arrive already validated. */
import type { CommandName } from '../../shared/channels'
import { preferencesSchema, type CommandRequestParsed, type CommandResponse, type Preferences, type StoreStatus } from '../../shared/contract'
import { NotFoundError, type Engine } from '../engine/engine'
import type { LocalApiController } from '../api/local-api-controller'
import { redactUrl } from '../redact-url'
import type { StoreChoiceController } from './store-controller'
import type { ExportDestination } from '../export/export-service'
import { AbiInputError } from '../decode/abi-input'

export class InvalidInputError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }
}

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
  /** Where an export goes: a save dialog on the desktop, the exports folder in headless mode; null = dismissed. */
  exportDestination: (suggestedName: string) => Promise<ExportDestination | null>
  /** The store the engine was given: the data directory's SQLite file (the default) or a PostgreSQL store. */
  storeKind?: StoreStatus['kind']
  /** Desktop: the store chosen in Settings for the next start. Absent in headless mode, where `serve --store` decides. */
  storeChoice?: StoreChoiceController | undefined
  /** Desktop: quits and starts the app again. Absent in headless mode. */
  restart?: (() => void) | undefined
}

const HEADLESS_STORE_MESSAGE =
  'This Tidewatch runs headless: its store is chosen on the command line, with `tidewatch serve --store postgres://user@host/database` (without --store, the SQLite file in the data directory). Restart it with the option you want.'
const HEADLESS_RESTART_MESSAGE = 'This Tidewatch runs headless (`tidewatch serve`): restart that process itself, where it runs.'

const PREFERENCES_SETTING = 'preferences'
const DEFAULT_PREFERENCES: Preferences = { demoNoteDismissed: false }

export function createHandlers(engine: Engine, info: AppInfo, deps: HandlerDeps): Handlers {
  const { connections, subscriptions, events, abis, watchlist, exports: eventExports, tokens, retention, settings, storage } = engine
  const preferences = (): Preferences => ({ ...DEFAULT_PREFERENCES, ...settings.get(PREFERENCES_SETTING, preferencesSchema.partial(), {}) })
  const storeStatus = (): StoreStatus => {
    const kind = deps.storeKind ?? 'sqlite'
    // The PostgreSQL store names itself without its password; masked again here all the same.
    const location = kind === 'postgres' && URL.canParse(engine.storeLocation) ? redactUrl(engine.storeLocation) : engine.storeLocation
    if (!deps.storeChoice) {
      return { kind, location, configured: kind === 'postgres' ? { url: location } : null, restartRequired: false, editable: false, lastError: null }
    }
    return { kind, location, ...deps.storeChoice.current(), editable: true }
  }
  const localApi = (): LocalApiController => {
    const controller = deps.localApi()
    if (!controller) throw new Error('The local API is not available yet')
    return controller
  }
  return {
    'app.info': () => info,
    'connections.list': () => connections.list(),
    'connections.add': (request) => connections.add(request),
    'connections.update': (request) => connections.update(request.id, { confirmations: request.confirmations }),
    'connections.setRetention': async (request) => {
      retention.set(request.id, { headsRetentionDays: request.headsRetentionDays, eventsRetentionDays: request.eventsRetentionDays })
      return (await retention.storageUse()).find((use) => use.connectionId === request.id)!
    },
    'storage.usage': () => retention.storageUse(),
    'storage.compact': () => retention.compact(),
    'connections.remove': async (request) => {
      const removed = await connections.remove(request.id)
      if (!removed) throw new NotFoundError(`There is no connection ${request.id}`)
      return { removed }
    },
    'heads.list': (request) => connections.listHeads(request),
    'subscriptions.list': (request) => subscriptions.list(request.connectionId),
    'subscriptions.create': (request) => subscriptions.create(request),
    'subscriptions.pause': (request) => subscriptions.setPaused(request.id, true),
    'subscriptions.resume': (request) => subscriptions.setPaused(request.id, false),
    'subscriptions.remove': async (request) => {
      const removed = await subscriptions.remove(request.id)
      if (!removed) throw new NotFoundError(`There is no subscription ${request.id}`)
      return { removed }
    },
    'events.list': (request) => events.list(request),
    'events.search': (request) => events.search(request),
    'subscriptions.update': (request) => subscriptions.update(request.id, request),
    'abis.list': () => abis.list(),
    'abis.add': (request) => {
      try {
        return abis.add(request.name, request.abi)
      } catch (error) {
        if (error instanceof AbiInputError) throw new InvalidInputError(error.message, 'abi')
        throw error
      }
    },
    'abis.remove': (request) => {
      const removed = abis.remove(request.id)
      if (!removed) throw new NotFoundError(`There is no ABI ${request.id}`)
      return { removed }
    },
    'watchlist.list': () => watchlist.list(),
    'watchlist.upsert': (request) => watchlist.upsert(request),
    'watchlist.remove': (request) => ({ removed: watchlist.remove(request.address) }),
    'watchlist.activity': (request) => watchlist.activity(request.address, request.limit),
    'export.start': async (request) => {
      const { format, ...query } = request
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)
      const destination = await deps.exportDestination(`tidewatch-${query.kind ?? 'events'}-${stamp}.${format === 'ndjson' ? 'ndjson' : format}`)
      if (!destination) return { exportId: null }
      return { exportId: await eventExports.start(query, format, destination) }
    },
    'export.cancel': (request) => ({ cancelled: eventExports.cancel(request.exportId) }),
    'tokens.lookup': (request) => tokens.lookup(request.connectionId, request.addresses),
    'preferences.get': () => preferences(),
    'preferences.set': (request) => {
      const next = { ...preferences(), ...request }
      settings.set(PREFERENCES_SETTING, next)
      return next
    },
    'localApi.get': () => localApi().get(),
    'localApi.set': (request) => localApi().set(request.enabled, request.port),
    'storage.status': () => storage.current,
    'store.get': () => storeStatus(),
    'store.set': (request) => {
      if (!deps.storeChoice) throw new InvalidInputError(HEADLESS_STORE_MESSAGE, 'url')
      deps.storeChoice.save(request.url)
      return storeStatus()
    },
    'app.restart': () => {
      if (!deps.restart) throw new InvalidInputError(HEADLESS_RESTART_MESSAGE)
      deps.restart()
      return { restarting: true }
    },
  }
}

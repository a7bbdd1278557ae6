/**
 * Names of every command and event in the contract, with no schema attached.
 * Kept apart from contract.ts so the sandboxed preload can be generated from this list
 * without bundling zod; contract.ts checks at compile time that both lists agree.
 */
export const COMMAND_NAMES = [
  'app.info',
  'connections.list',
  'connections.add',
  'connections.remove',
  'heads.list',
  'subscriptions.list',
  'subscriptions.create',
  'subscriptions.pause',
  'subscriptions.resume',
  'subscriptions.remove',
  'events.list',
  'events.search',
  'localApi.get',
  'localApi.set',
  'subscriptions.update',
  'abis.list',
  'abis.add',
  'abis.remove',
  'watchlist.list',
  'watchlist.upsert',
  'watchlist.remove',
  'watchlist.activity',
  'export.start',
  'export.cancel',
  'connections.update',
  'tokens.lookup',
  'preferences.get',
  'preferences.set',
  'storage.status',
  'connections.setRetention',
  'storage.usage',
  'storage.compact',
  'store.get',
  'store.set',
  'app.restart',
] as const

export const EVENT_NAMES = [
  'connections.status',
  'connections.changed',
  'heads.appended',
  'subscriptions.changed',
  'events.appended',
  'events.retracted',
  'export.progress',
  'notification',
  'watchlist.changed',
  'tokens.resolved',
  'storage.status',
] as const

export type CommandName = (typeof COMMAND_NAMES)[number]
export type EventName = (typeof EVENT_NAMES)[number]

/** Electron IPC channel names derived from the contract names. */
export const commandChannel = (name: CommandName): string => `tidewatch:command:${name}`
export const eventChannel = (name: EventName): string => `tidewatch:event:${name}`

/**
 * The preload exposes one method per command and one `on<Event>` per event; these are
 * their property names ('connections.add' -> 'connectionsAdd', 'heads.appended' ->
 * 'onHeadsAppended').
 */
export const commandMethodName = (name: CommandName): string => name.replace(/\.(\w)/g, (_, c: string) => c.toUpperCase())
export const eventMethodName = (name: EventName): string => {
  const camel = name.replace(/\.(\w)/g, (_, c: string) => c.toUpperCase())
  return `on${camel[0]!.toUpperCase()}${camel.slice(1)}`
}

/**
 * The shape the preload exposes as `window.tidewatch`, derived from the contract tables so
 * it cannot drift from them. The renderer's WebSocket client implements the same shape.
 */
import type { CommandName, EventName } from './channels'
import type { CommandRequest, CommandResult, EventPayload } from './contract'

type CamelAfterDot<S extends string> = S extends `${infer Head}.${infer Tail}` ? `${Head}${Capitalize<CamelAfterDot<Tail>>}` : S

export type CommandMethods = {
  [N in CommandName as CamelAfterDot<N>]: (request: CommandRequest<N>) => Promise<CommandResult<N>>
}

export type EventMethods = {
  [N in EventName as `on${Capitalize<CamelAfterDot<N>>}`]: (listener: (payload: EventPayload<N>) => void) => () => void
}

export type TidewatchBridge = CommandMethods & EventMethods

/** Name-based access used by generic code (the transports and the preload generator). */
export interface GenericBridge {
  invoke(name: CommandName, request: unknown): Promise<unknown>
  subscribe(name: EventName, listener: (payload: unknown) => void): () => void
}

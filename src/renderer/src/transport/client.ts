import { z } from 'zod'
import type { GenericBridge } from '@shared/bridge'
import type { CommandName, EventName } from '@shared/channels'
import { commandErrorSchema, commands, events, type CommandRequest, type CommandResponse, type CommandResult, type EventPayload } from '@shared/contract'
import { createElectronBridge } from './electron-bridge'
import type { TransportStatus } from './status'
import { createWebSocketBridge } from './websocket-bridge'

export type { TransportStatus } from './status'

/** The typed, validated API every view uses; it does not reveal which transport carries it. */
export interface TidewatchClient {
  readonly transport: 'electron' | 'websocket'
  call<N extends CommandName>(name: N, request: CommandRequest<N>): Promise<CommandResult<N>>
  on<N extends EventName>(name: N, listener: (payload: EventPayload<N>) => void): () => void
  getStatus(): TransportStatus
  /** For useSyncExternalStore: the listener is called whenever getStatus() changes. */
  onStatus(listener: () => void): () => void
  /** Called after the transport came back from a loss; events may have been missed meanwhile. */
  onReconnect(listener: () => void): () => void
}

const envelopeSchema = z.union([z.object({ ok: z.literal(true), value: z.unknown() }), z.object({ ok: z.literal(false), error: z.unknown() })])

const internal = (message: string): { ok: false; error: { code: 'internal'; message: string } } => ({
  ok: false,
  error: { code: 'internal', message },
})

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]
  if (!issue) return 'invalid data'
  const path = issue.path.length > 0 ? ` at ${issue.path.join('.')}` : ''
  return `${issue.message}${path}`
}

/** Validates what a transport answered against the contract; anything unexpected becomes an 'internal' error. */
export function parseCommandResult<N extends CommandName>(name: N, raw: unknown): CommandResult<N> {
  const envelope = envelopeSchema.safeParse(raw)
  if (!envelope.success) {
    return internal(`Tidewatch sent a malformed answer to ${name}: ${describeIssue(envelope.error)}`)
  }
  if (!envelope.data.ok) {
    const error = commandErrorSchema.safeParse(envelope.data.error)
    if (error.success) return { ok: false, error: error.data }
    const message =
      typeof envelope.data.error === 'object' &&
      envelope.data.error !== null &&
      'message' in envelope.data.error &&
      typeof envelope.data.error.message === 'string'
        ? envelope.data.error.message
        : `${name} failed with an unreadable error`
    return internal(message)
  }
  const schema: z.ZodType = commands[name].response
  const value = schema.safeParse(envelope.data.value)
  if (!value.success) {
    return internal(`Tidewatch sent an unexpected response to ${name}: ${describeIssue(value.error)}`)
  }
  return { ok: true, value: value.data as CommandResponse<N> }
}

function createListenerSet(): { add(listener: () => void): () => void; emit(): void } {
  const set = new Set<() => void>()
  return {
    add(listener) {
      set.add(listener)
      return () => {
        set.delete(listener)
      }
    },
    emit() {
      for (const listener of [...set]) listener()
    },
  }
}

function wrapBridge(
  bridge: GenericBridge,
  transport: TidewatchClient['transport'],
  getStatus: () => TransportStatus,
  statusListeners: ReturnType<typeof createListenerSet>,
  reconnectListeners: ReturnType<typeof createListenerSet>,
): TidewatchClient {
  return {
    transport,
    async call(name, request) {
      let raw: unknown
      try {
        raw = await bridge.invoke(name, request)
      } catch (error) {
        return internal(`${name} failed: ${error instanceof Error ? error.message : String(error)}`)
      }
      return parseCommandResult(name, raw)
    },
    on(name, listener) {
      const schema: z.ZodType = events[name]
      return bridge.subscribe(name, (payload) => {
        const parsed = schema.safeParse(payload)
        if (!parsed.success) {
          console.warn(`[tidewatch] dropping an invalid ${name} event: ${describeIssue(parsed.error)}`)
          return
        }
        listener(parsed.data as EventPayload<typeof name>)
      })
    },
    getStatus,
    onStatus: statusListeners.add,
    onReconnect: reconnectListeners.add,
  }
}

/** Electron when the preload exposed `window.tidewatch`, otherwise the page's own `/ui` WebSocket. */
export function createClient(): TidewatchClient {
  const statusListeners = createListenerSet()
  const reconnectListeners = createListenerSet()
  const api = window.tidewatch
  if (api) {
    const connected: TransportStatus = { state: 'connected' }
    return wrapBridge(createElectronBridge(api), 'electron', () => connected, statusListeners, reconnectListeners)
  }
  let status: TransportStatus = { state: 'connecting' }
  const bridge = createWebSocketBridge({
    onStatus(next) {
      status = next
      statusListeners.emit()
    },
    onReconnect: reconnectListeners.emit,
  })
  return wrapBridge(bridge, 'websocket', () => status, statusListeners, reconnectListeners)
}

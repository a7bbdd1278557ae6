import type { GenericBridge } from '@shared/bridge'
import type { CommandName, EventName } from '@shared/channels'
import type { CommandError } from '@shared/contract'
import { UI_SOCKET_PATH, uiServerFrameSchema, type UiClientFrame } from '@shared/ws-protocol'
import { refusalMessage, type TransportStatus } from './status'

/** How long a request made while disconnected waits for the socket before it fails. */
const WAIT_FOR_CONNECTION_MS = 10_000
/** How long a sent request waits for its answer. */
const RESPONSE_TIMEOUT_MS = 30_000
const BACKOFF_BASE_MS = 500
const BACKOFF_MAX_MS = 10_000
/** Close codes a server uses to say "not authorized" (policy violation and the 4xxx HTTP-like ones). */
const REFUSED_CLOSE_CODES = new Set([1008, 4001, 4003, 4401, 4403])
const TOKEN_STORAGE_KEY = 'tidewatch.uiToken'

type Resolve = (result: unknown) => void

interface Waiting {
  frame: UiClientFrame
  resolve: Resolve
  timer: ReturnType<typeof setTimeout>
}

interface InFlight {
  command: CommandName
  resolve: Resolve
  timer: ReturnType<typeof setTimeout>
}

export interface WebSocketBridgeOptions {
  onStatus: (status: TransportStatus) => void
  /** Called after the socket opened again following a loss, so views can re-query what they missed. */
  onReconnect?: () => void
}

export interface WebSocketBridge extends GenericBridge {
  close(): void
}

const failure = (message: string): { ok: false; error: CommandError } => ({
  ok: false,
  error: { code: 'internal', message },
})

/**
 * Takes the access token from `#token=` (what `tidewatch serve` prints: a fragment never
 * reaches a server or its logs) or `?token=`, keeps it in sessionStorage for reloads of
 * this tab and removes it from the address bar; or from sessionStorage when the URL has none.
 */
export function takeToken(): string | null {
  let token: string | null = null
  try {
    const url = new URL(window.location.href)
    const fragment = new URLSearchParams(url.hash.slice(1))
    const fromUrl = fragment.get('token') ?? url.searchParams.get('token')
    if (fromUrl !== null) {
      token = fromUrl
      url.searchParams.delete('token')
      fragment.delete('token')
      const hash = fragment.toString()
      window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${hash ? `#${hash}` : ''}`)
    }
  } catch {
    // An unusual location (about:blank, file:) simply has no token in it.
  }
  try {
    if (token) window.sessionStorage.setItem(TOKEN_STORAGE_KEY, token)
    else token = window.sessionStorage.getItem(TOKEN_STORAGE_KEY)
  } catch {
    // Storage can be disabled; the token then lives for this page only.
  }
  return token || null
}

function socketUrl(token: string | null): string {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:'
  const query = token ? `?token=${encodeURIComponent(token)}` : ''
  return `${scheme}//${window.location.host}${UI_SOCKET_PATH}${query}`
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A GenericBridge over the engine's `/ui` WebSocket, reconnecting with backoff when the socket closes. */
export function createWebSocketBridge(options: WebSocketBridgeOptions): WebSocketBridge {
  const token = takeToken()
  const waiting = new Map<number, Waiting>()
  const inFlight = new Map<number, InFlight>()
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>()

  let socket: WebSocket | null = null
  let isOpen = false
  let everOpened = false
  let failedAttempts = 0
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let closed = false
  let nextId = 1
  let status: TransportStatus = { state: 'connecting' }

  const setStatus = (next: TransportStatus): void => {
    status = next
    options.onStatus(next)
  }

  const send = (frame: UiClientFrame, resolve: Resolve): void => {
    const current = socket
    if (!current || !isOpen) {
      resolve(failure('Not connected to Tidewatch'))
      return
    }
    try {
      current.send(JSON.stringify(frame))
    } catch (error) {
      resolve(failure(`Could not send ${frame.command}: ${error instanceof Error ? error.message : String(error)}`))
      return
    }
    const timer = setTimeout(() => {
      inFlight.delete(frame.id)
      resolve(failure(`Tidewatch did not answer ${frame.command} within ${RESPONSE_TIMEOUT_MS / 1000} s`))
    }, RESPONSE_TIMEOUT_MS)
    inFlight.set(frame.id, { command: frame.command, resolve, timer })
  }

  const flushWaiting = (): void => {
    for (const [id, entry] of waiting) {
      clearTimeout(entry.timer)
      waiting.delete(id)
      send(entry.frame, entry.resolve)
    }
  }

  const failWaiting = (message: string): void => {
    for (const [id, entry] of waiting) {
      clearTimeout(entry.timer)
      waiting.delete(id)
      entry.resolve(failure(message))
    }
  }

  const failInFlight = (reason?: string): void => {
    for (const [id, entry] of inFlight) {
      clearTimeout(entry.timer)
      inFlight.delete(id)
      entry.resolve(failure(reason ?? `The connection to Tidewatch was lost before it answered ${entry.command}; try again.`))
    }
  }

  const dispatchEvent = (name: EventName, payload: unknown): void => {
    const set = listeners.get(name)
    if (!set) return
    for (const listener of [...set]) {
      try {
        listener(payload)
      } catch (error) {
        console.error(`[tidewatch] a listener for ${name} threw`, error)
      }
    }
  }

  const handleMessage = (data: unknown): void => {
    if (typeof data !== 'string') return
    let raw: unknown
    try {
      raw = JSON.parse(data)
    } catch {
      console.warn('[tidewatch] ignoring a frame that is not JSON')
      return
    }
    const parsed = uiServerFrameSchema.safeParse(raw)
    if (parsed.success) {
      const frame = parsed.data
      if ('event' in frame) {
        dispatchEvent(frame.event, frame.payload)
        return
      }
      const entry = inFlight.get(frame.id)
      if (!entry) return
      clearTimeout(entry.timer)
      inFlight.delete(frame.id)
      entry.resolve(frame.ok ? { ok: true, value: frame.value } : { ok: false, error: frame.error })
      return
    }
    // A reply the protocol schema does not accept still answers its request: the client
    // validates it and turns it into a readable error instead of leaving the caller hanging.
    if (isRecord(raw) && typeof raw.id === 'number') {
      const entry = inFlight.get(raw.id)
      if (!entry) return
      clearTimeout(entry.timer)
      inFlight.delete(raw.id)
      entry.resolve(raw)
      return
    }
    console.warn('[tidewatch] ignoring an unexpected frame', parsed.error.issues[0]?.message)
  }

  const scheduleRetry = (): number => {
    const exponential = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** failedAttempts)
    const delay = Math.round(exponential * (0.8 + Math.random() * 0.4))
    failedAttempts += 1
    clearTimeout(retryTimer)
    retryTimer = setTimeout(connect, delay)
    return delay
  }

  const handleClose = (code: number, opened: boolean): void => {
    if (closed) return
    if (REFUSED_CLOSE_CODES.has(code)) {
      const reason = token ? 'invalid-token' : 'missing-token'
      setStatus({ state: 'refused', reason, retrying: false })
      failWaiting(refusalMessage(reason))
      return
    }
    if (!opened && !everOpened) {
      // The page itself came from this server, so a failing first handshake most likely
      // means the token was refused (browsers hide the HTTP status of a failed upgrade).
      if (!token) {
        setStatus({ state: 'refused', reason: 'missing-token', retrying: false })
        failWaiting(refusalMessage('missing-token'))
        return
      }
      scheduleRetry()
      setStatus({ state: 'refused', reason: 'unreachable', retrying: true })
      return
    }
    const retryInMs = scheduleRetry()
    setStatus({ state: 'reconnecting', attempt: failedAttempts, retryInMs })
  }

  function connect(): void {
    retryTimer = undefined
    if (closed) return
    let opened = false
    let ws: WebSocket
    try {
      ws = new WebSocket(socketUrl(token))
    } catch (error) {
      console.error('[tidewatch] could not create the WebSocket', error)
      handleClose(1006, false)
      return
    }
    socket = ws
    ws.onopen = () => {
      if (socket !== ws) return
      opened = true
      isOpen = true
      failedAttempts = 0
      const isReconnect = everOpened
      everOpened = true
      setStatus({ state: 'connected' })
      flushWaiting()
      if (isReconnect) options.onReconnect?.()
    }
    ws.onmessage = (event: MessageEvent) => {
      if (socket === ws) handleMessage(event.data)
    }
    ws.onclose = (event: CloseEvent) => {
      if (socket !== ws) return
      socket = null
      isOpen = false
      const refused = REFUSED_CLOSE_CODES.has(event.code)
      failInFlight(refused ? refusalMessage(token ? 'invalid-token' : 'missing-token') : undefined)
      handleClose(event.code, opened)
    }
    ws.onerror = () => {
      // Always followed by a close event, which does the handling.
    }
  }

  const onOnline = (): void => {
    if (retryTimer !== undefined && !isOpen) {
      clearTimeout(retryTimer)
      connect()
    }
  }
  window.addEventListener('online', onOnline)

  connect()

  return {
    invoke(name, request) {
      return new Promise<unknown>((resolve) => {
        const frame: UiClientFrame = { id: nextId++, command: name, payload: request }
        if (isOpen) {
          send(frame, resolve)
          return
        }
        if (closed) {
          resolve(failure('The Tidewatch connection was closed'))
          return
        }
        if (status.state === 'refused' && !status.retrying) {
          resolve(failure(refusalMessage(status.reason)))
          return
        }
        const timer = setTimeout(() => {
          waiting.delete(frame.id)
          resolve(
            failure(`Not connected to Tidewatch: ${name} was not sent because the connection did not come back within ${WAIT_FOR_CONNECTION_MS / 1000} s.`),
          )
        }, WAIT_FOR_CONNECTION_MS)
        waiting.set(frame.id, { frame, resolve, timer })
      })
    },
    subscribe(name, listener) {
      let set = listeners.get(name)
      if (!set) {
        set = new Set()
        listeners.set(name, set)
      }
      set.add(listener)
      return () => {
        listeners.get(name)?.delete(listener)
      }
    },
    close() {
      closed = true
      clearTimeout(retryTimer)
      window.removeEventListener('online', onOnline)
      failWaiting('The Tidewatch connection was closed')
      const current = socket
      socket = null
      isOpen = false
      failInFlight()
      current?.close(1000)
    },
  }
}

/**
 * The contract over headless mode's /ui WebSocket, spoken as the UI speaks it
 * (src/shared/ws-protocol.ts): for a benchmark or a test to create subscriptions, read the store and
 * hear events without clicking through the UI.
 */
import WebSocket from 'ws'
import type { CommandName, EventName } from '../../src/shared/channels'
import { commands, events, type CommandRequest, type CommandResponse, type EventPayload } from '../../src/shared/contract'
import { UI_SOCKET_PATH, uiServerFrameSchema } from '../../src/shared/ws-protocol'

export class UiSocketClient {
  private nextId = 1
  private readonly waiting = new Map<number, { command: CommandName; resolve: (value: unknown, arrivedAt: number) => void; reject: (error: Error) => void }>()
  private readonly listeners = new Map<EventName, Set<(payload: unknown) => void>>()

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      // Before parsing: callTimed() measures the answer's round trip, not this client's work on it.
      const arrivedAt = performance.now()
      const frame = uiServerFrameSchema.parse(JSON.parse(data.toString('utf8')))
      if ('event' in frame) {
        for (const listener of this.listeners.get(frame.event) ?? []) listener(frame.payload)
        return
      }
      const waiter = this.waiting.get(frame.id)
      if (!waiter) return
      this.waiting.delete(frame.id)
      if (frame.ok) waiter.resolve(frame.value, arrivedAt)
      else waiter.reject(new Error(`${waiter.command} failed: ${frame.error.code}: ${frame.error.message}`))
    })
    socket.on('close', () => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`the /ui socket closed before ${waiter.command} was answered`))
      this.waiting.clear()
    })
  }

  /** `baseUrl` as `tidewatch serve` prints it (http://host:port/). */
  static async connect(baseUrl: string, token: string): Promise<UiSocketClient> {
    const url = new URL(UI_SOCKET_PATH, baseUrl.replace(/^http/, 'ws'))
    url.searchParams.set('token', token)
    const socket = new WebSocket(url, { maxPayload: 64 * 1024 * 1024 })
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
    return new UiSocketClient(socket)
  }

  async call<N extends CommandName>(command: N, payload: CommandRequest<N>): Promise<CommandResponse<N>> {
    return (await this.callTimed(command, payload)).value
  }

  /**
   * call(), and the milliseconds from sending the request to the arrival of its answer's
   * frame (before this client parses it or checks it against the contract).
   */
  async callTimed<N extends CommandName>(command: N, payload: CommandRequest<N>): Promise<{ value: CommandResponse<N>; ms: number }> {
    const id = this.nextId++
    const sentAt = performance.now()
    const { value, arrivedAt } = await new Promise<{ value: unknown; arrivedAt: number }>((resolve, reject) => {
      this.waiting.set(id, { command, resolve: (answer, at) => resolve({ value: answer, arrivedAt: at }), reject })
      this.socket.send(JSON.stringify({ id, command, payload }))
    })
    // Checked against the contract as the UI checks it, so a wrong answer fails here.
    return { value: commands[command].response.parse(value) as CommandResponse<N>, ms: arrivedAt - sentAt }
  }

  on<N extends EventName>(event: N, listener: (payload: EventPayload<N>) => void): () => void {
    const set = this.listeners.get(event) ?? new Set()
    this.listeners.set(event, set)
    const checked = (payload: unknown): void => listener(events[event].parse(payload) as EventPayload<N>)
    set.add(checked)
    return () => set.delete(checked)
  }

  close(): void {
    this.socket.terminate()
  }
}

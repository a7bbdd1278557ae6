/** A /v1/stream client for tests: sends requests, collects messages by req_id. */
import WebSocket from 'ws'
import { waitFor } from './scripted-server'

export interface StreamMessage {
  type: string
  req_id: string | null
  data: Record<string, unknown>
}

export class StreamClient {
  readonly messages: StreamMessage[] = []
  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => this.messages.push(JSON.parse(data.toString()) as StreamMessage))
  }

  static async connect(baseUrl: string, token: string): Promise<StreamClient> {
    const url = new URL('/v1/stream', baseUrl.replace(/^http/, 'ws'))
    url.searchParams.set('token', token)
    const socket = new WebSocket(url)
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    return new StreamClient(socket)
  }

  send(request: unknown): void {
    this.socket.send(typeof request === 'string' ? request : JSON.stringify(request))
  }

  of(reqId: string): StreamMessage[] {
    return this.messages.filter((m) => m.req_id === reqId)
  }

  async until(label: string, predicate: (messages: StreamMessage[]) => boolean, timeoutMs = 60_000): Promise<void> {
    await waitFor(label, () => predicate(this.messages), timeoutMs, 50)
  }

  close(): void {
    this.socket.close()
  }
}

/** Applies log messages in order: added, then taken back by removed: true. Fails on inconsistencies. */
export function logView(messages: StreamMessage[]): Map<string, StreamMessage['data']> {
  const view = new Map<string, StreamMessage['data']>()
  for (const m of messages) {
    if (m.type !== 'log') continue
    const key = `${String(m.data.block_hash)}:${String(m.data.log_index)}`
    if (m.data.removed) {
      if (!view.delete(key)) throw new Error(`removed ${key} was never delivered`)
    } else {
      if (view.has(key)) throw new Error(`${key} delivered twice`)
      view.set(key, m.data)
    }
  }
  return view
}

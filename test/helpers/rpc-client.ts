/** A raw /v1/rpc client for tests: sends frames as given, keeps every frame it receives in order. */
import WebSocket from 'ws'
import { waitFor } from './scripted-server'

export interface RpcErrorBody {
  code: number
  message: string
  data?: unknown
}

export interface RpcFrame {
  jsonrpc?: string
  id?: string | number | null
  result?: unknown
  error?: RpcErrorBody
  method?: string
  params?: { subscription: string; result: unknown }
}

export class RpcTestClient {
  /** Every frame as parsed; a batch answer is one array entry. */
  readonly frames: (RpcFrame | RpcFrame[])[] = []
  private nextId = 1

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => this.frames.push(JSON.parse(data.toString()) as RpcFrame | RpcFrame[]))
  }

  static async connect(url: string): Promise<RpcTestClient> {
    const socket = new WebSocket(url)
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    return new RpcTestClient(socket)
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /** Sends a request with a fresh numeric id and waits for its answer. */
  async call(method: string, params?: unknown): Promise<RpcFrame> {
    const id = this.nextId++
    this.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) })
    return this.answer(id)
  }

  /** `eth_subscribe`; returns the subscription id (fails on an error answer). */
  async subscribe(...params: unknown[]): Promise<string> {
    const answer = await this.call('eth_subscribe', params)
    if (typeof answer.result !== 'string') throw new Error(`eth_subscribe failed: ${JSON.stringify(answer)}`)
    return answer.result
  }

  answer(id: string | number | null, timeoutMs = 15_000): Promise<RpcFrame> {
    return waitFor(`answer ${JSON.stringify(id)}`, () => this.singles().find((f) => f.method === undefined && f.id === id), timeoutMs)
  }

  /** Results of the notifications for one subscription, in arrival order. */
  results(subscription: string): unknown[] {
    return this.singles()
      .filter((f) => f.method === 'eth_subscription' && f.params?.subscription === subscription)
      .map((f) => f.params!.result)
  }

  async untilResults(subscription: string, count: number, timeoutMs = 15_000): Promise<unknown[]> {
    await waitFor(`${count} results of ${subscription}`, () => this.results(subscription).length >= count, timeoutMs)
    return this.results(subscription)
  }

  /** Frames that are not batch answers. */
  singles(): RpcFrame[] {
    return this.frames.filter((f): f is RpcFrame => !Array.isArray(f))
  }

  close(): void {
    this.socket.terminate()
  }
}

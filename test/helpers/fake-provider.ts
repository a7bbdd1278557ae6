/**
 * A scripted WebSocket provider that behaves like Alchemy: native alchemy_* and syncing
 * subscriptions, a per-connection subscription cap, rate-limit errors on demand, sockets
 * that go silent, and abrupt closes. Tests push notifications with `emit`.
 */
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'

export interface FakeSubscription {
  id: string
  socket: WebSocket
  params: unknown[]
}

export interface FakeProviderOptions {
  maxSubscriptionsPerConnection?: number
  /** The next answers to eth_getLogs by block hash misbehave: 'empty' (none despite the bloom) or 'wrong-block'. */
  badLogAnswers?: ('empty' | 'wrong-block')[]
  /** Types answered with -32602, as anvil does for alchemy_*. */
  unsupported?: string[]
  /** Reject `newPendingTransactions` with `true` (full transactions), as older nodes do. */
  hashesOnlyPending?: boolean
  /** eth_getLogs over a range refuses more results than this, as Infura does at 10,000. */
  maxLogsPerQuery?: number
  /** 'finalized' is this many blocks below the head (default 64). */
  finalityDepth?: number
  /** Every answer is sent this long after its request, as a remote provider's round trip (default 0: at once). */
  answerDelayMs?: number
}

export interface FakeBlock {
  number: string
  hash: string
  parentHash: string
  timestamp: string
  gasUsed: string
  gasLimit: string
  logsBloom: string
}

export interface FakeProvider {
  url: string
  /** The provider's chain: blocks by number, each with its logs. */
  chain: { block: FakeBlock; logs: Record<string, unknown>[] }[]
  /** Appends a block with these logs (filled in with block fields) and emits it on newHeads. */
  mine(logs?: { address: string; topics: string[]; data: string }[]): FakeBlock
  /** Replaces the newest `depth` blocks by a branch of `depth` blocks (announced on newHeads), like anvil_reorg. */
  reorg(depth: number, logs?: { address: string; topics: string[]; data: string }[]): void
  connections: Set<WebSocket>
  subscriptions: Map<string, FakeSubscription>
  methods: string[]
  /** Every request as received, in order. */
  requests: { method: string; params: unknown[] }[]
  /** Sends `result` to every live subscription whose eth_subscribe params[0] is `type`. */
  emit(type: string, result: unknown): number
  /** The next N eth_subscribe calls fail with a -32005 rate-limit error (throttle of eth_subscribe). */
  rateLimitNext(count: number): void
  /** N requests of `method`, after the next `skip` ones, fail with Alchemy's rate-limit error (-32005), as a free tier answers a burst. */
  throttle(method: string, count: number, skip?: number): void
  /** Stops reading from every socket: no answers, no pongs, like a half-open TCP path. */
  goSilent(): void
  /** New connections are answered again (sockets already silent stay silent). */
  speakAgain(): void
  closeAll(code?: number, reason?: string): void
  close(): Promise<void>
}

let counter = 0

export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const max = options.maxSubscriptionsPerConnection ?? 1000
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const connections = new Set<WebSocket>()
  const subscriptions = new Map<string, FakeSubscription>()
  const methods: string[] = []
  const requests: { method: string; params: unknown[] }[] = []
  const throttled = new Map<string, { skip: number; count: number }>()
  let silent = false
  let branch = 0
  const hex = (n: number) => `0x${n.toString(16)}`
  const hash = (n: number, salt = 0) => `0x${(n * 1000 + salt).toString(16).padStart(64, '0')}`
  const genesis: FakeBlock = {
    number: '0x0',
    hash: hash(0),
    parentHash: `0x${'0'.repeat(64)}`,
    timestamp: '0x0',
    gasUsed: '0x0',
    gasLimit: '0x1c9c380',
    logsBloom: `0x${'0'.repeat(512)}`,
  }
  const chain: { block: FakeBlock; logs: Record<string, unknown>[] }[] = [{ block: genesis, logs: [] }]
  const blockAt = (tag: unknown) => {
    const n = tag === 'latest' || tag === 'finalized' || tag === 'safe' ? chain.length - 1 : Number(tag)
    return chain[tag === 'finalized' ? Math.max(0, n - (options.finalityDepth ?? 64)) : n]
  }

  server.on('connection', (socket) => {
    connections.add(socket)
    if (silent) (socket as unknown as { _socket: { pause(): void } })._socket.pause()
    socket.on('close', () => {
      connections.delete(socket)
      for (const [id, sub] of subscriptions) if (sub.socket === socket) subscriptions.delete(id)
    })
    socket.on('message', (data) => {
      const request = JSON.parse(data.toString()) as { id: number; method: string; params: unknown[] }
      methods.push(request.method)
      requests.push({ method: request.method, params: request.params })
      const send = (text: string): void => void (options.answerDelayMs ? setTimeout(() => socket.send(text), options.answerDelayMs) : socket.send(text))
      const answer = (body: object): void => send(JSON.stringify({ jsonrpc: '2.0', id: request.id, ...body }))
      const throttle = throttled.get(request.method)
      if (throttle && throttle.skip > 0) throttle.skip -= 1
      else if (throttle && throttle.count > 0) {
        throttle.count -= 1
        return answer({ error: { code: -32005, message: 'Your app has exceeded its compute units per second capacity' } })
      }
      switch (request.method) {
        case 'eth_subscribe': {
          const type = String(request.params[0])
          if (options.unsupported?.includes(type) || (options.hashesOnlyPending && type === 'newPendingTransactions' && request.params[1] === true))
            return answer({ error: { code: -32602, message: 'data did not match any variant of untagged enum EthRpcCall' } })
          const mine = [...subscriptions.values()].filter((s) => s.socket === socket).length
          if (mine >= max) return answer({ error: { code: -32603, message: `subscription limit of ${max} per connection reached` } })
          const id = `0x${(++counter).toString(16).padStart(32, '0')}`
          subscriptions.set(id, { id, socket, params: request.params })
          return answer({ result: id })
        }
        case 'eth_unsubscribe':
          return answer({ result: subscriptions.delete(String(request.params[0])) })
        case 'eth_chainId':
          return answer({ result: '0x1' })
        case 'eth_getBlockTransactionCountByHash':
          return answer({ result: '0x0' })
        case 'eth_syncing':
          return answer({ result: false })
        case 'eth_blockNumber':
          return answer({ result: hex(chain.length - 1) })
        case 'eth_getBlockByNumber':
          return answer({ result: blockAt(request.params[0])?.block ?? null })
        case 'eth_getLogs': {
          const filter = request.params[0] as {
            blockHash?: string
            fromBlock?: string
            toBlock?: string
            address?: string | string[]
            topics?: (string | string[] | null)[]
          }
          const entries = filter.blockHash
            ? chain.filter((e) => e.block.hash === filter.blockHash)
            : chain.slice(Number(filter.fromBlock), Number(filter.toBlock) + 1)
          const addresses = filter.address === undefined ? null : [filter.address].flat().map((a) => a.toLowerCase())
          const matches = (log: Record<string, unknown>): boolean => {
            if (addresses && !addresses.includes(String(log.address).toLowerCase())) return false
            const topics = log.topics as string[]
            return (filter.topics ?? []).every((wanted, i) => wanted === null || (topics[i] !== undefined && [wanted].flat().includes(topics[i])))
          }
          const result = entries.flatMap((e) => e.logs).filter(matches)
          const bad = filter.blockHash && result.length > 0 ? options.badLogAnswers?.shift() : undefined
          if (bad === 'empty') return answer({ result: [] })
          if (bad === 'wrong-block') return answer({ result: result.map((l) => ({ ...l, blockHash: hash(999_999) })) })
          if (filter.fromBlock && options.maxLogsPerQuery !== undefined && result.length > options.maxLogsPerQuery) {
            return answer({ error: { code: -32005, message: `query returned more than ${options.maxLogsPerQuery} results` } })
          }
          return answer({ result })
        }
        default:
          return answer({ error: { code: -32601, message: `the method ${request.method} does not exist/is not available` } })
      }
    })
  })

  const { port } = server.address() as AddressInfo
  const provider: FakeProvider = {
    url: `ws://127.0.0.1:${port}`,
    chain,
    reorg(depth, logs = []) {
      chain.splice(chain.length - depth, depth)
      branch += 1
      for (let i = 0; i < depth; i++) provider.mine(logs)
    },
    mine(logs = []) {
      const n = chain.length
      const parent = chain[n - 1]!.block
      const block: FakeBlock = {
        ...genesis,
        number: hex(n),
        hash: hash(n, branch * 100),
        parentHash: parent.hash,
        timestamp: hex(n * 12),
        logsBloom: logs.length ? `0x${'f'.repeat(512)}` : genesis.logsBloom,
      }
      chain.push({
        block,
        logs: logs.map((log, i) => ({
          ...log,
          blockNumber: block.number,
          blockHash: block.hash,
          logIndex: hex(i),
          transactionHash: hash(n, branch * 100 + i + 1),
          transactionIndex: hex(i),
          removed: false,
        })),
      })
      provider.emit('newHeads', block)
      return block
    },
    connections,
    subscriptions,
    methods,
    requests,
    emit(type, result) {
      let sent = 0
      for (const sub of subscriptions.values()) {
        if (sub.params[0] !== type) continue
        sub.socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription: sub.id, result } }))
        sent += 1
      }
      return sent
    },
    throttle(method, count, skip = 0) {
      throttled.set(method, { skip, count })
    },
    rateLimitNext(count) {
      provider.throttle('eth_subscribe', count)
    },
    goSilent() {
      silent = true
      for (const socket of connections) (socket as unknown as { _socket: { pause(): void } })._socket.pause()
    },
    speakAgain() {
      silent = false
    },
    closeAll(code = 1001, reason = 'going away') {
      for (const socket of connections) socket.close(code, reason)
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of connections) socket.terminate()
        server.close(() => resolve())
      }),
  }
  return provider
}

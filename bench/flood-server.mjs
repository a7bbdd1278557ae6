// The upstream of the ingest benchmark: a local `ws` JSON-RPC server, run as its own
// process (forked by the bench, so its CPU and memory are not counted as Tidewatch's).
// It serves the same deterministic mainnet-shaped logs (mainnet-logs.mjs) two ways:
//
// Notification flood: each `logs` eth_subscribe gets the planned number of
// `eth_subscription` notifications, as fast as the client reads them. The flood bypasses
// `ws`'s per-message send: it writes the very bytes `ws` would write (unmasked text
// frames, one notification each) to the upgraded TCP socket, many frames per write, while
// less than HIGH_WATER bytes wait in the socket's buffer, then waits for 'drain'. One
// `ws.send` per frame costs the server a syscall per log and made the server, not the
// client, the bottleneck on two cores.
//
// Chain: blocks of LOGS_PER_BLOCK logs served the way a node serves them: newHeads
// notifications, eth_blockNumber, eth_getBlockByNumber (latest, finalized = head - 64, by
// number), eth_getLogs by block hash. The chain starts at block FIRST_BLOCK - 1 (no logs)
// and, once told to go, stays CHAIN_LEAD blocks (env BENCH_CHAIN_LEAD, default 16) ahead
// of the newest block whose logs a client fetched, announcing each new block with a
// newHeads notification: the client never waits for the chain (as when catching up, or on
// a chain faster than the client), so the client is what limits the rate.
//
// Paced chain (the live-log benchmark): instead of following the client, the chain
// produces blocks on a clock, `blocksPerSecond` from the moment it is told, however fast
// the client fetches them: a steady arrival rate of blocksPerSecond × LOGS_PER_BLOCK logs
// per second while something else (a browser) is measured. 0 stops the chain.
//
// Anything else gets a null result (eth_getBlockTransactionCountByHash: a count).
//
// Parent → server (IPC): { type: 'plan', count }           (logs subscriptions) → { type: 'planned' }
//                        { type: 'chain', blocks }         (reset the chain)     → { type: 'planned' }
//                        { type: 'go' }                    (first new block)
//                        { type: 'pace', blocksPerSecond } (paced chain)       → { type: 'paced', head }
// Server → parent:       { type: 'ready', port }, { type: 'flood-start', at, count },
//                        { type: 'flood-done', at, sent, cpuMs }, { type: 'chain-done', at, blocks, cpuMs }
import { WebSocketServer } from 'ws'
import { FIRST_BLOCK, LOGS_PER_BLOCK, MainnetLogs, POOL_SIZE } from './mainnet-logs.mjs'

const LOGS_SUBSCRIPTION_ID = '0x9cef478923ff08bf67fde6c64013158d'
const HEADS_SUBSCRIPTION_ID = '0x4a8a4c0517381924f9838102c5a4dcb7'
const HIGH_WATER = 4 * 1024 * 1024
const SLAB_BYTES = 128 * 1024
/** Slabs written per event-loop turn, so requests (eth_unsubscribe, pings) are still served. */
const SLABS_PER_TURN = 8
const FINALITY_DEPTH = 64
/** How far the chain's head runs ahead of the newest block whose logs a client fetched. */
const CHAIN_LEAD = Math.max(1, Number(process.env.BENCH_CHAIN_LEAD ?? 16))

const logs = new MainnetLogs()
/** Block index by hash, for eth_getLogs({ blockHash }). */
let blockIndex = new Map()
let wire = prepare(Number(process.env.BENCH_FLOOD_PREPARE ?? POOL_SIZE))
let plannedCount = 0

function prepare(count) {
  logs.prepare(count)
  const built = logs.wire(LOGS_SUBSCRIPTION_ID)
  blockIndex = new Map(logs.blockHashes.map((hash, k) => [hash, k]))
  blockIndex.set(JSON.parse(built.blockJson(-1)).hash, -1)
  return built
}

const chain = { head: -1, last: -1, going: false, startCpuMs: 0 }
/** The paced chain's clock: `perSecond` blocks a second counted from block `base` at `since`. */
const pacing = { timer: null, base: -1, since: 0, perSecond: 0 }
/** Sockets with a newHeads subscription. */
const headListeners = new Set()

const send = (message) => process.connected && process.send?.(message)
const cpuMs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}
const hex = (n) => `0x${n.toString(16)}`

/** Answers for announced blocks, built while the client is busy with earlier ones. */
const prebuilt = new Map()
function answersFor(k) {
  let answers = prebuilt.get(k)
  if (!answers) prebuilt.set(k, (answers = { block: wire.blockJson(k), logs: wire.logsOfBlockBuffer(k) }))
  return answers
}

function announce(k) {
  setImmediate(() => k > chain.head - 2 * CHAIN_LEAD && answersFor(k))
  const frame = `{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"${HEADS_SUBSCRIPTION_ID}","result":${wire.headJson(k)}}}`
  for (const ws of headListeners) if (ws.readyState === ws.OPEN) ws.send(frame)
}

/** The block a tag or number names, as an index from FIRST_BLOCK, or null when there is none. */
function blockOf(tag) {
  if (tag === 'latest' || tag === 'pending' || tag === 'safe') return chain.head
  if (tag === 'finalized') return Math.max(-1, chain.head - FINALITY_DEPTH)
  if (typeof tag !== 'string' || !/^0x[0-9a-f]+$/i.test(tag)) return null
  const k = Number(tag) - FIRST_BLOCK
  return k >= -1 && k <= chain.head ? k : null
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 16 * 1024 * 1024 })
wss.on('connection', (ws, request) => {
  const socket = request.socket
  /** @type {{ stopped: boolean } | null} */
  let flood = null

  const startFlood = () => {
    if (flood) flood.stopped = true
    const run = { stopped: false }
    flood = run
    const count = plannedCount
    const { writeNotificationFrame } = wire
    const cpuAtStart = cpuMs()
    let seq = 0
    send({ type: 'flood-start', at: Date.now(), count })
    const pump = () => {
      for (let slabs = 0; slabs < SLABS_PER_TURN; slabs++) {
        if (run.stopped || ws.readyState !== ws.OPEN) return
        const slab = Buffer.allocUnsafe(SLAB_BYTES)
        let used = 0
        while (seq < count) {
          const end = writeNotificationFrame(seq, slab, used)
          if (end < 0) break
          used = end
          seq += 1
        }
        if (seq === count) {
          socket.write(slab.subarray(0, used), () => send({ type: 'flood-done', at: Date.now(), sent: count, cpuMs: cpuMs() - cpuAtStart }))
          return
        }
        socket.write(slab.subarray(0, used))
        if (socket.writableLength >= HIGH_WATER) {
          socket.once('drain', pump)
          return
        }
      }
      setImmediate(pump)
    }
    // After the subscription id went out: the notifications follow it, as from a provider.
    setImmediate(pump)
  }

  ws.on('message', (raw) => {
    let request
    try {
      request = JSON.parse(raw.toString())
    } catch {
      return
    }
    const params = Array.isArray(request.params) ? request.params : []
    const answerJson = (json) => ws.send(`{"jsonrpc":"2.0","id":${JSON.stringify(request.id)},"result":${json}}`)
    const answer = (result) => answerJson(JSON.stringify(result))
    switch (request.method) {
      case 'eth_subscribe': {
        const type = params[0]
        if (type === 'logs') {
          answer(LOGS_SUBSCRIPTION_ID)
          startFlood()
        } else if (type === 'newHeads') {
          headListeners.add(ws)
          answer(HEADS_SUBSCRIPTION_ID)
        } else ws.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, error: { code: -32601, message: `unsupported subscription ${type}` } }))
        return
      }
      case 'eth_unsubscribe':
        if (params[0] === LOGS_SUBSCRIPTION_ID && flood) flood.stopped = true
        if (params[0] === HEADS_SUBSCRIPTION_ID) headListeners.delete(ws)
        return answer(true)
      case 'eth_chainId':
        return answer('0x1')
      case 'eth_blockNumber':
        return answer(hex(FIRST_BLOCK + chain.head))
      case 'eth_getBlockByNumber': {
        const k = blockOf(params[0])
        return k === null ? answer(null) : answerJson(answersFor(k).block)
      }
      case 'eth_getBlockTransactionCountByHash':
        return answer('0x7d')
      case 'eth_getLogs': {
        const filter = params[0] ?? {}
        const k = typeof filter.blockHash === 'string' ? blockIndex.get(filter.blockHash.toLowerCase()) : undefined
        if (k === undefined || k > chain.head) return answer([])
        ws.send(Buffer.concat([Buffer.from(`{"jsonrpc":"2.0","id":${JSON.stringify(request.id)},"result":`), answersFor(k).logs, Buffer.from('}')]), {
          binary: false,
        })
        // Older blocks are still asked for ('finalized', reorg checks) but rarely: rebuilt then.
        prebuilt.delete(k - 2 * FINALITY_DEPTH)
        if (!chain.going) return
        // The client has block k: the chain moves on to stay CHAIN_LEAD blocks ahead of it.
        while (chain.head < Math.min(chain.last, k + CHAIN_LEAD)) announce(++chain.head)
        if (k === chain.last) {
          chain.going = false
          send({ type: 'chain-done', at: Date.now(), blocks: chain.last + 1, cpuMs: cpuMs() - chain.startCpuMs })
        }
        return
      }
      default:
        return answer(null)
    }
  })
  ws.on('close', () => {
    if (flood) flood.stopped = true
    headListeners.delete(ws)
  })
  ws.on('error', () => undefined)
})

process.on('message', (message) => {
  if (message?.type === 'plan' || message?.type === 'chain') {
    const count = message.type === 'plan' ? message.count : message.blocks * LOGS_PER_BLOCK
    if (count > logs.rounds * POOL_SIZE) wire = prepare(count)
    if (message.type === 'plan') plannedCount = message.count
    else {
      Object.assign(chain, { head: -1, last: message.blocks - 1, going: false })
      prebuilt.clear()
    }
    send({ type: 'planned' })
  } else if (message?.type === 'pace') {
    pace(Math.max(0, Number(message.blocksPerSecond) || 0))
  } else if (message?.type === 'go') {
    chain.going = true
    chain.startCpuMs = cpuMs()
    chain.head = 0
    announce(0)
  }
})
/** Produces blocks on a clock from now on (0: stops); the client-driven lead is off meanwhile. */
function pace(perSecond) {
  clearInterval(pacing.timer)
  pacing.timer = null
  chain.going = false
  Object.assign(pacing, { base: chain.head, since: performance.now(), perSecond })
  if (perSecond > 0) {
    // Ticks twice per block interval, so blocks come out on time rather than in pairs.
    pacing.timer = setInterval(
      () => {
        const due = Math.min(chain.last, pacing.base + Math.floor(((performance.now() - pacing.since) * pacing.perSecond) / 1000))
        while (chain.head < due) announce(++chain.head)
      },
      Math.max(5, Math.floor(500 / perSecond)),
    )
  }
  send({ type: 'paced', head: chain.head })
}

process.on('disconnect', () => process.exit(0))

wss.on('listening', () => send({ type: 'ready', port: wss.address().port }))

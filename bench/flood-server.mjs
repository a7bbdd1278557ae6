// The upstream of the ingest benchmark: a local `ws` JSON-RPC server, run as its own
// process (forked by the bench, so its CPU and memory are not Tidewatch's). It answers
// what Tidewatch asks (eth_subscribe, eth_unsubscribe, eth_chainId, the head path's
// eth_getBlockTransactionCountByHash; anything else gets a null result) and, on each
// `logs` subscription, sends the planned number of `eth_subscription` notifications as
// fast as the client reads them: it writes while the socket buffer holds less than
// HIGH_WATER bytes, then waits until the socket has flushed.
//
// Parent → server (IPC): { type: 'plan', count }            → { type: 'planned' }
// Server → parent:       { type: 'ready', port }, { type: 'flood-start', at }, { type: 'flood-done', at, sent }
import { WebSocketServer } from 'ws'
import { MainnetLogs, POOL_SIZE } from './mainnet-logs.mjs'

export const LOGS_SUBSCRIPTION_ID = '0x9cef478923ff08bf67fde6c64013158d'
const HEADS_SUBSCRIPTION_ID = '0x4a8a4c0517381924f9838102c5a4dcb7'
const HIGH_WATER = 4 * 1024 * 1024
/** Yield to the event loop this often even when the kernel takes every write. */
const FRAMES_PER_TURN = Number(process.env.FPT ?? 256)

const maxCount = Number(process.env.BENCH_FLOOD_MAX ?? 1_000_000)
const logs = new MainnetLogs()
logs.prepare(maxCount)
let frame = logs.frameBuilder(LOGS_SUBSCRIPTION_ID)
let plannedCount = 0

const send = (message) => process.send?.(message)

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
    let seq = 0
    send({ type: 'flood-start', at: Date.now(), count })
    const pump = () => {
      socket.cork()
      try {
        pumpCorked()
      } finally {
        socket.uncork()
      }
    }
    const pumpCorked = () => {
      let turn = 0
      while (seq < count) {
        if (run.stopped || ws.readyState !== ws.OPEN) return
        const data = frame(seq++)
        if (seq === count) {
          ws.send(data, () => send({ type: 'flood-done', at: Date.now(), sent: count }))
          return
        }
        if (ws.bufferedAmount >= HIGH_WATER) {
          // Resume once everything up to this frame has been handed to the kernel.
          ws.send(data, (error) => (error ? undefined : pump()))
          return
        }
        ws.send(data)
        if (++turn === FRAMES_PER_TURN) {
          setImmediate(pump)
          return
        }
      }
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
    const answer = (result) => ws.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, result }))
    switch (request.method) {
      case 'eth_subscribe': {
        const type = request.params?.[0]
        if (type === 'logs') {
          answer(LOGS_SUBSCRIPTION_ID)
          startFlood()
        } else if (type === 'newHeads') answer(HEADS_SUBSCRIPTION_ID)
        else ws.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, error: { code: -32601, message: `unsupported subscription ${type}` } }))
        return
      }
      case 'eth_unsubscribe':
        if (request.params?.[0] === LOGS_SUBSCRIPTION_ID && flood) flood.stopped = true
        return answer(true)
      case 'eth_chainId':
        return answer('0x1')
      case 'eth_getBlockTransactionCountByHash':
        return answer('0x0')
      default:
        return answer(null)
    }
  })
  ws.on('close', () => {
    if (flood) flood.stopped = true
  })
  ws.on('error', () => undefined)
})

process.on('message', (message) => {
  if (message?.type === 'plan') {
    if (message.count > logs.rounds * POOL_SIZE) {
      logs.prepare(message.count)
      frame = logs.frameBuilder(LOGS_SUBSCRIPTION_ID)
    }
    plannedCount = message.count
    send({ type: 'planned' })
  }
})
process.on('disconnect', () => process.exit(0))

wss.on('listening', () => send({ type: 'ready', port: wss.address().port }))

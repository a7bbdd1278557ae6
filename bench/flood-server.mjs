// The upstream of the ingest benchmark: a local `ws` JSON-RPC server, run as its own
// process (forked by the bench, so its CPU and memory are not counted as Tidewatch's). It
// answers what Tidewatch asks (eth_subscribe, eth_unsubscribe, eth_chainId, the head
// path's eth_getBlockTransactionCountByHash; anything else gets a null result) and, on
// each `logs` subscription, sends the planned number of `eth_subscription` notifications
// as fast as the client reads them.
//
// The flood bypasses `ws`'s per-message send: it writes the very bytes `ws` would write
// (unmasked text frames, one notification each) to the upgraded TCP socket, many frames
// per write, while less than HIGH_WATER bytes wait in the socket's buffer, then waits for
// 'drain'. One `ws.send` per frame costs the server a syscall per log and made it, not the
// client, the bottleneck (about 200k frames/s on two cores); this way the server's share
// stays small, and the bench's "transport ceiling" shows how much room is left.
//
// Parent → server (IPC): { type: 'plan', count } → { type: 'planned' }
// Server → parent:       { type: 'ready', port }, { type: 'flood-start', at, count },
//                        { type: 'flood-done', at, sent, cpuMs }
import { WebSocketServer } from 'ws'
import { MainnetLogs, POOL_SIZE } from './mainnet-logs.mjs'

export const LOGS_SUBSCRIPTION_ID = '0x9cef478923ff08bf67fde6c64013158d'
const HEADS_SUBSCRIPTION_ID = '0x4a8a4c0517381924f9838102c5a4dcb7'
const HIGH_WATER = 4 * 1024 * 1024
const SLAB_BYTES = 128 * 1024
/** Slabs written per event-loop turn, so requests (eth_unsubscribe, pings) are still served. */
const SLABS_PER_TURN = 8

const logs = new MainnetLogs()
logs.prepare(Number(process.env.BENCH_FLOOD_PREPARE ?? POOL_SIZE))
let notifications = logs.notifications(LOGS_SUBSCRIPTION_ID)
let plannedCount = 0

const send = (message) => process.connected && process.send?.(message)
const cpuMs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
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
    const { writeFrame } = notifications
    const cpuAtStart = cpuMs()
    let seq = 0
    send({ type: 'flood-start', at: Date.now(), count })
    const pump = () => {
      for (let slabs = 0; slabs < SLABS_PER_TURN; slabs++) {
        if (run.stopped || ws.readyState !== ws.OPEN) return
        const slab = Buffer.allocUnsafe(SLAB_BYTES)
        let used = 0
        while (seq < count) {
          const end = writeFrame(seq, slab, used)
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
      notifications = logs.notifications(LOGS_SUBSCRIPTION_ID)
    }
    plannedCount = message.count
    send({ type: 'planned' })
  }
})
process.on('disconnect', () => process.exit(0))

wss.on('listening', () => send({ type: 'ready', port: wss.address().port }))

/**
 * A TCP proxy that cuts every connection through it at random moments: the dropped
 * upstream connections Tidewatch must survive without missing or repeating anything.
 * Loopback only, and it stops cutting when told to.
 */
import net from 'node:net'
import type { AddressInfo } from 'node:net'

export interface FaultProxy {
  port: number
  cuts: number
  startCutting(minMs: number, maxMs: number): void
  stopCutting(): void
  /**
   * The connections open now go silent both ways without closing (a half-open path: no
   * data, no FIN, no RST) until the peer gives up on them; new connections work.
   */
  silenceOpen(): void
  close(): Promise<void>
}

export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>()
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1')
    const pair: [net.Socket, net.Socket] = [client, upstream]
    pairs.add(pair)
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  let timer: NodeJS.Timeout | null = null
  const proxy: FaultProxy = {
    port: (server.address() as AddressInfo).port,
    cuts: 0,
    startCutting(minMs, maxMs) {
      const schedule = () => {
        timer = setTimeout(
          () => {
            for (const [client, upstream] of pairs) {
              client.destroy()
              upstream.destroy()
            }
            proxy.cuts += 1
            schedule()
          },
          minMs + Math.random() * (maxMs - minMs),
        )
      }
      schedule()
    },
    stopCutting() {
      if (timer) clearTimeout(timer)
      timer = null
    },
    silenceOpen() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.pause()
        upstream.pause()
      }
    },
    close: () =>
      new Promise((resolve) => {
        proxy.stopCutting()
        for (const [client, upstream] of pairs) {
          client.destroy()
          upstream.destroy()
        }
        server.close(() => resolve())
      }),
  }
  return proxy
}

/** The HTTP status a WebSocket upgrade is refused with; fails if the upgrade succeeds. */
import WebSocket from 'ws'

export function refusedUpgradeStatus(url: string | URL): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const socket = new WebSocket(url)
    socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0))
    socket.on('open', () => {
      socket.terminate()
      reject(new Error('connected without a token'))
    })
    socket.on('error', reject)
  })
}

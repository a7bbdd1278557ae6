/**
 * Raw HTTP over TCP for tests: the bytes exactly as given (paths such as `//` or `%zz`,
 * odd or missing headers, half a request), as a fast or a byte-by-byte client, optionally
 * ending in a TCP reset; the answer as text.
 */
import net from 'node:net'

export interface RawExchangeOptions {
  /** Address to connect to; 127.0.0.1 unless given. */
  host?: string
  /** Write this many bytes at a time, each after the previous one was flushed: a slow client. */
  chunkSize?: number
  /** Reset the connection (RST) after writing this many bytes, without reading any answer. */
  resetAfter?: number
  /** Half-close after writing, as a client that has nothing more to say (the server then answers what it can and closes). */
  halfClose?: boolean
  timeoutMs?: number
}

export interface RawAnswer {
  /** Everything the server sent until its first answer was complete or it closed the connection. */
  text: string
  /** The status code of the first status line, or null when nothing came back. */
  status: number | null
  /** The body of the first answer. */
  body: string
}

export function rawExchange(port: number, request: string | Buffer, options: RawExchangeOptions = {}): Promise<RawAnswer> {
  const bytes = typeof request === 'string' ? Buffer.from(request, 'latin1') : request
  const headOnly = bytes.subarray(0, 5).toString('latin1') === 'HEAD '
  const timeoutMs = options.timeoutMs ?? 10_000
  return new Promise<RawAnswer>((resolve, reject) => {
    const socket = net.connect({ host: options.host ?? '127.0.0.1', port, noDelay: true })
    const chunks: Buffer[] = []
    const answer = (): RawAnswer & { complete: boolean } => {
      const text = Buffer.concat(chunks).toString('latin1')
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)
      const blank = text.indexOf('\r\n\r\n')
      if (!status || blank < 0) return { text, status: status ? Number(status[1]) : null, body: '', complete: false }
      const head = text.slice(0, blank)
      const length = /\r\ncontent-length: *(\d+)/i.exec(head)
      const rest = text.slice(blank + 4)
      const bodyLength = headOnly || status[1] === '101' || status[1] === '204' || status[1] === '304' ? 0 : length ? Number(length[1]) : null
      if (bodyLength === null && /\r\ntransfer-encoding: *chunked/i.test(head))
        return { text, status: Number(status[1]), body: rest, complete: rest.endsWith('0\r\n\r\n') }
      const complete = bodyLength !== null && Buffer.byteLength(rest, 'latin1') >= bodyLength
      return { text, status: Number(status[1]), body: bodyLength === null ? rest : rest.slice(0, bodyLength), complete }
    }
    const finish = (): void => {
      clearTimeout(timer)
      const { text, status, body } = answer()
      resolve({ text, status, body })
    }
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no end of answer within ${timeoutMs} ms; got ${JSON.stringify(answer().text.slice(0, 200))}`))
    }, timeoutMs)
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      if (answer().complete) {
        socket.destroy()
        finish()
      }
    })
    // The server may reset a connection it refuses mid-request; what came before still counts.
    socket.on('error', () => undefined)
    socket.on('close', finish)
    socket.once('connect', () => {
      void (async () => {
        const end = Math.min(options.resetAfter ?? bytes.length, bytes.length)
        const step = options.chunkSize ?? Math.max(end, 1)
        for (let at = 0; at < end && !socket.destroyed; at += step) {
          await new Promise<void>((written) => socket.write(bytes.subarray(at, Math.min(at + step, end)), () => written()))
        }
        if (options.resetAfter !== undefined) socket.resetAndDestroy()
        else if (options.halfClose) socket.end()
      })()
    })
  })
}

/**
 * Plain JSON-RPC over HTTP, for connections that give an HTTP URL for non-subscription calls.
 * Credentials in the URL (`https://user:password@host/`) go as an `Authorization: Basic`
 * header: fetch refuses URLs that carry them. No error from here carries the URL's secrets:
 * fetch's own messages can quote the whole URL, and they reach logs, the UI and /v1/rpc clients.
 */
import { ConnectionClosedError, JsonRpcError, RequestTimeoutError } from '../rpc/json-rpc-client'
import { redactSecretsIn, redactUrl } from '../redact-url'
import { AnswerTooLargeError } from './rpc-errors'
import { MAX_FRAME_BYTES } from './upstream-socket'

let nextId = 1

interface Endpoint {
  /** The URL without userinfo. */
  href: string
  authorization: string | null
}

function decodedUserinfo(part: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    return part
  }
}

/** Splits userinfo off the URL into a Basic authorization header (RFC 7617: user-id ":" password, UTF-8, base64). */
export function httpEndpoint(raw: string): Endpoint | null {
  if (!URL.canParse(raw)) return null
  const url = new URL(raw)
  if (!url.username && !url.password) return { href: url.href, authorization: null }
  const credentials = `${decodedUserinfo(url.username)}:${decodedUserinfo(url.password)}`
  url.username = ''
  url.password = ''
  return { href: url.href, authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` }
}

/**
 * Why fetch failed, in words a person can act on, with the URL's secrets masked. No answer
 * came, so the errors are the socket's own kinds (upstream_unavailable, retried by withRetry).
 */
function fetchFailure(error: unknown, url: string, method: string, timeoutMs: number): Error {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return new RequestTimeoutError(method, timeoutMs)
  const cause = error instanceof Error ? (error.cause as (Error & { code?: string }) | undefined) : undefined
  const reason = cause?.code ?? (cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error))
  return new ConnectionClosedError(redactSecretsIn(`${method}: could not reach ${redactUrl(url)}: ${reason}`, url))
}

/**
 * The body as text, refused past `maxBytes` (the socket's frame limit, for the same
 * reasons): fetch would otherwise hold any answer in memory, however large.
 */
async function boundedText(response: Response, method: string, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'))
  if (declared > maxBytes) {
    await response.body?.cancel()
    throw new AnswerTooLargeError(method, maxBytes)
  }
  if (!response.body) return ''
  const chunks: Uint8Array[] = []
  let received = 0
  for await (const chunk of response.body) {
    received += chunk.byteLength
    if (received > maxBytes) {
      await response.body.cancel().catch(() => undefined)
      throw new AnswerTooLargeError(method, maxBytes)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

export async function httpRequest<T>(
  url: string,
  method: string,
  params: readonly unknown[],
  timeoutMs = 30_000,
  maxAnswerBytes = MAX_FRAME_BYTES,
): Promise<T> {
  const endpoint = httpEndpoint(url)
  if (!endpoint) throw new Error(`${method}: the connection's HTTP URL is not a valid URL`)
  const redact = (text: string): string => redactSecretsIn(text, url)
  let body: { result?: T; error?: { code?: number; message?: string; data?: unknown } }
  try {
    const response = await fetch(endpoint.href, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(endpoint.authorization ? { authorization: endpoint.authorization } : {}) },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    })
    if (response.status === 429) throw new JsonRpcError(429, `${method}: HTTP 429 Too Many Requests`)
    if (!response.ok) throw new JsonRpcError(-32603, redact(`${method}: HTTP ${response.status} ${response.statusText} from ${redactUrl(url)}`))
    const text = await boundedText(response, method, maxAnswerBytes)
    try {
      body = JSON.parse(text) as typeof body
    } catch {
      throw new JsonRpcError(-32603, `${method}: ${redactUrl(url)} answered HTTP ${response.status} with a body that is not JSON`)
    }
  } catch (error) {
    if (error instanceof JsonRpcError || error instanceof AnswerTooLargeError) throw error
    throw fetchFailure(error, url, method, timeoutMs)
  }
  if (body === null || typeof body !== 'object')
    throw new JsonRpcError(-32603, `${method}: ${redactUrl(url)} answered with something that is not a JSON-RPC response`)
  if (body.error) {
    // Some providers quote the request URL, key included, in their error text.
    const upstreamMessage = typeof body.error.message === 'string' ? redact(body.error.message) : undefined
    throw new JsonRpcError(
      typeof body.error.code === 'number' ? body.error.code : -32603,
      `${method}: ${upstreamMessage ?? 'error'}`,
      body.error.data,
      upstreamMessage,
    )
  }
  return body.result as T
}

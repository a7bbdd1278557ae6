/** Plain JSON-RPC over HTTP, for connections that give an HTTP URL for non-subscription calls. */
import { JsonRpcError } from '../rpc/json-rpc-client'

let nextId = 1

export async function httpRequest<T>(url: string, method: string, params: readonly unknown[], timeoutMs = 30_000): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  if (response.status === 429) throw new JsonRpcError(429, `${method}: HTTP 429 Too Many Requests`)
  if (!response.ok) throw new JsonRpcError(-32603, `${method}: HTTP ${response.status} ${response.statusText}`)
  const body = (await response.json()) as { result?: T; error?: { code?: number; message?: string; data?: unknown } }
  if (body.error) throw new JsonRpcError(body.error.code ?? -32603, `${method}: ${body.error.message ?? 'error'}`, body.error.data, body.error.message)
  return body.result as T
}

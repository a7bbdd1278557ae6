/**
 * The `/v1/rpc` protocol (PROTOCOL.md section 2): JSON-RPC 2.0 as the Alchemy WebSocket
 * guide speaks it (shared/seeds/003), so existing clients can point at Tidewatch instead of
 * the provider. Request validation lives here; what a request does lives in
 * src/main/rpc-endpoint. Messages name the offending field (`params[1].address[0]`) so a
 * person can tell what to fix.
 */
import { z } from 'zod'
import { describeZodError } from './contract'
import { SUBSCRIPTION_TYPES, subscriptionParamsSchemas, subscriptionSpecSchema, type SubscriptionSpec, type SubscriptionType } from './subscription-params'
import { MAX_LIVE_REQUESTS } from './stream-protocol'

export const RPC_PATH = '/v1/rpc'

/** JSON-RPC 2.0 codes, and the EIP-1474 server codes Tidewatch answers with itself. */
export const RPC_ERROR_CODES = {
  parseError: -32700,
  invalidRequest: -32600,
  invalidParams: -32602,
  internalError: -32603,
  /** EIP-1474 "resource unavailable": no upstream connection, or it did not answer. */
  upstreamUnavailable: -32002,
  /** EIP-1474 "limit exceeded". */
  limitExceeded: -32005,
} as const

/** Alchemy's per-connection subscription limit, as on /v1/stream (PROTOCOL.md section 1). */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = MAX_LIVE_REQUESTS

/** Past this, a batch is refused whole; geth's default batch limit. */
export const MAX_BATCH_LENGTH = 1000

export type JsonRpcId = string | number | null

export interface JsonRpcErrorObject {
  code: number
  message: string
  data?: unknown
}

export type JsonRpcResponse = { jsonrpc: '2.0'; id: JsonRpcId; result: unknown } | { jsonrpc: '2.0'; id: JsonRpcId; error: JsonRpcErrorObject }

export interface SubscriptionNotification {
  jsonrpc: '2.0'
  method: 'eth_subscription'
  params: { subscription: string; result: unknown }
}

// z.number() refuses Infinity, which is what JSON.parse makes of an id like 1e400.
const idSchema = z.union([z.string(), z.number(), z.null()])

const requestSchema = z.object({
  jsonrpc: z.literal('2.0', 'jsonrpc must be "2.0"'),
  method: z.string('method must be a string'),
  params: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())], 'params must be an array or an object').optional(),
  id: idSchema.optional(),
})

export interface JsonRpcRequest {
  method: string
  /** By-position params; by-name params are kept as given, for the method to refuse. */
  params: unknown[] | Record<string, unknown>
  id: JsonRpcId
  /** No `id` member: the client wants no answer. */
  notification: boolean
}

export type ParsedRpcRequest = { ok: true; request: JsonRpcRequest } | { ok: false; id: JsonRpcId; error: JsonRpcErrorObject }

/** Validates one request object (a whole frame, or one entry of a batch). */
export function parseRpcRequest(value: unknown): ParsedRpcRequest {
  const parsed = requestSchema.safeParse(value)
  if (!parsed.success) {
    // The id is echoed when it is a valid one, so the client can match the error to its request.
    const rawId = isRecord(value) ? idSchema.safeParse(value.id) : null
    const id = rawId?.success ? rawId.data : null
    const problem = isRecord(value) ? (parsed.error.issues[0]?.message ?? 'invalid request') : 'a request must be a JSON object'
    return { ok: false, id, error: { code: RPC_ERROR_CODES.invalidRequest, message: `Invalid request: ${problem}` } }
  }
  const { method, params, id } = parsed.data
  return { ok: true, request: { method, params: params ?? [], id: id ?? null, notification: id === undefined } }
}

export type ParsedParams<T> = { ok: true; value: T } | { ok: false; error: JsonRpcErrorObject }

/** `eth_subscribe` params: `[type]` or `[type, params]`, validated with the same schemas as every other transport. */
export function parseSubscribeParams(params: JsonRpcRequest['params']): ParsedParams<SubscriptionSpec> {
  if (!Array.isArray(params)) return invalidParams('params', 'eth_subscribe takes its params by position: ["type", {...}]')
  if (params.length === 0) return invalidParams('params[0]', `the subscription type is missing; expected one of ${SUBSCRIPTION_TYPES.join(', ')}`)
  if (params.length > 2) return invalidParams('params', `eth_subscribe takes at most 2 params (the type and its parameters), got ${params.length}`)
  const type = params[0]
  if (typeof type !== 'string' || !isSubscriptionType(type)) {
    return invalidParams(
      'params[0]',
      `unknown subscription type ${JSON.stringify(type)?.slice(0, 100) ?? 'undefined'}; expected one of ${SUBSCRIPTION_TYPES.join(', ')}`,
    )
  }
  // A null second param is taken as none, as some clients send it for types without params.
  const given = params[1] ?? undefined
  // geth and anvil take `true` for full transactions instead of hashes: the same stream as
  // alchemy_newFullPendingTransactions, which Tidewatch builds from exactly that where the
  // upstream lacks the Alchemy type. `false` asks for hashes, as no param does.
  if (type === 'newPendingTransactions' && typeof given === 'boolean') {
    return { ok: true, value: subscriptionSpecSchema.parse({ type: given ? 'alchemy_newFullPendingTransactions' : 'newPendingTransactions', params: {} }) }
  }
  if (given !== undefined && !isRecord(given)) return invalidParams('params[1]', `the ${type} parameters must be an object`)
  const spec = subscriptionSpecSchema.safeParse({ type, params: given })
  if (spec.success) return { ok: true, value: spec.data }
  const first = spec.error.issues[0]
  if (first?.code === 'unrecognized_keys') {
    return invalidParams(
      rpcFieldPath([...first.path, first.keys[0] ?? ''].join('.')),
      `unknown field; ${type} takes ${Object.keys(subscriptionParamsSchemas[type].shape).join(', ') || 'no parameters'}`,
    )
  }
  const described = describeZodError(spec.error)
  const field = rpcFieldPath(described.field)
  // zod says only "Invalid input" for a missing one-or-many field.
  if (valueAt({ params: given }, described.field) === undefined) return invalidParams(field, 'required')
  return invalidParams(field, described.message)
}

/** `eth_unsubscribe` params: `[subscriptionId]`. */
export function parseUnsubscribeParams(params: JsonRpcRequest['params']): ParsedParams<string> {
  if (!Array.isArray(params) || params.length !== 1) return invalidParams('params', 'eth_unsubscribe takes one param, the subscription id')
  const id = params[0]
  if (typeof id !== 'string') return invalidParams('params[0]', 'the subscription id must be a string')
  return { ok: true, value: id }
}

function invalidParams(field: string, message: string): { ok: false; error: JsonRpcErrorObject } {
  return { ok: false, error: { code: RPC_ERROR_CODES.invalidParams, message: `Invalid params: ${field}: ${message}`, data: { field } } }
}

/** `params.address.0` (the spec schema's path) as the client wrote it: `params[1].address[0]`. */
function rpcFieldPath(specPath: string | undefined): string {
  const segments = (specPath ?? '').split('.').filter(Boolean)
  // The spec's `params` is eth_subscribe's second param; no key of the param schemas is numeric.
  const rest = segments[0] === 'params' ? segments.slice(1) : segments
  return rest.reduce((path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : `${path}.${segment}`), 'params[1]')
}

function valueAt(root: unknown, dottedPath: string | undefined): unknown {
  let value = root
  for (const segment of (dottedPath ?? '').split('.').filter(Boolean)) {
    if (typeof value !== 'object' || value === null) return undefined
    value = (value as Record<string, unknown>)[segment]
  }
  return value
}

function isSubscriptionType(value: string): value is SubscriptionType {
  return (SUBSCRIPTION_TYPES as readonly string[]).includes(value)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The `/v1/stream` protocol (PROTOCOL.md section 1, dfuse semantics): request schemas,
 * message shapes, error codes. Tests outside the project speak it word for word, so every
 * name here is part of the interface. Validation errors name the field as a dotted path
 * (`data.address.1`, `start_block`) so a client can tell what to fix.
 */
import { z } from 'zod'
import { SUBSCRIPTION_TYPES, subscriptionParamsSchemas } from './subscription-params'

export const STREAM_PATH = '/v1/stream'

export const STREAM_REQUEST_TYPES = [...SUBSCRIPTION_TYPES, 'unlisten', 'ping'] as const
export type StreamRequestType = (typeof STREAM_REQUEST_TYPES)[number]

export const STREAM_MESSAGE_TYPES = [
  'listening',
  'head',
  'log',
  'pending_transaction',
  'mined_transaction',
  'syncing',
  'progress',
  'complete',
  'unlistened',
  'pong',
  'error',
] as const
export type StreamMessageType = (typeof STREAM_MESSAGE_TYPES)[number]

export const STREAM_ERROR_CODES = [
  'invalid_json',
  'invalid_request',
  'duplicate_req_id',
  'start_block_out_of_range',
  'unsupported_upstream',
  'upstream_error',
  'too_many_requests',
  'invalid_cursor',
  'upstream_unavailable',
  'internal_error',
] as const
export type StreamErrorCode = (typeof STREAM_ERROR_CODES)[number]

/** Alchemy's per-connection subscription limit, which PROTOCOL.md adopts for live requests. */
export const MAX_LIVE_REQUESTS = 1000

/** `data` of each request type; the subscription types take their `eth_subscribe` params. */
export const streamDataSchemas = {
  ...subscriptionParamsSchemas,
  unlisten: z.object({ req_id: z.string() }),
  ping: z.object({}),
} satisfies Record<StreamRequestType, z.ZodType>

/**
 * The envelope. Optional fields also accept null (as absent). `data` is checked here only as
 * an object; its contents are checked per type so the error path starts with `data.`.
 */
export const streamEnvelopeSchema = z.object({
  type: z.enum(STREAM_REQUEST_TYPES),
  req_id: z.string().max(256, 'At most 256 characters').nullish(),
  cursor: z.string().max(1024, 'At most 1024 characters').nullish(),
  fetch: z.boolean().nullish(),
  listen: z.boolean().nullish(),
  start_block: z.int('Expected an integer block number').nullish(),
  irreversible_only: z.boolean().nullish(),
  with_progress: z.int('Expected a whole number of blocks').positive('Expected a positive number of blocks').nullish(),
  data: z.looseObject({}),
})

interface Envelope {
  /** Null when the client gave none; the session generates one. */
  req_id: string | null
  /** Resume after the block this cursor names (logs and newHeads); null when absent. */
  cursor: string | null
  fetch: boolean
  listen: boolean
  start_block: number | null
  irreversible_only: boolean
  /** 0 = no progress messages. */
  with_progress: number
}

export type StreamRequest = {
  [T in StreamRequestType]: Envelope & { type: T; data: z.output<(typeof streamDataSchemas)[T]> }
}[StreamRequestType]
export type StreamRequestOf<T extends StreamRequestType> = Extract<StreamRequest, { type: T }>

export type ParsedStreamRequest = { ok: true; request: StreamRequest } | { ok: false; reqId: string | null; field: string; message: string }

/** Validates one decoded request frame. */
export function parseStreamRequest(json: unknown): ParsedStreamRequest {
  const readable = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as { req_id?: unknown }).req_id : undefined
  const reqId = typeof readable === 'string' ? readable : null
  const envelope = streamEnvelopeSchema.safeParse(json)
  if (!envelope.success) return { ok: false, reqId, ...describeIssue(envelope.error.issues) }
  const { type, data } = envelope.data
  if (envelope.data.cursor != null && envelope.data.start_block != null) {
    return { ok: false, reqId, field: 'cursor', message: 'cursor: give either cursor (to resume) or start_block, not both' }
  }
  const parsedData = streamDataSchemas[type].safeParse(data)
  if (!parsedData.success) return { ok: false, reqId, ...describeIssue(parsedData.error.issues, ['data']) }
  const e = envelope.data
  return {
    ok: true,
    request: {
      type,
      req_id: e.req_id ?? null,
      cursor: e.cursor ?? null,
      fetch: e.fetch ?? false,
      listen: e.listen ?? false,
      start_block: e.start_block ?? null,
      irreversible_only: e.irreversible_only ?? false,
      with_progress: e.with_progress ?? 0,
      data: parsedData.data,
    } as StreamRequest,
  }
}

/** The first issue as a dotted field path and a message, looking inside unions for the branch that got furthest. */
function describeIssue(issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[] = []): { field: string; message: string } {
  const issue = issues[0]
  if (!issue) return { field: prefix.join('.'), message: 'Invalid request' }
  const path = [...prefix, ...issue.path]
  if (issue.code === 'unrecognized_keys') {
    const field = [...path, issue.keys[0] ?? ''].join('.')
    return { field, message: `${field}: unknown field` }
  }
  if (issue.code === 'invalid_union') {
    // A branch whose failure is more than a type mismatch at the union itself says what is
    // wrong (a bad address inside an array); if every branch is a mismatch, list the types.
    const specific = issue.errors.map((branch) => branch[0]).find((first) => first && (first.code !== 'invalid_type' || first.path.length > 0))
    if (specific) return describeIssue([specific], path)
    const expected = issue.errors.map((branch) => (branch[0]?.code === 'invalid_type' ? branch[0].expected : null)).filter(Boolean)
    const field = path.join('.')
    return { field, message: `${field}: expected ${expected.length ? expected.join(' or ') : 'another value'}` }
  }
  const field = path.join('.')
  return { field, message: field ? `${field}: ${issue.message}` : issue.message }
}

/** Messages, Tidewatch to client: `{ type, req_id, data }`. */
export interface HeadData {
  block_number: number
  block_hash: string
  parent_hash: string
  timestamp: number
  removed: boolean
  irreversible: boolean
  header: Record<string, unknown>
}

export interface LogData {
  block_number: number
  block_hash: string
  transaction_hash: string
  log_index: number
  removed: boolean
  irreversible: boolean
  log: Record<string, unknown>
  decoded?: { event: string; args: Record<string, unknown> }
}

export interface PendingTransactionData {
  hash: string
  /** Null where only the hash is known (newPendingTransactions, hashesOnly). */
  transaction: Record<string, unknown> | null
}

export interface MinedTransactionData {
  /** Null only with `hashesOnly`, where the upstream sends nothing but the hash. */
  block_number: number | null
  block_hash: string | null
  hash: string
  removed: boolean
  transaction: Record<string, unknown> | null
}

export interface SyncingData {
  syncing: boolean
  /** Progress fields as decimal numbers; null when not syncing or when the upstream gave none. */
  status: Record<string, unknown> | null
}

export interface StreamErrorData {
  code: StreamErrorCode
  message: string
  details?: Record<string, unknown>
}

export interface StreamMessageData {
  listening: { next_block: number }
  head: HeadData
  log: LogData
  pending_transaction: PendingTransactionData
  mined_transaction: MinedTransactionData
  syncing: SyncingData
  /** `cursor` is opaque to clients: send it back unchanged to resume after this block. */
  progress: { block_number: number; block_hash: string; cursor: string }
  complete: Record<string, never>
  unlistened: { success: boolean }
  pong: Record<string, never>
  error: StreamErrorData
}

export type StreamMessage = {
  [T in StreamMessageType]: { type: T; req_id: string | null; data: StreamMessageData[T] }
}[StreamMessageType]

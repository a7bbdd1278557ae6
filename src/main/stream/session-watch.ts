/**
 * `logs` and `newHeads` requests: resolve start_block against the upstream's head H, hand a
 * WatchRequest to the chain tracker, and relay what the watch sends under the request's
 * req_id. The tracker keeps the ordering promises; this layer only frames its messages.
 */
import { STREAM_ERROR_CODES, type LogData, type StreamErrorCode, type StreamRequestOf } from '../../shared/stream-protocol'
import { toLogFilter } from '../chain/log-filter'
import { decodeCursor, type CursorPosition } from '../chain/stream-cursor'
import { errorText } from '../error-text'
import { failureCode } from '../upstream/rpc-errors'
import { upstreamErrorDetails, type LiveRequest } from './session-request'
import type { LogFilter, WatchLog, WatchMessage, WatchProvider, WatchRequest } from '../chain/watch-types'
import { wireLog } from '../store/chain-store'

export type WatchStreamRequest = StreamRequestOf<'logs'> | StreamRequestOf<'newHeads'>

export type LogDecoder = (topics: string[], data: string | null) => { event: string; args: Record<string, unknown> } | null

/** Absolute first block, or null when start_block lies above H + 1 or before genesis. */
export function resolveStartBlock(startBlock: number | null, head: number): number | null {
  if (startBlock === null) return head + 1
  const absolute = startBlock < 0 ? head + startBlock : startBlock
  return absolute < 0 || absolute > head + 1 ? null : absolute
}

export function watchFilter(request: WatchStreamRequest): LogFilter {
  return request.type === 'newHeads' ? {} : toLogFilter(request.data)
}

export async function openWatch(
  request: WatchStreamRequest,
  live: LiveRequest,
  watches: WatchProvider,
  log: (message: string) => void,
  decode?: LogDecoder,
): Promise<void> {
  let resume: CursorPosition | undefined
  if (request.cursor !== null) {
    const position = decodeCursor(request.cursor)
    if (!position) {
      live.fail(
        'invalid_cursor',
        'The cursor is not one Tidewatch gave out; send back the cursor of a progress message unchanged, or start over with start_block',
        { field: 'cursor', reason: 'malformed' },
      )
      return
    }
    resume = position
  }
  let head: number
  let chainId: number
  try {
    ;[head, chainId] = await Promise.all([watches.latestBlock(), watches.chainId()])
  } catch (error) {
    live.fail(failureCode(error), `Could not read the upstream's latest block and chain id: ${errorText(error)}`, upstreamErrorDetails(error))
    return
  }
  if (live.ended) return
  if (resume && resume.chainId !== chainId) {
    live.fail('invalid_cursor', `The cursor belongs to chain ${resume.chainId}, but this upstream is chain ${chainId}; start over with start_block`, {
      field: 'cursor',
      reason: 'other_chain',
      cursor_chain_id: resume.chainId,
      chain_id: chainId,
    })
    return
  }
  const startBlock = resume ? resume.number + 1 : resolveStartBlock(request.start_block, head)
  if (startBlock === null) {
    const reach = request.start_block! < 0 ? `reaches block ${head + request.start_block!}, before genesis` : `is above the next block ${head + 1}`
    live.fail('start_block_out_of_range', `start_block ${request.start_block} ${reach} (latest block ${head})`, {
      field: 'start_block',
      start_block: request.start_block,
      latest_block: head,
    })
    return
  }
  const watchRequest: WatchRequest = {
    kind: request.type,
    filter: watchFilter(request),
    startBlock,
    head,
    fetchSnapshot: request.type === 'newHeads' && request.fetch && request.start_block === null && !resume,
    listen: request.listen,
    irreversibleOnly: request.irreversible_only,
    withProgress: request.with_progress,
    chainId,
    ...(resume ? { resume: { number: resume.number, hash: resume.hash } } : {}),
  }
  try {
    const handle = watches.open(watchRequest, (message) => relay(live, message, decode, log))
    live.onStop(() => handle.stop())
  } catch (error) {
    live.fail(failureCode(error), `Could not start the ${request.type} request: ${errorText(error)}`, upstreamErrorDetails(error))
  }
}

/**
 * A watch's log as /v1/stream sends it (PROTOCOL.md section 1): the envelope, the upstream's
 * object (again with `removed: true` when a reorg takes it back), and `decoded` when the
 * event is known; the raw log is sent either way.
 */
function logData(message: WatchLog, decode: LogDecoder | undefined): LogData {
  const { log, removed, irreversible } = message
  const data: LogData = {
    block_number: log.blockNumber,
    block_hash: log.blockHash,
    transaction_hash: log.transactionHash,
    log_index: log.logIndex,
    removed,
    irreversible,
    log: wireLog(log, removed),
  }
  if (!decode) return data
  let decoded: ReturnType<LogDecoder> = null
  try {
    decoded = decode(log.topics, log.data)
  } catch {
    // A log the ABI cannot describe is still delivered, just without `decoded`.
  }
  return decoded ? { ...data, decoded } : data
}

const KNOWN_CODES: ReadonlySet<string> = new Set(STREAM_ERROR_CODES)

function relay(live: LiveRequest, message: WatchMessage, decode: LogDecoder | undefined, log: (message: string) => void): void {
  switch (message.type) {
    case 'log':
      return live.send('log', logData(message, decode))
    case 'complete':
      return live.complete()
    case 'error': {
      const { code, message: text, details } = message.data
      if (KNOWN_CODES.has(code)) return live.fail(code as StreamErrorCode, text, details)
      // The contract has a closed list of codes; anything else a watch reports is a failure inside Tidewatch.
      log(`request ${live.reqId}: watch error code ${code} is not in the protocol; sent as internal_error`)
      return live.fail('internal_error', text, { ...details, reason: code })
    }
    default:
      return live.send(message.type, message.data)
  }
}

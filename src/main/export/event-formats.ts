/**
 * How captured events are written out. CSV columns are documented in the README; keep the
 * two in step. JSON is one array, written incrementally like the others.
 */
import type { CapturedEvent } from '../../shared/contract'

export const CSV_COLUMNS = [
  'id',
  'received_at',
  'connection_id',
  'subscription_ids',
  'kind',
  'block_number',
  'block_hash',
  'transaction_hash',
  'log_index',
  'address',
  'topic0',
  'topic1',
  'topic2',
  'topic3',
  'data',
  'removed',
  'irreversible',
  'event',
  'args',
  'payload',
] as const

const NEEDS_QUOTES = /[",\n\r]/

function quoted(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** A cell: text as is (quoted when it holds a quote, comma or line break), anything else as JSON. */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string') return quoted(value)
  // JSON of a number or boolean never needs quotes.
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null'
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  return quoted(JSON.stringify(value))
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\n`
}

/** One line, cells in CSV_COLUMNS order; written out by hand, as an array joined per row cost more than the cells. */
export function csvRow(e: CapturedEvent): string {
  const topics = e.topics
  return (
    csvCell(e.id) +
    ',' +
    new Date(e.receivedAt).toISOString() +
    ',' +
    csvCell(e.connectionId) +
    ',' +
    quoted(e.subscriptionIds.join(' ')) +
    ',' +
    csvCell(e.kind) +
    ',' +
    csvCell(e.blockNumber) +
    ',' +
    csvCell(e.blockHash) +
    ',' +
    csvCell(e.transactionHash) +
    ',' +
    csvCell(e.logIndex) +
    ',' +
    csvCell(e.address) +
    ',' +
    csvCell(topics[0]) +
    ',' +
    csvCell(topics[1]) +
    ',' +
    csvCell(topics[2]) +
    ',' +
    csvCell(topics[3]) +
    ',' +
    csvCell(e.data) +
    ',' +
    csvCell(e.removed) +
    ',' +
    csvCell(e.irreversible) +
    ',' +
    csvCell(e.decoded?.event) +
    ',' +
    csvCell(e.decoded ? e.decoded.args : null) +
    ',' +
    csvCell(e.payload) +
    '\n'
  )
}

export function jsonRecord(e: CapturedEvent): string {
  return JSON.stringify(e)
}

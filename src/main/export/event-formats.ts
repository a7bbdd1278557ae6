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

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return ''
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\n`
}

export function csvRow(e: CapturedEvent): string {
  const cells: unknown[] = [
    e.id,
    new Date(e.receivedAt).toISOString(),
    e.connectionId,
    e.subscriptionIds.join(' '),
    e.kind,
    e.blockNumber,
    e.blockHash,
    e.transactionHash,
    e.logIndex,
    e.address,
    e.topics[0],
    e.topics[1],
    e.topics[2],
    e.topics[3],
    e.data,
    e.removed,
    e.irreversible,
    e.decoded?.event,
    e.decoded ? e.decoded.args : null,
    e.payload,
  ]
  return `${cells.map(csvCell).join(',')}\n`
}

export function jsonRecord(e: CapturedEvent): string {
  return JSON.stringify(e)
}

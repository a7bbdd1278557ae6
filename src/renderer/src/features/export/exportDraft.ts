/** The export dialog's form as typed, and how it becomes an `export.start` request. */
import { EVENT_KINDS, EXPORT_FORMATS, type CommandRequest, type EventKind } from '@shared/contract'
import { formatInteger, formatLocalDateTime } from '../../ui/format'

export type ExportFormat = (typeof EXPORT_FORMATS)[number]

export const EXPORT_FORMAT_LABELS: Record<ExportFormat, string> = {
  csv: 'CSV',
  ndjson: 'NDJSON',
  json: 'JSON',
}

export const EXPORT_FORMAT_HINTS: Record<ExportFormat, string> = {
  csv: 'One row per event, for spreadsheets; the raw payload as a JSON column',
  ndjson: 'One JSON object per line, for scripts and jq',
  json: 'One JSON array with every event',
}

export const EXPORT_KIND_LABELS: Record<EventKind, string> = {
  head: 'Blocks (new heads)',
  log: 'Logs',
  pending_transaction: 'Pending transactions',
  mined_transaction: 'Mined transactions',
  syncing: 'Syncing status',
}

export { EVENT_KINDS, EXPORT_FORMATS }

export interface ExportDraft {
  /** Empty: every subscription of the connection. */
  subscriptionIds: number[]
  kind: EventKind | ''
  fromBlock: string
  toBlock: string
  /** datetime-local values ("2025-01-31T14:05"), local time. */
  fromTime: string
  toTime: string
  format: ExportFormat
}

export const EMPTY_EXPORT_DRAFT: ExportDraft = {
  subscriptionIds: [],
  kind: '',
  fromBlock: '',
  toBlock: '',
  fromTime: '',
  toTime: '',
  format: 'csv',
}

export type ExportField = 'fromBlock' | 'toBlock' | 'fromTime' | 'toTime'
export type ExportDraftErrors = Partial<Record<ExportField, string>>

export type ExportRequest = CommandRequest<'export.start'>

export type BuiltExport = { ok: true; request: ExportRequest } | { ok: false; errors: ExportDraftErrors }

/** "18,000,000", "18 000 000" and "18_000_000" are all 18000000; '' is no bound. */
function parseBlock(text: string, which: 'start' | 'end'): { value?: number; error?: string } {
  const cleaned = text.trim().replace(/[,_\s]/g, '')
  if (cleaned === '') return {}
  if (!/^\d+$/.test(cleaned)) return { error: `The ${which} block must be a whole block number, like 18000000` }
  const value = Number(cleaned)
  if (!Number.isSafeInteger(value)) return { error: `The ${which} block is too large` }
  return { value }
}

function parseTime(text: string, which: 'start' | 'end'): { value?: number; error?: string } {
  if (text.trim() === '') return {}
  // A datetime-local value without a zone is read as local time.
  const value = new Date(text).getTime()
  if (Number.isNaN(value)) return { error: `The ${which} time is not a date and time` }
  return { value }
}

/** The end is inclusive: "14:05" means up to 14:05:59.999, "14:05:30" up to 14:05:30.999. */
function inclusiveEnd(text: string): number {
  const time = text.trim().split('T')[1] ?? ''
  if (/^\d{2}:\d{2}$/.test(time)) return 59_999
  if (/^\d{2}:\d{2}:\d{2}$/.test(time)) return 999
  return 0
}

export function buildExportRequest(draft: ExportDraft, connectionId: number | null): BuiltExport {
  const errors: ExportDraftErrors = {}
  const fromBlock = parseBlock(draft.fromBlock, 'start')
  const toBlock = parseBlock(draft.toBlock, 'end')
  const fromTime = parseTime(draft.fromTime, 'start')
  const toTime = parseTime(draft.toTime, 'end')
  if (fromBlock.error) errors.fromBlock = fromBlock.error
  if (toBlock.error) errors.toBlock = toBlock.error
  if (fromTime.error) errors.fromTime = fromTime.error
  if (toTime.error) errors.toTime = toTime.error
  if (fromBlock.value !== undefined && toBlock.value !== undefined && toBlock.value < fromBlock.value) {
    errors.toBlock = 'The end block is before the start block'
  }
  if (fromTime.value !== undefined && toTime.value !== undefined && toTime.value < fromTime.value) {
    errors.toTime = 'The end time is before the start time'
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors }

  const request: ExportRequest = { format: draft.format }
  if (connectionId !== null) request.connectionId = connectionId
  if (draft.subscriptionIds.length > 0) request.subscriptionIds = [...draft.subscriptionIds].sort((a, b) => a - b)
  if (draft.kind !== '') request.kind = draft.kind
  if (fromBlock.value !== undefined) request.fromBlock = fromBlock.value
  if (toBlock.value !== undefined) request.toBlock = toBlock.value
  if (fromTime.value !== undefined) request.fromTime = fromTime.value
  if (toTime.value !== undefined) request.toTime = toTime.value + inclusiveEnd(draft.toTime)
  return { ok: true, request }
}

/** The engine's download URL (absolute or relative to the page) with the page's access token added. */
export function downloadHref(downloadUrl: string, token: string | null, base: string): string {
  let url: URL
  try {
    url = new URL(downloadUrl, base)
  } catch {
    return downloadUrl
  }
  if (token) url.searchParams.set('token', token)
  return url.toString()
}

/** "45%" of rows written; null while the total is unknown. */
export function exportPercent(rows: number, totalRows: number): number | null {
  if (totalRows <= 0) return null
  return Math.min(100, Math.max(0, Math.round((rows / totalRows) * 100)))
}

/** The file name part of a path or URL, for the download attribute. */
export function baseName(file: string): string {
  const parts = file.split(/[\\/]/)
  return parts[parts.length - 1] ?? file
}

/** "NDJSON · USDC transfers, newHeads · Logs · blocks 21,000,000 to latest", shown while it runs. */
export function describeExportRequest(request: ExportRequest, subscriptionName: (id: number) => string): string {
  const parts: string[] = [EXPORT_FORMAT_LABELS[request.format]]
  const ids = request.subscriptionIds ?? []
  if (ids.length === 0) parts.push('the whole connection')
  else if (ids.length <= 3) parts.push(ids.map(subscriptionName).join(', '))
  else parts.push(`${formatInteger(ids.length)} subscriptions`)
  parts.push(request.kind ? EXPORT_KIND_LABELS[request.kind] : 'every type')
  if (request.fromBlock !== undefined || request.toBlock !== undefined) {
    const from = request.fromBlock === undefined ? 'the first' : `#${formatInteger(request.fromBlock)}`
    const to = request.toBlock === undefined ? 'the latest' : `#${formatInteger(request.toBlock)}`
    parts.push(`blocks ${from} to ${to}`)
  }
  if (request.fromTime !== undefined || request.toTime !== undefined) {
    const from = request.fromTime === undefined ? 'the start' : formatLocalDateTime(request.fromTime)
    const to = request.toTime === undefined ? 'now' : formatLocalDateTime(request.toTime)
    parts.push(`received ${from} to ${to}`)
  }
  return parts.join(' · ')
}

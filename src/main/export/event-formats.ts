/**
 * How captured events are written out. CSV columns are documented in the README; keep the
 * two in step. JSON is one array, written incrementally like the others.
 */
import type { DecodedEvent } from '../../shared/contract'
import { jsonText, rawLogJson } from '../store/raw-log'
import type { StoredEventRow } from '../store/event-store'

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

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\n`
}

/** What an export row needs beside its stored columns: the same decoration as the live log's. */
export interface ExportContext {
  /** The local subscriptions of a stream. */
  subscriptionIds(streamId: number): readonly number[]
  /** The connection's finalized block (-1: none known). */
  finalized(connectionId: number): number
  /** A log's event name and arguments; null when unknown. */
  decode(topics: string[], data: string | null): DecodedEvent | null
}

export interface EventLines {
  /** One CSV line, cells in CSV_COLUMNS order. */
  csv(row: StoredEventRow): string
  /** The row as the JSON text of its CapturedEvent (`events.list`'s object, same keys in the same order). */
  json(row: StoredEventRow): string
}

/**
 * Export lines straight from the store's rows: no CapturedEvent is built and decorated per
 * row, the raw log's JSON text is written from its stored form (rawLogJson), and the
 * subscription ids of a stream are formatted once. The output is what formatting the
 * CapturedEvent of `events.list` gives (event-formats.test.ts holds both to it).
 */
export function eventLines(context: ExportContext): EventLines {
  const idsByStream = new Map<number, { csv: string; json: string }>()
  const ids = (streamId: number) => {
    let cached = idsByStream.get(streamId)
    if (!cached) {
      const list = context.subscriptionIds(streamId)
      idsByStream.set(streamId, (cached = { csv: quoted(list.join(' ')), json: `[${list.join(',')}]` }))
    }
    return cached
  }
  const finality = new Map<number, number>()
  const irreversible = (row: StoredEventRow): boolean => {
    const [, connectionId, , , blockNumber] = row
    if (row[12] === 1 || blockNumber === null) return false
    let finalized = finality.get(connectionId)
    if (finalized === undefined) finality.set(connectionId, (finalized = context.finalized(connectionId)))
    return blockNumber <= finalized
  }
  const payloadJson = (row: StoredEventRow, topics: string[], q = '"'): string =>
    row[3] === 'log'
      ? rawLogJson(
          row[13],
          {
            address: row[9],
            topics,
            data: row[11],
            blockNumber: row[4],
            blockHash: row[5],
            transactionHash: row[6],
            transactionIndex: row[7],
            logIndex: row[8],
            removed: row[12] === 1,
          },
          q,
        )
      : (row[13] ?? 'null')
  /** The payload cell; a log's raw object is written with its quotes doubled from the start (it always needs quoting). */
  const payloadCell = (row: StoredEventRow, topics: string[]): string => {
    if (row[3] !== 'log' || row[13] === null || row[13].charCodeAt(0) !== 91 /* [ */) return jsonCell(payloadJson(row, topics))
    const doubled = payloadJson(row, topics, '""')
    return doubled === '{}' ? doubled : `"${doubled}"`
  }
  const topicsOf = (row: StoredEventRow): string[] => (row[10] ? row[10].split(',') : [])
  const decodedOf = (row: StoredEventRow, topics: string[]): DecodedEvent | null => (row[3] === 'log' ? context.decode(topics, row[11]) : null)
  return {
    csv(row) {
      const topics = topicsOf(row)
      const decoded = decodedOf(row, topics)
      return (
        row[0] +
        ',' +
        new Date(row[14]).toISOString() +
        ',' +
        row[1] +
        ',' +
        ids(row[2]).csv +
        ',' +
        row[3] +
        ',' +
        numberCell(row[4]) +
        ',' +
        textCell(row[5]) +
        ',' +
        textCell(row[6]) +
        ',' +
        numberCell(row[8]) +
        ',' +
        textCell(row[9]) +
        ',' +
        textCell(topics[0]) +
        ',' +
        textCell(topics[1]) +
        ',' +
        textCell(topics[2]) +
        ',' +
        textCell(topics[3]) +
        ',' +
        textCell(row[11]) +
        ',' +
        (row[12] === 1 ? 'true' : 'false') +
        ',' +
        (irreversible(row) ? 'true' : 'false') +
        ',' +
        (decoded ? quoted(decoded.event) + ',' + quoted(JSON.stringify(decoded.args)) : ',') +
        ',' +
        payloadCell(row, topics) +
        '\n'
      )
    },
    json(row) {
      const topics = topicsOf(row)
      const decoded = decodedOf(row, topics)
      let topicsJson = '['
      for (let i = 0; i < topics.length; i++) topicsJson += (i === 0 ? '' : ',') + jsonText(topics[i]!)
      return (
        `{"id":${row[0]},"connectionId":${row[1]},"kind":${jsonText(row[3])},"blockNumber":${row[4]},"blockHash":${jsonText(row[5])}` +
        `,"transactionHash":${jsonText(row[6])},"logIndex":${row[8]},"address":${jsonText(row[9])},"topics":${topicsJson}]` +
        `,"data":${jsonText(row[11])},"removed":${row[12] === 1},"payload":${payloadJson(row, topics)},"receivedAt":${row[14]}` +
        `,"subscriptionIds":${ids(row[2]).json},"irreversible":${irreversible(row)},"decoded":${decoded ? JSON.stringify(decoded) : 'null'}}`
      )
    },
  }
}

const numberCell = (value: number | null): string => (value === null ? '' : String(value))
const textCell = (value: string | null | undefined): string => (value === null || value === undefined ? '' : quoted(value))
/** A JSON value as a cell: `null` is an empty cell, a string is its text, anything else its JSON. */
const jsonCell = (json: string): string => (json === 'null' ? '' : quoted(json.charCodeAt(0) === 34 /* " */ ? (JSON.parse(json) as string) : json))

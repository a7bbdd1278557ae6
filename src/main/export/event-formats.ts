/**
 * How captured events are written out. CSV columns are documented in the README; keep the
 * two in step. JSON is one array, written incrementally like the others.
 */
import type { DecodedJson } from '../decode/event-decoder'
import { jsonText, rawLogJson, storedRawLogJson } from '../store/raw-log'
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
/** A string whose JSON is itself in quotes and whose CSV cell is itself (hex, plain words). */
const PLAIN = /^[0-9A-Za-z_.:-]*$/
/** Comma-joined topics that are all PLAIN. */
const PLAIN_LIST = /^[0-9A-Za-z_.:,-]*$/

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
  /** A log's event name and arguments as JSON (quotes written as `q`); null when unknown. */
  decodeJson(topics: string[], data: string | null, q: string): DecodedJson | null
}

export interface EventLines {
  /** One CSV line, cells in CSV_COLUMNS order. */
  csv(row: StoredEventRow): string
  /** The row as the JSON text of its CapturedEvent (`events.list`'s object, same keys in the same order). */
  json(row: StoredEventRow): string
}

const NO_TOPICS: string[] = []

/**
 * Export lines straight from the store's rows: no CapturedEvent is built and decorated per
 * row. Each string column is tested once for being plain (hex, as the store keeps hashes,
 * addresses, topics and data), and its cell and JSON text follow from that; the raw log's
 * JSON is written from its stored form (storedRawLogJson) with those texts; the decoded
 * arguments' JSON comes from the decoder's prepared events, never an object; subscription
 * ids are formatted once a stream and the received time's ISO text once a second. The
 * output is what formatting the CapturedEvent of `events.list` gives (event-formats.test.ts
 * holds both to it).
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
  const time = isoTimes()
  /** A log stored as an array (what capture stores): its JSON is written from the stored text and the columns' texts. */
  const storedLog = (row: StoredEventRow): row is StoredEventRow & { 13: string } =>
    row[3] === 'log' && row[13] !== null && row[13].charCodeAt(0) === 91 /* [ */
  const logJson = (row: StoredEventRow & { 13: string }, texts: ColumnTexts, q: string): string =>
    storedRawLogJson(
      row[13],
      {
        a: texts.address,
        t: texts.topics,
        d: texts.data,
        n: numberJson(row[4], q),
        h: texts.blockHash,
        x: texts.transactionHash,
        i: numberJson(row[7], q),
        l: numberJson(row[8], q),
      },
      q,
    )
  /** Any other payload's JSON: as stored, or (a log stored whole or before raw logs were kept) through rawLogJson. */
  const payloadJson = (row: StoredEventRow, topics: string[]): string =>
    row[3] !== 'log'
      ? (row[13] ?? 'null')
      : rawLogJson(row[13], {
          address: row[9],
          topics,
          data: row[11],
          blockNumber: row[4],
          blockHash: row[5],
          transactionHash: row[6],
          transactionIndex: row[7],
          logIndex: row[8],
          removed: row[12] === 1,
        })
  return {
    csv(row) {
      const topics = row[10] ? row[10].split(',') : NO_TOPICS
      const texts = columnTexts(row, topics, '""')
      const decoded = row[3] === 'log' ? context.decodeJson(topics, row[11], '""') : null
      let payload: string
      if (storedLog(row)) {
        // A log's raw object is written with its quotes doubled from the start (it always needs quoting, unless empty).
        const doubled = logJson(row, texts, '""')
        payload = doubled === '{}' ? doubled : `"${doubled}"`
      } else payload = jsonCell(payloadJson(row, topics))
      return (
        row[0] +
        ',' +
        time(row[14]) +
        ',' +
        row[1] +
        ',' +
        ids(row[2]).csv +
        ',' +
        row[3] +
        ',' +
        numberCell(row[4]) +
        ',' +
        texts.blockHashCell +
        ',' +
        texts.transactionHashCell +
        ',' +
        numberCell(row[8]) +
        ',' +
        texts.addressCell +
        ',' +
        (texts.plainTopics ? topicCells(topics) : textCell(topics[0]) + ',' + textCell(topics[1]) + ',' + textCell(topics[2]) + ',' + textCell(topics[3])) +
        ',' +
        texts.dataCell +
        ',' +
        (row[12] === 1 ? 'true' : 'false') +
        ',' +
        (irreversible(row) ? 'true' : 'false') +
        ',' +
        // The arguments' JSON always holds quotes (its keys), so its cell is always quoted.
        (decoded ? quoted(decoded.event) + ',' + (decoded.args === undefined ? '' : `"${decoded.args}"`) : ',') +
        ',' +
        payload +
        '\n'
      )
    },
    json(row) {
      const topics = row[10] ? row[10].split(',') : NO_TOPICS
      const texts = columnTexts(row, topics, '"')
      const decoded = row[3] === 'log' ? context.decodeJson(topics, row[11], '"') : null
      return (
        `{"id":${row[0]},"connectionId":${row[1]},"kind":${jsonText(row[3])},"blockNumber":${row[4]},"blockHash":${texts.blockHash}` +
        `,"transactionHash":${texts.transactionHash},"logIndex":${row[8]},"address":${texts.address},"topics":${texts.topics}` +
        `,"data":${texts.data},"removed":${row[12] === 1},"payload":${storedLog(row) ? logJson(row, texts, '"') : payloadJson(row, topics)},"receivedAt":${row[14]}` +
        `,"subscriptionIds":${ids(row[2]).json},"irreversible":${irreversible(row)},"decoded":${
          decoded ? `${decoded.head}${decoded.args === undefined ? '' : `,"args":${decoded.args}`}}` : 'null'
        }}`
      )
    },
  }
}

/** A row's string columns as JSON (quotes written as `q`) and as CSV cells, each column tested once. */
interface ColumnTexts {
  blockHash: string
  blockHashCell: string
  transactionHash: string
  transactionHashCell: string
  address: string
  addressCell: string
  data: string
  dataCell: string
  /** The topics' JSON array. */
  topics: string
  /** Every topic is plain: its cell is itself. */
  plainTopics: boolean
}

function columnTexts(row: StoredEventRow, topics: string[], q: string): ColumnTexts {
  const plainTopics = row[10] === null || PLAIN_LIST.test(row[10])
  let topicsJson: string
  if (topics.length === 0) topicsJson = '[]'
  else if (plainTopics) topicsJson = `[${q}${topics.join(`${q},${q}`)}${q}]`
  else {
    topicsJson = '['
    for (let i = 0; i < topics.length; i++) topicsJson += (i === 0 ? '' : ',') + jsonText(topics[i]!, q)
    topicsJson += ']'
  }
  const [blockHash, blockHashCell] = texts(row[5], q)
  const [transactionHash, transactionHashCell] = texts(row[6], q)
  const [address, addressCell] = texts(row[9], q)
  const [data, dataCell] = texts(row[11], q)
  return { blockHash, blockHashCell, transactionHash, transactionHashCell, address, addressCell, data, dataCell, topics: topicsJson, plainTopics }
}

/** A string column's JSON (quotes written as `q`) and its CSV cell. */
function texts(value: string | null, q: string): [json: string, cell: string] {
  if (value === null) return ['null', '']
  if (PLAIN.test(value)) return [q + value + q, value]
  return [jsonText(value, q), quoted(value)]
}

/** The four topic cells of plain topics (none needs quotes). */
function topicCells(topics: string[]): string {
  return `${topics[0] ?? ''},${topics[1] ?? ''},${topics[2] ?? ''},${topics[3] ?? ''}`
}

/** `new Date(ms).toISOString()`, its text up to the second made once a second. */
function isoTimes(): (ms: number) => string {
  let second = NaN
  let prefix = ''
  return (ms) => {
    const s = Math.floor(ms / 1000)
    if (s !== second) {
      // Up to the seconds, whatever the year's width: the text always ends in `.sssZ`.
      prefix = new Date(s * 1000).toISOString().slice(0, -4)
      second = s
    }
    const millis = ms - s * 1000
    return `${prefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`
  }
}

const numberJson = (value: number | null, q: string): string => (value === null ? 'null' : `${q}0x${value.toString(16)}${q}`)
const numberCell = (value: number | null): string => (value === null ? '' : String(value))
const textCell = (value: string | null | undefined): string => (value === null || value === undefined ? '' : quoted(value))
/** A JSON value as a cell: `null` is an empty cell, a string is its text, anything else its JSON. */
const jsonCell = (json: string): string => (json === 'null' ? '' : quoted(json.charCodeAt(0) === 34 /* " */ ? (JSON.parse(json) as string) : json))

/**
 * A capture batch (FlatOps: CAPTURE_WRITE and CHAIN_WRITE statements with their parameters,
 * as SQLite's writer runs them one by one) as the few statements PostgreSQL runs for it.
 *
 * Rows go in as arrays, one per column, through `unnest` (one prepared statement whatever the
 * batch size; measured against a multi-row INSERT ... VALUES on 100,000 mainnet-shaped events
 * rows in batches of 5,000, the server took the same time within the noise of a shared
 * machine (22-33k rows/s either way) while VALUES cost the client 7-10 times as long to
 * build and must be split at PostgreSQL's 65,535 parameters, 4,681 events rows). Both reached
 * under half of COPY's rate on the same rows (57-70k rows/s), so the writer COPYs a run of
 * events rows and uses the unnest INSERT only when a row of the run exists already
 * (capture-writer.ts insertEvents).
 *
 * Statements on different tables commute: no foreign key or trigger links events,
 * chain_logs, chain_blocks, chain_cursor and subscriptions, and a batch commits whole or not
 * at all. So each table's statements run in their own order, consecutive rows of one
 * statement merged into one; only the events table's inserts and markings must keep their
 * relative order (a log marked removed after its row was inserted).
 */
import { CAPTURE_WRITE, CAPTURE_WRITE_PARAMETERS, type EventsCommitted } from '../capture-writer'
import { CHAIN_WRITE, CHAIN_WRITE_STATEMENTS } from '../chain-writes'
import { parameterCount, type FlatOps, type SqlValue } from '../sqlite-writer'

/** One statement of a batch: a prepared statement's name and text, and its parameters. */
export interface PostgresStep {
  name: string
  text: string
  values: unknown[]
  /** Inserts events rows (returning connection_id, stream_id, id of each row inserted); `values` holds a column array each. */
  insertsEvents?: true
}

const PARAMETERS: readonly number[] = [...CAPTURE_WRITE_PARAMETERS, ...CHAIN_WRITE_STATEMENTS.map(parameterCount)]

const EVENT_COLUMNS =
  'connection_id, stream_id, kind, block_number, block_hash, tx_hash, tx_index, log_index, address, topics, data, removed, payload, received_at'

// ON CONFLICT DO NOTHING with no target: any unique index, as SQLite's INSERT OR IGNORE (a watch resuming after a crash may deliver a block again).
const INSERT_EVENTS = `INSERT INTO events (${EVENT_COLUMNS})
  SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::boolean[], $13::text[], $14::bigint[])
  ON CONFLICT DO NOTHING RETURNING connection_id, stream_id, id`
const EVENT_TYPES = 14

/** The fast way in for a run of events rows (capture-writer.ts insertEvents): ids taken beforehand, then COPY. */
export const EVENT_IDS = `SELECT min(id), max(id), CASE WHEN max(id) - min(id) + 1 <> $1 THEN array_agg(id ORDER BY id) END
  FROM (SELECT nextval(pg_get_serial_sequence('events', 'id')) AS id FROM generate_series(1, $1)) AS taken`
export const COPY_EVENTS = `COPY events (id, ${EVENT_COLUMNS}) FROM STDIN`

const CHAIN_LOG_ROWS = `INSERT INTO chain_logs (connection_id, block_hash, block_number, log_index, tx_hash, tx_index, address, topics, data, canonical, raw_json)
  SELECT c, h, n, i, x, ti, a, t, d, TRUE, r
  FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[]) AS u(c, h, n, i, x, ti, a, t, d, r)
  ON CONFLICT (connection_id, block_hash, log_index)`

const STATEMENTS = {
  events: INSERT_EVENTS,
  // A watch took back a delivered log or head (reorg).
  removed: `UPDATE events SET removed = TRUE
    WHERE stream_id = $1 AND block_hash = $2 AND COALESCE(log_index, -1) = $3 AND kind IN ('log', 'head') AND NOT removed`,
  // Blocks that left the canonical chain: every stored log and head of them.
  orphaned: `UPDATE events SET removed = TRUE
    WHERE connection_id = $1 AND kind IN ('log', 'head') AND NOT removed AND block_hash IN (SELECT json_array_elements_text($2::json))`,
  // Each watch's last position in the batch (only the last counts).
  subscriptionCursors: `UPDATE subscriptions AS s SET cursor_number = u.number, cursor_hash = u.hash
    FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(number, hash, id) WHERE s.id = u.id`,
  // Capture's copy of a log the tracker did not store (history): a no-op where the row exists.
  capturedLogs: `${CHAIN_LOG_ROWS} DO NOTHING`,
  // chain-writes.ts, in PostgreSQL: a canonical block's log and header (again canonical if a reorg had taken it back and put it back).
  chainLogs: `${CHAIN_LOG_ROWS} DO UPDATE SET canonical = TRUE`,
  chainBlocks: `INSERT INTO chain_blocks (connection_id, number, hash, parent_hash, timestamp, canonical, header_json)
    SELECT c, n, h, p, ts, TRUE, j FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[]) AS u(c, n, h, p, ts, j)
    ON CONFLICT (connection_id, hash) DO UPDATE SET canonical = TRUE`,
  chainCursor: `INSERT INTO chain_cursor (connection_id, first_block, number, hash) VALUES ($1, $2, $3, $4)
    ON CONFLICT (connection_id) DO UPDATE SET number = excluded.number, hash = excluded.hash`,
  finalized: 'UPDATE chain_cursor SET finalized = $1 WHERE connection_id = $2 AND finalized < $3',
} as const
type StatementName = keyof typeof STATEMENTS

const step = (name: StatementName, values: unknown[]): PostgresStep => ({
  name: `tidewatch_capture_${name}`,
  text: STATEMENTS[name],
  values,
  ...(name === 'events' ? { insertsEvents: true as const } : {}),
})

/** Consecutive rows of one multi-row statement, as one array per column. */
class Rows {
  readonly columns: SqlValue[][]
  /** Keys seen, for statements that may not touch a row twice (ON CONFLICT DO UPDATE). */
  private readonly keys: Set<string> | null

  constructor(
    readonly name: StatementName,
    width: number,
    private readonly key?: (params: SqlValue[]) => string,
  ) {
    this.columns = Array.from({ length: width }, () => [])
    this.keys = key ? new Set() : null
  }

  add(params: SqlValue[]): void {
    if (this.key) {
      // A second insert of the same key in one statement would fail ("cannot affect row a second time"); the first one's row is what SQLite keeps too.
      const key = this.key(params)
      if (this.keys!.has(key)) return
      this.keys!.add(key)
    }
    for (let i = 0; i < params.length; i++) this.columns[i]!.push(params[i]!)
  }
}

/** One table's statements in order, consecutive rows of a multi-row statement merged. */
class Lane {
  readonly steps: PostgresStep[] = []
  private open: Rows | null = null

  rows(name: StatementName, width: number, params: SqlValue[], key?: (params: SqlValue[]) => string): void {
    if (this.open?.name !== name) {
      this.close()
      this.open = new Rows(name, width, key)
    }
    this.open.add(params)
  }

  single(name: StatementName, values: unknown[]): void {
    this.close()
    this.steps.push(step(name, values))
  }

  close(): PostgresStep[] {
    if (this.open) this.steps.push(step(this.open.name, this.open.columns))
    this.open = null
    return this.steps
  }
}

/** The statements that commit `ops` in PostgreSQL, in the order to run them. */
/** An events row's payload, by position in CAPTURE_WRITE.event's parameters. */
const PAYLOAD = 12

/**
 * PostgreSQL's jsonb refuses the escape \u0000 (migration 13's indexes read payloads as
 * jsonb), so a peer's string holding U+0000 would fail its batch at every retry and stall
 * capture: it is stored as U+FFFD, the replacement character, instead. An escaped backslash
 * before `u0000` (the text "\\u0000") is left alone.
 */
export function jsonbSafe(payload: SqlValue): SqlValue {
  if (typeof payload !== 'string' || !payload.includes('\\u0000')) return payload
  return payload.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd')
}

export function captureSteps(ops: FlatOps): PostgresStep[] {
  const events = new Lane()
  const chainLogs = new Lane()
  const chainBlocks = new Lane()
  const chainCursor = new Lane()
  const cursors = new Map<number, [SqlValue, SqlValue]>()
  let i = 0
  while (i < ops.length) {
    const statement = ops[i] as number
    const count = PARAMETERS[statement]
    if (count === undefined) throw new Error(`capture batch: no statement ${statement}`)
    const params = ops.slice(i + 1, i + 1 + count)
    i += 1 + count
    switch (statement) {
      case CAPTURE_WRITE.event:
        params[PAYLOAD] = jsonbSafe(params[PAYLOAD]!)
        events.rows('events', EVENT_TYPES, params)
        break
      case CAPTURE_WRITE.removed:
        events.single('removed', params)
        break
      case CAPTURE_WRITE.orphaned:
        events.single('orphaned', params)
        break
      case CAPTURE_WRITE.subscriptionCursor: {
        const [number, hash, id] = params
        cursors.delete(id as number)
        cursors.set(id as number, [number!, hash!])
        break
      }
      case CAPTURE_WRITE.log:
        chainLogs.rows('capturedLogs', count, params)
        break
      case CHAIN_WRITE.log:
        chainLogs.rows('chainLogs', count, params, (p) => `${p[0]}:${p[1]}:${p[3]}`)
        break
      case CHAIN_WRITE.block:
        chainBlocks.rows('chainBlocks', count, params, (p) => `${p[0]}:${p[2]}`)
        break
      case CHAIN_WRITE.cursor:
        chainCursor.single('chainCursor', params)
        break
      case CHAIN_WRITE.finalized:
        chainCursor.single('finalized', params)
        break
      default:
        throw new Error(`capture batch: statement ${statement} has no PostgreSQL form`)
    }
  }
  const steps = [...chainBlocks.close(), ...chainLogs.close(), ...events.close(), ...chainCursor.close()]
  if (cursors.size > 0) {
    const entries = [...cursors]
    steps.push(step('subscriptionCursors', [entries.map(([, [number]]) => number), entries.map(([, [, hash]]) => hash), entries.map(([id]) => id)]))
  }
  return steps
}

/** New rows per connection and stream, from the (connection_id, stream_id, id) rows the batch's inserts returned, in insert order. */
export function committedEvents(inserted: Iterable<[number, number, number]>): EventsCommitted[] {
  const committed = new Map<number, EventsCommitted>()
  for (const [connectionId, streamId, id] of inserted) {
    let entry = committed.get(connectionId)
    if (!entry) committed.set(connectionId, (entry = { connectionId, lastId: 0, count: 0, perStream: new Map() }))
    entry.lastId = Math.max(entry.lastId, id)
    entry.count += 1
    entry.perStream.set(streamId, (entry.perStream.get(streamId) ?? 0) + 1)
  }
  return [...committed.values()]
}

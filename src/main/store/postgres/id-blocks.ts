/**
 * Ids for rows the configuration stores add, known at once: `add()` returns the new row
 * synchronously (as SQLite's does), before its INSERT reaches PostgreSQL. Each table's ids
 * come from the table's own identity sequence, drawn ahead of time in blocks; nextval never
 * hands a value out twice, so instances sharing the store never collide, and rows inserted by
 * anyone else without an id take theirs from the same sequence.
 *
 * A block is drawn at open and drawn again, in the background, once half of it is used. An
 * add finds none left only when half a block was used before the next one arrived: many adds
 * within one round trip, or while the server does not answer (when nothing they write could
 * be stored anyway). Then add() throws, saying so, rather than wait. Ids drawn and not used
 * are gaps in the table's ids, a block at most per table and run.
 */
import type { Pool } from 'pg'
import { retryDelay } from '../storage-health'

/** The configuration tables whose rows get ids. */
export type IdTable = 'connections' | 'subscriptions' | 'streams' | 'abis'

export const DEFAULT_ID_BLOCK = 256

export interface IdBlockOptions {
  /** Ids drawn at a time (DEFAULT_ID_BLOCK); the next block is drawn once fewer than half are left. */
  size?: number
  /** Drawing the next block failed; tried again in `retryInMs`. */
  onError?: (error: Error, retryInMs: number) => void
}

/** The identity sequence of `table`'s id column; nextval per row of generate_series, in ascending order. */
const DRAW = "SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id FROM generate_series(1, $2) ORDER BY 1"

export class IdBlock {
  private ids: number[] = []
  private drawing = false
  private timer: NodeJS.Timeout | null = null
  private failures = 0
  private closed = false
  private readonly size: number

  constructor(
    private readonly pool: Pool,
    readonly table: IdTable,
    private readonly options: IdBlockOptions = {},
  ) {
    this.size = Math.max(1, options.size ?? DEFAULT_ID_BLOCK)
  }

  /** Draws the first block. */
  async fill(): Promise<void> {
    this.ids.push(...(await this.draw()))
  }

  /** The next id; throws, naming what could not be done, when none is left (see the module comment). */
  take(what: string): number {
    const id = this.ids.shift()
    if (this.ids.length < this.size / 2) this.drawNext()
    if (id === undefined)
      throw new Error(
        `Cannot ${what}: no ${this.table} id is left of those drawn ahead of time from PostgreSQL, which has not answered since; try again once it does`,
      )
    return id
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private drawNext(): void {
    if (this.drawing || this.timer || this.closed) return
    this.drawing = true
    this.draw().then(
      (ids) => {
        this.drawing = false
        this.failures = 0
        if (!this.closed) this.ids.push(...ids)
      },
      (error: unknown) => {
        this.drawing = false
        if (this.closed) return
        const retryInMs = retryDelay(this.failures++)
        this.timer = setTimeout(() => {
          this.timer = null
          this.drawNext()
        }, retryInMs)
        const detail = error instanceof Error ? error.message : String(error)
        this.options.onError?.(new Error(`Cannot draw ${this.table} ids from PostgreSQL (${detail}); retrying in ${retryInMs} ms`, { cause: error }), retryInMs)
      },
    )
  }

  private async draw(): Promise<number[]> {
    const { rows } = await this.pool.query<{ id: number }>(DRAW, [this.table, this.size])
    return rows.map((row) => row.id)
  }
}

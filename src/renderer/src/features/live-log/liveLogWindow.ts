/**
 * The live log's window onto the event store: a bounded, contiguous run of rows, newest
 * first, that grows at either end by cursor paging and is trimmed at the end farther from
 * what the person is looking at. Pure: no React, no transport.
 */
import type { CapturedEvent, CommandResult } from '@shared/contract'

/** The first page, and each page of older rows. */
export const LIVE_PAGE_SIZE = 200
/** Pages fetched while catching up with new rows (the contract allows up to 1000). */
export const LIVE_CATCH_UP_PAGE_SIZE = 500
/** Rows held at most; beyond it the far end is dropped and paged in again on demand. */
export const LIVE_WINDOW_CAP = 5000

export interface LiveWindow {
  /** Newest first, unique ids, contiguous: no matching event between two of them is missing. */
  readonly rows: readonly CapturedEvent[]
  /**
   * The `beforeId` of the next older page, or null when no older event matches. The last row's
   * id, or below it when a search read that far without finding more (events.search's `next`).
   */
  readonly older: number | null
  /** The first row was the newest matching event when last checked: new rows join on top. */
  readonly atHead: boolean
}

export const EMPTY_WINDOW: LiveWindow = { rows: [], older: null, atHead: true }

/** A page as events.search answers it: events newest first, and where the next page starts. */
export type LivePage = Extract<CommandResult<'events.search'>, { ok: true }>['value']

export function newestId(window: LiveWindow): number | null {
  return window.rows[0]?.id ?? null
}

export function oldestId(window: LiveWindow): number | null {
  return window.rows[window.rows.length - 1]?.id ?? null
}

/** Newest first with each id once; a later list's copy of a row wins (it is the fresher answer). */
export function mergeRows(...lists: ReadonlyArray<readonly CapturedEvent[]>): CapturedEvent[] {
  const byId = new Map<number, CapturedEvent>()
  for (const list of lists) for (const row of list) byId.set(row.id, row)
  return [...byId.values()].sort((a, b) => b.id - a.id)
}

/** The window a newest-first page (no cursor) starts. */
export function windowFromNewest(page: LivePage): LiveWindow {
  return { rows: mergeRows(page.events), older: page.next, atHead: true }
}

/**
 * Adds a page asked for with `beforeId` below the window; null when the window's cursor is
 * no longer `beforeId` (the answer is stale). A page whose `next` is not below its cursor
 * means the server did not honour it, so paging stops there instead of looping.
 */
export function appendOlder(window: LiveWindow, page: LivePage, beforeId: number): LiveWindow | null {
  if (window.older !== beforeId) return null
  const older = mergeRows(page.events.filter((row) => row.id < beforeId))
  return {
    rows: older.length > 0 ? [...window.rows, ...older] : window.rows,
    older: page.next !== null && page.next < beforeId ? page.next : null,
    atHead: window.atHead,
  }
}

/**
 * Puts rows newer than the window's first row on top (older or known ids are ignored, so
 * an answer that overlaps what is shown adds nothing twice). `reachedHead` says whether
 * these rows reach the newest matching event.
 */
export function prependNewer(window: LiveWindow, rows: readonly CapturedEvent[], reachedHead: boolean): { window: LiveWindow; added: number } {
  const top = newestId(window) ?? 0
  const newer = mergeRows(rows.filter((row) => row.id > top))
  return {
    window: {
      rows: newer.length > 0 ? [...newer, ...window.rows] : window.rows,
      older: window.older,
      atHead: reachedHead,
    },
    added: newer.length,
  }
}

export type WindowEnd = 'newest' | 'oldest'

/** Keeps at most `cap` rows, dropping from `dropFrom`; `droppedFromTop` is how far the rows moved up. */
export function capWindow(window: LiveWindow, cap: number, dropFrom: WindowEnd): { window: LiveWindow; droppedFromTop: number } {
  const excess = window.rows.length - cap
  if (excess <= 0) return { window, droppedFromTop: 0 }
  if (dropFrom === 'oldest') {
    return { window: { rows: window.rows.slice(0, cap), older: window.rows[cap - 1]!.id, atHead: window.atHead }, droppedFromTop: 0 }
  }
  return { window: { rows: window.rows.slice(excess), older: window.older, atHead: false }, droppedFromTop: excess }
}

/** The end of the window farther from the rows on screen (indexes into the window, newest first). */
export function farEnd(viewport: { first: number; last: number }, length: number): WindowEnd {
  return (viewport.first + viewport.last) / 2 < length / 2 ? 'oldest' : 'newest'
}

/** Ids strictly between `afterId` and `beforeId` (null: no upper bound) not known yet. */
export interface IdGap {
  readonly afterId: number
  readonly beforeId: number | null
}

export interface PageRequest {
  afterId?: number
  beforeId?: number
  limit: number
}

/** One events.search call with the view's filters; throws when it fails. */
export type FetchPage = (request: PageRequest) => Promise<LivePage>

export interface CollectedNewer {
  /** Rows above `afterId` found so far, newest first. */
  rows: CapturedEvent[]
  /** Gaps still unknown, lowest first; none when `rows` is everything above `afterId`. */
  gaps: IdGap[]
}

export interface CollectOptions {
  pageSize: number
  /** Stop once this many rows were found. */
  maxRows: number
  /** And after this many requests whatever was found. */
  maxRequests: number
}

/**
 * Everything above `afterId`, by `afterId` paging: each page is the oldest rows above the
 * last one (contract.ts), so every page joins the rows before it, and the next starts at its
 * `next` (past its rows, or past what its search read); none is the end. When a limit stops
 * it first, the one gap left is above where it got to.
 */
export async function collectNewer(fetchPage: FetchPage, afterId: number, options: CollectOptions): Promise<CollectedNewer> {
  const found: CapturedEvent[] = []
  let from = afterId
  for (let requests = 0; requests < options.maxRequests && found.length < options.maxRows; requests += 1) {
    const page = await fetchPage({ afterId: from, limit: options.pageSize })
    found.push(...page.events.filter((row) => row.id > from))
    // The end, or a server that did not honour the cursor (paging stops rather than loops).
    if (page.next === null || page.next <= from) return { rows: mergeRows(found), gaps: [] }
    from = page.next
  }
  return { rows: mergeRows(found), gaps: [{ afterId: from, beforeId: null }] }
}

/** The rows of `collected` that connect to its start: below the first unknown gap. */
export function connectedRows(collected: CollectedNewer): CapturedEvent[] {
  const first = collected.gaps[0]
  if (!first) return collected.rows
  return collected.rows.filter((row) => row.id <= first.afterId)
}

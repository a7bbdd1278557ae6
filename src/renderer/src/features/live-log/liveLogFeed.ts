/**
 * The live log's data: one window onto the store for one set of filters, kept current
 * from `events.appended` notifications by `afterId` paging (throttled), paged further back
 * with `beforeId` as the person scrolls, held still while paused. Pages are events.search's:
 * each answers in a bounded time, so a filter that matches few of many stored events is
 * searched page after page (the rows found shown as they come) instead of in one long read. Framework-free: the view
 * reads `getSnapshot()` through useSyncExternalStore, which changes a few times a second at
 * most however many events arrive.
 */
import type { CommandRequest, CommandResult, EventPayload } from '@shared/contract'
import { createThrottledQuery } from '../../hooks/throttledQuery'
import {
  EMPTY_WINDOW,
  LIVE_CATCH_UP_PAGE_SIZE,
  LIVE_PAGE_SIZE,
  LIVE_WINDOW_CAP,
  appendOlder,
  capWindow,
  collectNewer,
  connectedRows,
  farEnd,
  newestId,
  prependNewer,
  windowFromNewest,
  type FetchPage,
  type LiveWindow,
} from './liveLogWindow'

/** The filters of events.search, without the cursor and the page size the feed sets itself. */
export type LiveQuery = Omit<CommandRequest<'events.search'>, 'limit' | 'beforeId' | 'afterId'>

export type SearchEvents = (request: CommandRequest<'events.search'>) => Promise<CommandResult<'events.search'>>

/** The rows on screen, as window indexes; `atTop` while the list is scrolled to its very top. */
export interface LiveViewport {
  first: number
  last: number
  atTop: boolean
}

export interface LiveFeedSnapshot {
  window: LiveWindow
  /** 'loading' until the first page answered. */
  status: 'loading' | 'ready'
  /** The last failed request, cleared by the next success. */
  error: string | null
  paused: boolean
  /**
   * Events not shown yet: arrivals while paused or while the window is away from the newest
   * rows. Counted from events.appended (all of the connection's events, so an upper bound
   * with filters) and made exact while paused by a counting query, up to COUNT_LIMIT.
   */
  newCount: number
  loadingOlder: boolean
  /**
   * While older rows are searched for past pages that found too few (a rare text): the share of
   * the stored events read so far, 0 to 1, from the newest down; null otherwise.
   */
  searched: number | null
  loadingNewer: boolean
  /**
   * Rows inserted above (positive) or dropped from above (negative) earlier rows, summed
   * since the feed started: the view moves its scroll position by the change so the rows
   * being read stay where they are.
   */
  topShift: number
  /** Bumped whenever the window is replaced (jump to newest, a catch-up too large to join): the view goes to the top. */
  resets: number
}

export interface LiveFeed {
  getSnapshot(): LiveFeedSnapshot
  subscribe(listener: () => void): () => void
  /** Loads the newest page; call once. */
  start(): void
  dispose(): void
  /** An events.appended notification that concerns this feed's connection. */
  appended(payload: EventPayload<'events.appended'>): void
  /** A reorg took these blocks off the chain: rows of them already shown turn removed. */
  retracted(blockHashes: readonly string[]): void
  /** The transport came back: rows may have arrived unnoticed. */
  reconnected(): void
  setPaused(paused: boolean): void
  setViewport(viewport: LiveViewport): void
  /** The person scrolled near the last row. */
  requestOlder(): void
  /** The person scrolled near the first row of a window that is not at the newest rows. */
  requestNewer(): void
  /** Replace the window with the newest page. */
  jumpToNewest(): void
}

export interface LiveFeedOptions {
  search: SearchEvents
  query: LiveQuery
  paused?: boolean
  pageSize?: number
  catchUpPageSize?: number
  cap?: number
  /** Catch-up queries run at most this often. */
  intervalMs?: number
  /** While paused, the exact count of new rows is refreshed at most this often. */
  countIntervalMs?: number
}

/** The most rows the counting query asks for; beyond it the upper bound is shown. */
export const COUNT_LIMIT = 1000
/** Requests one catch-up may make before it gives up joining and jumps to the newest rows. */
const MAX_CATCH_UP_REQUESTS = 40

class FeedRequestError extends Error {}

export function createLiveFeed(options: LiveFeedOptions): LiveFeed {
  const pageSize = options.pageSize ?? LIVE_PAGE_SIZE
  const catchUpPageSize = options.catchUpPageSize ?? LIVE_CATCH_UP_PAGE_SIZE
  const cap = options.cap ?? LIVE_WINDOW_CAP
  const intervalMs = options.intervalMs ?? 250
  const countIntervalMs = options.countIntervalMs ?? 1000

  let snapshot: LiveFeedSnapshot = {
    window: EMPTY_WINDOW,
    status: 'loading',
    error: null,
    paused: options.paused ?? false,
    newCount: 0,
    loadingOlder: false,
    searched: null,
    loadingNewer: false,
    topShift: 0,
    resets: 0,
  }
  const listeners = new Set<() => void>()
  let disposed = false
  /** Bumped when the window is replaced; answers for an earlier window are dropped. */
  let generation = 0
  let viewport: LiveViewport = { first: 0, last: 0, atTop: true }
  /** events.appended counts summed while paused or away from the head. */
  let appendedUnseen = 0
  let countTimer: ReturnType<typeof setTimeout> | undefined
  /** The highest id events.appended announced. */
  let announcedId = 0
  /**
   * Announced batches above the newest row shown while following, not joined yet: pausing
   * counts them as new too. At thousands of events a second the catch-up runs behind by
   * a second or more, and those rows are as unseen as the ones that arrive after the pause.
   */
  let unjoined: { lastId: number; count: number }[] = []
  /** Rows the unjoined batches hold above `top` (a batch that straddles it, as appended() counts it). */
  const unjoinedAbove = (top: number): number => unjoined.reduce((sum, batch) => sum + Math.max(0, Math.min(batch.count, batch.lastId - top)), 0)
  let loadingOlder = false
  let loadingNewer = false
  /** How far up the first page of the window read (coveredTo then): what `searched` is a share of. */
  let searchTop = 0
  /**
   * Every matching event up to this id is in the window while it is at the head, as far as
   * the requests that filled it read: the newest row shown, or above it, where a page read
   * past it without finding more (a rare text's first page, still searching below).
   */
  let coveredTo = 0
  const headTop = (): number => Math.max(newestId(snapshot.window) ?? 0, snapshot.window.atHead ? coveredTo : 0)

  const emit = (): void => {
    for (const listener of [...listeners]) listener()
  }
  const update = (patch: Partial<LiveFeedSnapshot>): void => {
    if (disposed) return
    snapshot = { ...snapshot, ...patch }
    emit()
  }
  /** newCount alone changes with every notification: publish it a few times a second at most. */
  const updateCountSoon = (): void => {
    if (countTimer !== undefined || disposed) return
    countTimer = setTimeout(() => {
      countTimer = undefined
      if (snapshot.newCount !== appendedUnseen) update({ newCount: appendedUnseen })
    }, intervalMs)
  }
  const setUnseen = (count: number): void => {
    appendedUnseen = count
    clearTimeout(countTimer)
    countTimer = undefined
  }

  const fetchPage: FetchPage = async (request) => {
    const result = await options.search({ ...options.query, ...request })
    if (!result.ok) throw new FeedRequestError(result.error.message)
    return result.value
  }
  const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))

  /** Where to drop rows beyond the cap, for the viewport after `added` rows went on top. */
  const dropEndAfter = (added: number, length: number): 'newest' | 'oldest' => {
    const shift = viewport.atTop ? 0 : added
    return farEnd({ first: viewport.first + shift, last: viewport.last + shift }, length)
  }

  const reload = async (): Promise<void> => {
    const current = ++generation
    loadingOlder = false
    loadingNewer = false
    const announcedBefore = announcedId
    try {
      const page = await fetchPage({ limit: pageSize })
      if (disposed || current !== generation) return
      setUnseen(0)
      const window = windowFromNewest(page)
      // The page read every event stored when it was asked for (announced ones included).
      coveredTo = Math.max(announcedBefore, page.newest)
      searchTop = coveredTo
      // Rows announced while this page was on its way may have missed it.
      if (announcedId > announcedBefore && announcedId > (newestId(window) ?? 0)) {
        if (snapshot.paused) countNew.schedule()
        else catchUp.schedule()
      }
      update({
        window,
        status: 'ready',
        error: null,
        newCount: 0,
        loadingOlder: false,
        searched: null,
        loadingNewer: false,
        resets: snapshot.resets + 1,
      })
      // The page's time ran out before it found a page of rows: the search goes on below it.
      if (page.events.length < pageSize && page.next !== null) loadOlder(pageSize - page.events.length)
    } catch (error) {
      if (current === generation) update({ status: 'ready', error: describe(error), loadingNewer: false })
    }
  }

  /** Prepends what collectNewer found, or jumps to the newest rows when it could not all be joined. */
  const join = async (
    current: number,
    top: number,
    collected: Awaited<ReturnType<typeof collectNewer>>,
    jumpIfIncomplete: boolean,
    announcedBefore: number,
  ): Promise<void> => {
    if (disposed || current !== generation || headTop() !== top) return
    const complete = collected.gaps.length === 0
    // Everything announced before the first request was stored before it: read, whatever matched.
    if (complete) coveredTo = Math.max(coveredTo, announcedBefore)
    const rows = connectedRows(collected)
    if (!complete && (jumpIfIncomplete || rows.length === 0)) {
      await reload()
      return
    }
    const joined = prependNewer(snapshot.window, rows, complete)
    const capped = capWindow(joined.window, cap, dropEndAfter(joined.added, joined.window.rows.length))
    const atHead = capped.window.atHead
    if (atHead) setUnseen(0)
    else if (snapshot.window.atHead) {
      // Left the newest rows: what was announced above the new top is not shown, and from
      // here on appended() counts the arrivals.
      setUnseen(unjoinedAbove(newestId(capped.window) ?? 0))
      unjoined = []
    }
    update({
      window: capped.window,
      status: 'ready',
      error: null,
      newCount: atHead ? 0 : snapshot.window.atHead ? appendedUnseen : snapshot.newCount,
      topShift: snapshot.topShift + joined.added - capped.droppedFromTop,
    })
  }

  const catchUp = createThrottledQuery(async () => {
    if (disposed || snapshot.paused || snapshot.status === 'loading' || !snapshot.window.atHead) return
    const top = headTop()
    // Nothing to join to: start from the newest page rather than from the first event ever stored.
    if (top === 0) {
      await reload()
      return
    }
    const current = generation
    const announcedBefore = announcedId
    try {
      const collected = await collectNewer(fetchPage, top, {
        pageSize: catchUpPageSize,
        maxRows: cap,
        maxRequests: MAX_CATCH_UP_REQUESTS,
      })
      // Paused meanwhile: the rows on screen stay as they are; resuming asks again.
      if (snapshot.paused) return
      // More than the window holds: following at the top, start again from the newest rows;
      // reading further down, keep the place (the rows that connect join above, the rest
      // pages in on the way up) instead of throwing the person to the top.
      await join(current, top, collected, viewport.atTop, announcedBefore)
    } catch (error) {
      if (current === generation) update({ error: describe(error) })
    }
  }, intervalMs)

  /** While paused, the exact number of new rows for these filters (up to COUNT_LIMIT). */
  const countNew = createThrottledQuery(async () => {
    if (disposed || !snapshot.paused || !snapshot.window.atHead) return
    const current = generation
    const top = headTop()
    const before = appendedUnseen
    try {
      const page = await fetchPage({ afterId: top, limit: COUNT_LIMIT })
      if (disposed || current !== generation || !snapshot.paused || headTop() !== top) return
      const found = page.events.filter((row) => row.id > top).length
      // Notifications that came while the query ran may or may not be in its answer. A page that
      // ran out of time before the newest row counted only part: the notifications' bound stands.
      const counted = page.next === null ? found + (appendedUnseen - before) : Math.max(appendedUnseen, found)
      setUnseen(counted)
      if (counted !== snapshot.newCount || snapshot.error !== null) update({ newCount: counted, error: null })
    } catch (error) {
      if (current === generation) update({ error: describe(error) })
    }
  }, countIntervalMs)

  /**
   * Pages older rows in below the window until `rows` of them are found or none is left: a page
   * that ran out of time first (events.search) is followed at once by the next, each one's rows
   * shown as they come, the share of the store read so far in `searched`.
   */
  const loadOlder = (rows = pageSize): void => {
    if (disposed || loadingOlder || snapshot.window.older === null) return
    loadingOlder = true
    const current = generation
    update({ loadingOlder: true })
    const run = async (): Promise<void> => {
      let wanted = rows
      for (;;) {
        const beforeId = snapshot.window.older
        if (beforeId === null) return
        const page = await fetchPage({ beforeId, limit: wanted })
        if (disposed || current !== generation) return
        const next = appendOlder(snapshot.window, page, beforeId)
        if (!next) return
        const capped = capWindow(next, cap, farEnd(viewport, next.rows.length))
        wanted -= next.rows.length - snapshot.window.rows.length
        const goesOn = wanted > 0 && next.older !== null && capped.window.older === next.older
        update({
          window: capped.window,
          error: null,
          searched: goesOn && searchTop > 0 ? Math.min(1, (searchTop - next.older) / searchTop) : null,
          topShift: snapshot.topShift - capped.droppedFromTop,
        })
        if (!goesOn) return
      }
    }
    void run()
      .catch((error: unknown) => {
        if (current === generation) update({ error: describe(error) })
      })
      .finally(() => {
        if (current !== generation) return
        loadingOlder = false
        update({ loadingOlder: false, searched: null })
      })
  }

  return {
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    start() {
      void reload()
    },
    dispose() {
      disposed = true
      generation += 1
      catchUp.dispose()
      countNew.dispose()
      clearTimeout(countTimer)
      listeners.clear()
    },
    retracted(blockHashes) {
      const orphaned = new Set(blockHashes)
      if (!snapshot.window.rows.some((row) => !row.removed && row.blockHash !== null && orphaned.has(row.blockHash))) return
      const rows = snapshot.window.rows.map((row) => (!row.removed && row.blockHash !== null && orphaned.has(row.blockHash) ? { ...row, removed: true } : row))
      update({ window: { ...snapshot.window, rows } })
    },
    appended(payload) {
      announcedId = Math.max(announcedId, payload.lastId)
      if (disposed || snapshot.status === 'loading') return
      const top = headTop()
      if (payload.lastId <= top) return
      if (snapshot.paused || !snapshot.window.atHead) {
        // A batch that straddles the newest row shown holds at most lastId - top new ones.
        appendedUnseen += Math.min(payload.count, payload.lastId - top)
        updateCountSoon()
        if (snapshot.paused) countNew.schedule()
        return
      }
      unjoined = unjoined.filter((batch) => batch.lastId > top)
      unjoined.push({ lastId: payload.lastId, count: payload.count })
      catchUp.schedule()
    },
    reconnected() {
      if (snapshot.paused) countNew.schedule()
      else catchUp.schedule()
    },
    setPaused(paused) {
      if (paused === snapshot.paused) return
      if (paused && snapshot.window.atHead) {
        appendedUnseen = unjoinedAbove(headTop())
        if (appendedUnseen > 0) updateCountSoon()
      }
      unjoined = []
      update({ paused })
      if (paused) countNew.schedule()
      else catchUp.schedule()
    },
    setViewport(next) {
      viewport = next
    },
    requestOlder() {
      loadOlder()
    },
    requestNewer() {
      const top = newestId(snapshot.window)
      // Paused means the rows stay put, at this end too.
      if (disposed || loadingNewer || snapshot.paused || snapshot.window.atHead || top === null) return
      loadingNewer = true
      const current = generation
      const announcedBefore = announcedId
      update({ loadingNewer: true })
      void collectNewer(fetchPage, top, { pageSize, maxRows: pageSize, maxRequests: MAX_CATCH_UP_REQUESTS })
        .then(async (collected) => {
          update({ loadingNewer: false })
          await join(current, top, collected, false, announcedBefore)
        })
        .catch((error: unknown) => {
          if (current === generation) update({ loadingNewer: false, error: describe(error) })
        })
        .finally(() => {
          if (current === generation) loadingNewer = false
        })
    },
    jumpToNewest() {
      void reload()
    },
  }
}

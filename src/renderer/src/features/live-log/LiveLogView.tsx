import { useVirtualizer } from '@tanstack/react-virtual'
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react'
import type { CapturedEvent } from '@shared/contract'
import { formatInteger } from '../../ui/format'
import { useLiveLog } from './useLiveLog'
import { useLiveLogFilters } from './useLiveLogFilters'
import { useLiveLogShortcuts } from './useLiveLogShortcuts'
import { useLiveLogSubscriptions } from './useLiveLogSubscriptions'
import './live-log.css'
import { LiveLogDetail } from './LiveLogDetail'
import { LiveLogFilterBar } from './LiveLogFilterBar'
import { LIVE_ROW_HEIGHT, LiveLogHeaderRow, LiveLogRow } from './LiveLogRow'
import type { LiveFeed } from './liveLogFeed'
import { filtersKey } from './liveLogFilters'

/** Older rows are asked for when the last rendered row is this close to the end of the window. */
const OLDER_THRESHOLD = 60
/** And newer ones (when the window is not at the newest rows) this close to its top. */
const NEWER_THRESHOLD = 20
/**
 * After a scroll of more than a screen (a jump, a fling, the scrollbar dragged), rows are
 * drawn as plain text until scrolling settles this long: every row on screen is new, and
 * laying out full rows (labels, decoded arguments) ten times a second drops frames
 * (bench/live-log.bench.ts, jump scrolling).
 */
const JUMP_SETTLE_MS = 150
const OVERSCAN = 16

/**
 * The live log: every captured event of the connection (all connections when null),
 * newest first, in one virtualised list over a bounded window that pages through the
 * store. Filters, pause/resume (Space), "/" for the text filter, a detail panel (Esc).
 */
export function LiveLogView({ connectionId }: { connectionId: number | null }) {
  const rootRef = useRef<HTMLElement>(null)
  const scrollRef = useRef<HTMLDivElement>(null)
  const textRef = useRef<HTMLInputElement>(null)
  const filters = useLiveLogFilters()
  const subscriptions = useLiveLogSubscriptions(connectionId)
  const [paused, setPaused] = useState(false)
  const [selected, setSelected] = useState<CapturedEvent | null>(null)

  // A subscription belongs to one connection: switching connections drops that filter.
  const [shownConnection, setShownConnection] = useState(connectionId)
  if (shownConnection !== connectionId) {
    setShownConnection(connectionId)
    setSelected(null)
    filters.set('subscriptionId', '')
  }

  const applied = filters.applied
  const queryKey = filtersKey(connectionId, applied.filters)
  const query = useMemo(() => ({ ...(connectionId === null ? {} : { connectionId }), ...applied.filters }), [connectionId, applied])
  const { feed, snapshot } = useLiveLog(connectionId, query, queryKey, paused)
  const { rows, atHead } = snapshot.window
  const hasOlder = snapshot.window.older !== null

  const getItemKey = useCallback((index: number) => rows[index]?.id ?? 'older', [rows])
  const virtualizer = useVirtualizer({
    count: rows.length + (hasOlder ? 1 : 0),
    getScrollElement: () => scrollRef.current,
    estimateSize: () => LIVE_ROW_HEIGHT,
    getItemKey,
    overscan: OVERSCAN,
    // The sticky header row sits above the rows inside the scrolling element.
    scrollMargin: LIVE_ROW_HEIGHT,
    scrollPaddingStart: LIVE_ROW_HEIGHT,
  })

  // Keep the rows being read in place when rows are added or dropped above them; follow the
  // newest rows when scrolled to the very top; go to the top when the window was replaced.
  const anchor = useRef<{ feed: LiveFeed | null; topShift: number; resets: number }>({ feed: null, topShift: 0, resets: 0 })
  /** The list's scrollTop as of its last scroll event. */
  const scrolledTo = useRef(0)
  /** Rows drawn plain while a jump settles (JUMP_SETTLE_MS). */
  const [jumping, setJumping] = useState(false)
  const jumpTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  useEffect(() => () => clearTimeout(jumpTimer.current), [])
  const previous = anchor.current
  const replaced = previous.feed !== feed || previous.resets !== snapshot.resets
  const delta = snapshot.topShift - previous.topShift
  // Reading element.scrollTop here would force a layout on every batch: use the last scroll event's.
  const top = scrolledTo.current
  /** Where the layout effect scrolls the list to; null: it stays where it is. */
  const scrollTarget = replaced ? 0 : delta === 0 || (delta > 0 && top <= LIVE_ROW_HEIGHT / 2) ? null : Math.max(0, top + delta * LIVE_ROW_HEIGHT)
  // The virtualizer takes the new position in this render, not from the scroll event the
  // layout effect causes: the rows rendered are the ones that stay on screen (same keys,
  // moved), not the ones at the old position, which that event would then replace again.
  // That was two renders and two layouts of every visible row per batch while scrolled
  // (bench/live-log.bench.ts, scrolling phase).
  if (scrollTarget !== null) virtualizer.scrollOffset = scrollTarget
  const items = virtualizer.getVirtualItems()
  // The rows on screen, without the overscan.
  const firstIndex = virtualizer.range?.startIndex ?? 0
  const lastIndex = virtualizer.range?.endIndex ?? 0

  useLayoutEffect(() => {
    anchor.current = { feed, topShift: snapshot.topShift, resets: snapshot.resets }
    const element = scrollRef.current
    if (!element || scrollTarget === null) return
    element.scrollTop = scrollTarget
    // Known before its scroll event: keeping the rows in place is not a jump by the person.
    scrolledTo.current = scrollTarget
    // scrollTarget and replaced follow from these (and the refs).
    // eslint-disable-next-line react-hooks/exhaustive-deps -- scrollTarget is derived from these; listing it would re-run on every render
  }, [feed, snapshot.topShift, snapshot.resets])

  // Page at either end as the person scrolls towards it.
  useEffect(() => {
    if (!feed) return
    feed.setViewport({ first: firstIndex, last: lastIndex, atTop: scrolledTo.current <= LIVE_ROW_HEIGHT / 2 })
    if (hasOlder && lastIndex >= rows.length - OLDER_THRESHOLD) feed.requestOlder()
    if (!atHead && rows.length > 0 && firstIndex <= NEWER_THRESHOLD) feed.requestNewer()
  }, [feed, firstIndex, lastIndex, rows.length, hasOlder, atHead, paused])

  const select = useCallback((event: CapturedEvent) => {
    setSelected((current) => (current?.id === event.id ? null : event))
  }, [])

  useLiveLogShortcuts(rootRef, {
    togglePause: () => setPaused((value) => !value),
    focusSearch: () => {
      textRef.current?.focus()
      textRef.current?.select()
    },
    escape: () => {
      if (!selected) return false
      setSelected(null)
      scrollRef.current?.focus({ preventScroll: true })
      return true
    },
  })

  const onListKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (event.target !== event.currentTarget || rows.length === 0) return
    const current = selected ? rows.findIndex((row) => row.id === selected.id) : -1
    let next: number | null = null
    const onScreen = Math.min(rows.length - 1, firstIndex)
    if (event.key === 'ArrowDown') next = current < 0 ? onScreen : Math.min(rows.length - 1, current + 1)
    else if (event.key === 'ArrowUp') next = current < 0 ? onScreen : Math.max(0, current - 1)
    else if (event.key === 'Enter' && current < 0) next = onScreen
    if (next === null) return
    event.preventDefault()
    const row = rows[next]
    if (!row) return
    setSelected(row)
    virtualizer.scrollToIndex(next, { align: 'auto' })
  }

  const selectedLoaded = selected !== null && rows.some((row) => row.id === selected.id)
  const newCount = snapshot.newCount
  const state = paused ? 'paused' : atHead ? 'live' : 'behind'

  return (
    <section ref={rootRef} className="panel live-log" data-testid="live-log" data-state={state} aria-labelledby="live-log-title">
      <div className="panel-header live-toolbar">
        <h2 id="live-log-title">Live log</h2>
        <span className={`live-state live-state-${state}`} data-testid="live-state">
          <span className="live-state-dot" aria-hidden="true" />
          {state === 'paused' ? 'Paused' : state === 'live' ? 'Live' : 'Viewing older events'}
        </span>
        <button
          type="button"
          className={`button button-small live-pause${paused ? ' button-primary' : ''}`}
          data-testid="live-pause"
          aria-pressed={paused}
          title={paused ? 'Resume: show what arrived meanwhile (Space)' : 'Pause: hold the rows still (Space)'}
          onClick={() => setPaused((value) => !value)}
        >
          {paused ? 'Resume' : 'Pause'}
        </button>
        {(paused || newCount > 0) && (
          <button
            type="button"
            className={`live-new-count${newCount > 0 ? ' has-new' : ''}`}
            data-testid="live-new-count"
            data-count={newCount}
            title={
              paused
                ? 'Events captured since pausing (with filters, at most this many match); click to resume'
                : 'Events newer than the loaded rows; click to jump to the newest'
            }
            onClick={() => (paused ? setPaused(false) : feed?.jumpToNewest())}
          >
            {formatInteger(newCount)} new
          </button>
        )}
        {!atHead && rows.length > 0 && (
          <button type="button" className="button button-small" data-testid="live-jump-newest" onClick={() => feed?.jumpToNewest()}>
            Jump to newest
          </button>
        )}
        <span className="panel-hint live-loaded" data-testid="live-loaded-count" data-count={rows.length}>
          {formatInteger(rows.length)} loaded{hasOlder && snapshot.searched === null ? ' · older load as you scroll' : ''}
          {snapshot.searched !== null && <span data-testid="live-searched"> · searching: {searchedShare(snapshot.searched)} of stored events read</span>}
        </span>
      </div>

      <LiveLogFilterBar filters={filters} subscriptions={subscriptions} showConnection={connectionId === null} textRef={textRef} />

      {snapshot.error && (
        <p className="panel-error" role="alert" data-testid="live-error">
          Could not load events: {snapshot.error}
        </p>
      )}

      <div className={`live-body${selected ? ' has-detail' : ''}`}>
        <div
          ref={scrollRef}
          className="live-scroll"
          role="grid"
          aria-label="Captured events, newest first"
          aria-rowcount={rows.length + 1}
          tabIndex={0}
          data-testid="live-list"
          onKeyDown={onListKeyDown}
          onScroll={(event) => {
            const top = event.currentTarget.scrollTop
            const moved = Math.abs(top - scrolledTo.current)
            scrolledTo.current = top
            if (moved > (virtualizer.scrollRect?.height ?? Number.POSITIVE_INFINITY)) {
              setJumping(true)
              clearTimeout(jumpTimer.current)
              jumpTimer.current = setTimeout(() => setJumping(false), JUMP_SETTLE_MS)
            }
          }}
        >
          <div className="live-header">
            <LiveLogHeaderRow />
          </div>
          {rows.length === 0 ? (
            <EmptyState
              loading={snapshot.status === 'loading'}
              searched={snapshot.loadingOlder ? (snapshot.searched ?? 0) : null}
              failed={snapshot.error !== null}
              filtered={applied.active > 0}
              onClear={filters.clear}
            />
          ) : (
            <div className="live-rows" style={{ height: virtualizer.getTotalSize() - LIVE_ROW_HEIGHT }}>
              {items.map((item) => {
                const start = item.start - LIVE_ROW_HEIGHT
                const event = rows[item.index]
                if (!event) {
                  return (
                    <div
                      key={item.key}
                      className="live-row live-more"
                      style={{ transform: `translateY(${start}px)`, height: LIVE_ROW_HEIGHT }}
                      data-testid="live-loading-older"
                    >
                      {snapshot.searched !== null
                        ? `Searching older events… ${searchedShare(snapshot.searched)} of stored events read`
                        : snapshot.loadingOlder
                          ? 'Loading older events…'
                          : 'Older events load as you scroll'}
                    </div>
                  )
                }
                return (
                  <LiveLogRow
                    key={item.key}
                    event={event}
                    index={item.index}
                    start={start}
                    selected={selected?.id === event.id}
                    plain={jumping}
                    onSelect={select}
                  />
                )
              })}
            </div>
          )}
        </div>
        {selected && <LiveLogDetail event={selected} loaded={selectedLoaded} onClose={() => setSelected(null)} />}
      </div>

      <p className="live-keys" aria-hidden="true">
        <kbd className="live-kbd">Space</kbd> pause/resume · <kbd className="live-kbd">/</kbd> search · <kbd className="live-kbd">↑</kbd>
        <kbd className="live-kbd">↓</kbd> move · <kbd className="live-kbd">Esc</kbd> close details
      </p>
    </section>
  )
}

/** A share of the stored events as a percentage: "37 %"; below 1 % and above 99 % with a decimal. */
function searchedShare(share: number): string {
  const percent = share * 100
  return `${percent < 1 || percent > 99 ? percent.toFixed(1) : Math.round(percent)} %`
}

function EmptyState({
  loading,
  searched,
  failed,
  filtered,
  onClear,
}: {
  loading: boolean
  /** While older rows are searched for: the share of the stored events read. */
  searched: number | null
  failed: boolean
  filtered: boolean
  onClear(): void
}) {
  if (loading || searched !== null) {
    return (
      <p className="muted-text" data-testid="live-loading">
        {searched ? `Searching the stored events… ${searchedShare(searched)} read` : 'Loading events…'}
      </p>
    )
  }
  if (failed) {
    return (
      <p className="empty-text" data-testid="live-empty" data-reason="error">
        The events could not be loaded; the list retries when new events arrive.
      </p>
    )
  }
  if (filtered) {
    return (
      <div className="empty-text live-empty" data-testid="live-empty" data-reason="no-match">
        <p>No events match these filters.</p>
        <p className="live-muted">Widen the block range or clear a filter; matching events appear here as they arrive.</p>
        <button type="button" className="button button-small" data-testid="live-empty-clear" onClick={onClear}>
          Clear filters
        </button>
      </div>
    )
  }
  return (
    <div className="empty-text live-empty" data-testid="live-empty" data-reason="no-events">
      <p>No events yet: add a subscription in the Subscriptions tab.</p>
      <p className="live-muted">Every event it captures appears here, newest first, the moment it arrives.</p>
    </div>
  )
}

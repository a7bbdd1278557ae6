/**
 * The live log's feed for one set of filters: created when they change, fed with
 * events.appended and reconnects, read through useSyncExternalStore.
 */
import { useEffect, useRef, useState, useSyncExternalStore } from 'react'
import { EMPTY_WINDOW } from './liveLogWindow'
import { createLiveFeed, type LiveFeed, type LiveFeedSnapshot, type LiveQuery } from './liveLogFeed'
import { useClient } from '../../hooks/useClient'

const IDLE_SNAPSHOT: LiveFeedSnapshot = {
  window: EMPTY_WINDOW,
  status: 'loading',
  error: null,
  paused: false,
  newCount: 0,
  loadingOlder: false,
  searched: null,
  loadingNewer: false,
  topShift: 0,
  resets: 0,
}

const noSubscription = (): (() => void) => () => undefined
const idleSnapshot = (): LiveFeedSnapshot => IDLE_SNAPSHOT

export interface LiveLogState {
  /** Null until the effect created it (first render, or right after the filters changed). */
  feed: LiveFeed | null
  snapshot: LiveFeedSnapshot
}

/**
 * `queryKey` identifies `query` (a new key starts a new feed); `connectionId` null follows
 * every connection's notifications.
 */
export function useLiveLog(connectionId: number | null, query: LiveQuery, queryKey: string, paused: boolean): LiveLogState {
  const client = useClient()
  const [feed, setFeed] = useState<LiveFeed | null>(null)
  const queryRef = useRef(query)
  queryRef.current = query
  const pausedRef = useRef(paused)
  pausedRef.current = paused

  useEffect(() => {
    const next = createLiveFeed({
      search: (request) => client.call('events.search', request),
      query: queryRef.current,
      paused: pausedRef.current,
    })
    setFeed(next)
    next.start()
    const offAppended = client.on('events.appended', (payload) => {
      if (connectionId === null || payload.connectionId === connectionId) next.appended(payload)
    })
    const offRetracted = client.on('events.retracted', (payload) => {
      if (connectionId === null || payload.connectionId === connectionId) next.retracted(payload.blockHashes)
    })
    const offReconnect = client.onReconnect(() => next.reconnected())
    return () => {
      offAppended()
      offRetracted()
      offReconnect()
      next.dispose()
    }
  }, [client, connectionId, queryKey])

  useEffect(() => {
    feed?.setPaused(paused)
  }, [feed, paused])

  const snapshot = useSyncExternalStore(feed?.subscribe ?? noSubscription, feed?.getSnapshot ?? idleSnapshot)
  return { feed, snapshot }
}

import { useEffect, useState } from 'react'
import type { CapturedEvent } from '@shared/contract'
import { createThrottledQuery } from '../../hooks/throttledQuery'
import { useClient } from '../../hooks/useClient'

/** events.appended arrives in batches, possibly many a second; the list is re-queried at most this often. */
const REQUERY_INTERVAL_MS = 250

export interface EventsState {
  /** Newest first; null while the first query for this selection is pending. */
  events: CapturedEvent[] | null
  error: string | null
}

interface Loaded {
  key: string
  events: CapturedEvent[] | null
  error: string | null
}

/**
 * The newest `limit` captured events of a connection, or of one of its subscriptions.
 * events.appended only triggers a throttled re-query; events are never accumulated in state.
 */
export function useEvents(connectionId: number | null, subscriptionId: number | null, limit: number): EventsState {
  const client = useClient()
  const key = `${connectionId ?? 'none'}:${subscriptionId ?? 'all'}:${limit}`
  const [loaded, setLoaded] = useState<Loaded>({ key: '', events: null, error: null })

  useEffect(() => {
    if (connectionId === null) return
    let disposed = false
    let newestId = 0

    const query = createThrottledQuery(async () => {
      const result = await client.call('events.list', {
        connectionId,
        ...(subscriptionId === null ? {} : { subscriptionId }),
        limit,
      })
      if (disposed) return
      if (result.ok) {
        newestId = result.value.reduce((max, event) => Math.max(max, event.id), newestId)
        setLoaded({ key, events: result.value, error: null })
      } else {
        setLoaded((previous) => ({
          key,
          events: previous.key === key ? previous.events : [],
          error: result.error.message,
        }))
      }
    }, REQUERY_INTERVAL_MS)

    query.schedule()
    const offAppended = client.on('events.appended', (event) => {
      if (event.connectionId !== connectionId || event.lastId <= newestId) return
      query.schedule()
    })
    const offReconnect = client.onReconnect(query.schedule)
    return () => {
      disposed = true
      query.dispose()
      offAppended()
      offReconnect()
    }
  }, [client, connectionId, subscriptionId, limit, key])

  if (connectionId === null) return { events: [], error: null }
  if (loaded.key !== key) return { events: null, error: null }
  return { events: loaded.events, error: loaded.error }
}

/** The subscriptions the live log can filter by: the connection's, or every connection's. */
import { useEffect, useState } from 'react'
import type { Subscription } from '@shared/contract'
import { createThrottledQuery } from '../../hooks/throttledQuery'
import { useClient } from '../../hooks/useClient'

const REQUERY_INTERVAL_MS = 1000

export function useLiveLogSubscriptions(connectionId: number | null): Subscription[] {
  const client = useClient()
  const [loaded, setLoaded] = useState<{ connectionId: number | null; rows: Subscription[] }>({
    connectionId: null,
    rows: [],
  })

  useEffect(() => {
    let disposed = false
    const query = createThrottledQuery(async () => {
      const result = await client.call('subscriptions.list', connectionId === null ? {} : { connectionId })
      if (disposed || !result.ok) return
      const rows = result.value.filter((row) => connectionId === null || row.connectionId === connectionId).sort((a, b) => a.id - b.id)
      setLoaded({ connectionId, rows })
    }, REQUERY_INTERVAL_MS)
    query.schedule()
    const offChanged = client.on('subscriptions.changed', query.schedule)
    const offReconnect = client.onReconnect(query.schedule)
    return () => {
      disposed = true
      query.dispose()
      offChanged()
      offReconnect()
    }
  }, [client, connectionId])

  return loaded.connectionId === connectionId ? loaded.rows : []
}

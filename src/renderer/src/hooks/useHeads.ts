import { useEffect, useState } from 'react'
import type { Head } from '@shared/contract'
import { useClient } from './useClient'

/** heads.appended can arrive many times a second; the list is re-queried at most this often. */
const REQUERY_INTERVAL_MS = 250

export interface HeadsState {
  /** Newest first; null while the first query for this connection is pending. */
  heads: Head[] | null
  error: string | null
}

interface Loaded {
  key: string
  heads: Head[] | null
  error: string | null
}

/**
 * The newest `limit` heads of one connection. Events only trigger a throttled re-query;
 * they are never accumulated into state, so memory stays bounded however fast blocks come.
 */
export function useHeads(connectionId: number | null, limit: number): HeadsState {
  const client = useClient()
  const key = `${connectionId ?? 'none'}:${limit}`
  const [loaded, setLoaded] = useState<Loaded>({ key: '', heads: null, error: null })

  useEffect(() => {
    if (connectionId === null) return
    let disposed = false
    let inFlight = false
    let dirty = false
    let lastStartedAt = -Infinity
    let timer: ReturnType<typeof setTimeout> | undefined
    let newestId = 0

    const query = async (): Promise<void> => {
      timer = undefined
      if (inFlight) {
        dirty = true
        return
      }
      inFlight = true
      dirty = false
      lastStartedAt = performance.now()
      const result = await client.call('heads.list', { connectionId, limit })
      inFlight = false
      if (disposed) return
      if (result.ok) {
        newestId = result.value.reduce((max, head) => Math.max(max, head.id), 0)
        setLoaded({ key, heads: result.value, error: null })
      } else {
        setLoaded((previous) => ({
          key,
          heads: previous.key === key ? previous.heads : [],
          error: result.error.message,
        }))
      }
      if (dirty) schedule()
    }

    const schedule = (): void => {
      if (disposed || timer !== undefined) return
      if (inFlight) {
        dirty = true
        return
      }
      const wait = Math.max(0, lastStartedAt + REQUERY_INTERVAL_MS - performance.now())
      timer = setTimeout(() => void query(), wait)
    }

    void query()
    const offAppended = client.on('heads.appended', (event) => {
      if (event.connectionId !== connectionId || event.lastId <= newestId) return
      schedule()
    })
    const offReconnect = client.onReconnect(schedule)
    return () => {
      disposed = true
      clearTimeout(timer)
      offAppended()
      offReconnect()
    }
  }, [client, connectionId, limit, key])

  if (connectionId === null) return { heads: [], error: null }
  if (loaded.key !== key) return { heads: null, error: null }
  return { heads: loaded.heads, error: loaded.error }
}

import { useEffect, useState } from 'react'
import type { Head } from '@shared/contract'
import { useClient } from '../../hooks/useClient'

/** heads.appended can arrive many times a second; the list is re-queried at most this often. */
const REQUERY_INTERVAL_MS = 250
/** heads.list answers at most this many heads; larger windows are read page by page. */
const PAGE_LIMIT = 1000

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
 * The newest `limit` heads of one connection (paged past heads.list's 1,000). Events only
 * trigger a throttled re-query (at most every `intervalMs`); they are never accumulated into
 * state, so memory stays bounded however fast blocks come.
 */
export function useHeads(connectionId: number | null, limit: number, intervalMs: number = REQUERY_INTERVAL_MS): HeadsState {
  const client = useClient()
  const key = `${connectionId ?? 'none'}:${limit}:${intervalMs}`
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
      const result = await listHeads(connectionId)
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
      const wait = Math.max(0, lastStartedAt + intervalMs - performance.now())
      timer = setTimeout(() => void query(), wait)
    }

    /** One request up to 1,000 heads; past that, pages going back by id until `limit` or the start. */
    const listHeads = async (id: number): Promise<{ ok: true; value: Head[] } | { ok: false; error: { message: string } }> => {
      const heads: Head[] = []
      let beforeId: number | undefined
      while (heads.length < limit) {
        const pageLimit = Math.min(PAGE_LIMIT, limit - heads.length)
        const page = await client.call('heads.list', {
          connectionId: id,
          limit: pageLimit,
          ...(beforeId === undefined ? {} : { beforeId }),
        })
        if (!page.ok) return page
        heads.push(...page.value)
        if (page.value.length < pageLimit || disposed) break
        beforeId = page.value.reduce((min, head) => Math.min(min, head.id), Number.POSITIVE_INFINITY)
        if (!Number.isFinite(beforeId) || beforeId <= 1) break
      }
      return { ok: true, value: heads }
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
  }, [client, connectionId, limit, intervalMs, key])

  if (connectionId === null) return { heads: [], error: null }
  if (loaded.key !== key) return { heads: null, error: null }
  return { heads: loaded.heads, error: loaded.error }
}

/**
 * The address watchlist, loaded once and refreshed on `watchlist.changed`; a context so
 * every place that shows an address can show its label.
 */
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import type { WatchlistEntry } from '@shared/contract'
import { useClient } from './useClient'

interface WatchlistValue {
  entries: WatchlistEntry[]
  /** Lowercase address -> entry. */
  byAddress: Map<string, WatchlistEntry>
  reload: () => void
}

const WatchlistContext = createContext<WatchlistValue>({ entries: [], byAddress: new Map(), reload: () => undefined })

export function WatchlistProvider({ children }: { children: ReactNode }) {
  const client = useClient()
  const [entries, setEntries] = useState<WatchlistEntry[]>([])
  const reload = useCallback(() => {
    void client.call('watchlist.list', {}).then((result) => {
      if (result.ok) setEntries(result.value)
    })
  }, [client])
  useEffect(() => {
    reload()
    return client.on('watchlist.changed', reload)
  }, [client, reload])
  const value = useMemo(() => ({ entries, byAddress: new Map(entries.map((e) => [e.address.toLowerCase(), e])), reload }), [entries, reload])
  return createElement(WatchlistContext.Provider, { value }, children)
}

export function useWatchlist(): WatchlistValue {
  return useContext(WatchlistContext)
}

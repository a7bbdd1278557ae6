import { useCallback, useEffect, useState } from 'react'
import type { Preferences } from '@shared/contract'
import { useClient } from './useClient'

export interface UsePreferences {
  /** Null until loaded, so nothing flashes up that was already dismissed. */
  preferences: Preferences | null
  set(patch: Partial<Preferences>): void
}

/** The person's interface choices, kept in the engine's settings (they follow the data directory). */
export function usePreferences(): UsePreferences {
  const client = useClient()
  const [preferences, setPreferences] = useState<Preferences | null>(null)
  useEffect(() => {
    let disposed = false
    const load = (): void => {
      void client.call('preferences.get', {}).then((result) => {
        if (!disposed && result.ok) setPreferences(result.value)
      })
    }
    load()
    const offReconnect = client.onReconnect(load)
    return () => {
      disposed = true
      offReconnect()
    }
  }, [client])
  const set = useCallback(
    (patch: Partial<Preferences>) => {
      setPreferences((current) => (current ? { ...current, ...patch } : current))
      void client.call('preferences.set', patch).then((result) => {
        if (result.ok) setPreferences(result.value)
      })
    },
    [client],
  )
  return { preferences, set }
}

import { useEffect, useState } from 'react'
import type { StorageStatus } from '@shared/contract'
import { useClient } from './useClient'

/** The store's health from storage.status, kept current by its event; null until loaded. */
export function useStorageStatus(): StorageStatus | null {
  const client = useClient()
  const [status, setStatus] = useState<StorageStatus | null>(null)
  useEffect(() => {
    let disposed = false
    const load = (): void => {
      void client.call('storage.status', {}).then((result) => {
        if (!disposed && result.ok) setStatus(result.value)
      })
    }
    load()
    const offStatus = client.on('storage.status', setStatus)
    const offReconnect = client.onReconnect(load)
    return () => {
      disposed = true
      offStatus()
      offReconnect()
    }
  }, [client])
  return status
}

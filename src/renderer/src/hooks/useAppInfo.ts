import { useEffect, useState } from 'react'
import type { CommandResponse } from '@shared/contract'
import { useClient } from './useClient'

export type AppInfo = CommandResponse<'app.info'>

export function useAppInfo(): AppInfo | null {
  const client = useClient()
  const [info, setInfo] = useState<AppInfo | null>(null)
  useEffect(() => {
    let disposed = false
    const load = (): void => {
      void client.call('app.info', {}).then((result) => {
        if (!disposed && result.ok) setInfo(result.value)
      })
    }
    load()
    const offReconnect = client.onReconnect(load)
    return () => {
      disposed = true
      offReconnect()
    }
  }, [client])
  return info
}

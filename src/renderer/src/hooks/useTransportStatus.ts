import { useSyncExternalStore } from 'react'
import type { TransportStatus } from '../transport/status'
import { useClient } from './useClient'

export function useTransportStatus(): TransportStatus {
  const client = useClient()
  return useSyncExternalStore(client.onStatus, client.getStatus)
}

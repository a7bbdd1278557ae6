import { createContext, createElement, useContext, type ReactNode } from 'react'
import type { TidewatchClient } from '../transport/client'

const ClientContext = createContext<TidewatchClient | null>(null)

export function ClientProvider({ client, children }: { client: TidewatchClient; children: ReactNode }) {
  return createElement(ClientContext.Provider, { value: client }, children)
}

export function useClient(): TidewatchClient {
  const client = useContext(ClientContext)
  if (!client) throw new Error('useClient() needs a <ClientProvider> above it')
  return client
}

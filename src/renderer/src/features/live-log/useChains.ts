/**
 * Each connection's chain (name, explorer, finality) for whatever shows a block, a
 * transaction or an amount. The connection list publishes it; the value changes only
 * when a chain does, not with every status update, so the live log's rows do not
 * re-render on each head.
 */
import { createContext, createElement, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import type { ChainInfo, ConnectionWithStatus } from '@shared/contract'

interface ChainsValue {
  chains: ReadonlyMap<number, ChainInfo>
  publish(chains: ReadonlyMap<number, ChainInfo>): void
}

const ChainsContext = createContext<ChainsValue>({ chains: new Map(), publish: () => undefined })

export function ChainsProvider({ children }: { children: ReactNode }) {
  const [chains, publish] = useState<ReadonlyMap<number, ChainInfo>>(new Map())
  const value = useMemo(() => ({ chains, publish }), [chains])
  return createElement(ChainsContext.Provider, { value }, children)
}

/** Called by the owner of the connection list. */
export function usePublishChains(rows: readonly ConnectionWithStatus[]): void {
  const { publish } = useContext(ChainsContext)
  const key = JSON.stringify(rows.map((row) => [row.id, row.status.chain]))
  useEffect(() => {
    const entries = JSON.parse(key) as [number, ChainInfo | null][]
    publish(new Map(entries.filter((entry): entry is [number, ChainInfo] => entry[1] !== null)))
  }, [key, publish])
}

/** The connection's chain; null while its chain id is not known (or outside a provider). */
export function useChain(connectionId: number | null | undefined): ChainInfo | null {
  const { chains } = useContext(ChainsContext)
  return connectionId === null || connectionId === undefined ? null : (chains.get(connectionId) ?? null)
}

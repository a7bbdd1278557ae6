/**
 * ERC-20 symbols and decimals for the amounts on screen. Components ask for the tokens
 * they show; the asks of one render are sent together (tokens.lookup), the tokens main
 * already knows come back at once, and the others arrive with `tokens.resolved` once
 * main has read them. Each token is asked for once per connection.
 */
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import type { TokenMetadata } from '@shared/contract'
import { useClient } from '../../hooks/useClient'

interface TokensValue {
  tokens: ReadonlyMap<string, TokenMetadata>
  request(connectionId: number, address: string): void
}

const TokensContext = createContext<TokensValue>({ tokens: new Map(), request: () => undefined })

const keyOf = (connectionId: number, address: string): string => `${connectionId}:${address.toLowerCase()}`

/** tokens.lookup takes at most this many addresses. */
const LOOKUP_LIMIT = 200

export function TokenMetadataProvider({ children }: { children: ReactNode }) {
  const client = useClient()
  const [tokens, setTokens] = useState<ReadonlyMap<string, TokenMetadata>>(new Map())
  const asked = useRef(new Set<string>())
  const queued = useRef(new Map<number, Set<string>>())
  const flushScheduled = useRef(false)

  const merge = useCallback((found: readonly TokenMetadata[]) => {
    if (found.length === 0) return
    setTokens((current) => {
      const next = new Map(current)
      for (const token of found) next.set(keyOf(token.connectionId, token.address), token)
      return next
    })
  }, [])

  const flush = useCallback(() => {
    flushScheduled.current = false
    const batches = [...queued.current.entries()]
    queued.current.clear()
    for (const [connectionId, addresses] of batches) {
      const list = [...addresses]
      for (let start = 0; start < list.length; start += LOOKUP_LIMIT) {
        const chunk = list.slice(start, start + LOOKUP_LIMIT)
        void client.call('tokens.lookup', { connectionId, addresses: chunk }).then((result) => {
          if (result.ok) merge(result.value)
          // A failed ask (transport down) may be asked again.
          else for (const address of chunk) asked.current.delete(keyOf(connectionId, address))
        })
      }
    }
  }, [client, merge])

  const request = useCallback(
    (connectionId: number, address: string) => {
      const key = keyOf(connectionId, address)
      if (asked.current.has(key)) return
      asked.current.add(key)
      const set = queued.current.get(connectionId) ?? new Set<string>()
      set.add(address.toLowerCase())
      queued.current.set(connectionId, set)
      if (!flushScheduled.current) {
        flushScheduled.current = true
        queueMicrotask(flush)
      }
    },
    [flush],
  )

  useEffect(() => {
    const offResolved = client.on('tokens.resolved', ({ tokens: found }) => merge(found))
    // Answers sent while the transport was down are lost: ask again for what is still unknown.
    const offReconnect = client.onReconnect(() => asked.current.clear())
    return () => {
      offResolved()
      offReconnect()
    }
  }, [client, merge])

  const value = useMemo(() => ({ tokens, request }), [tokens, request])
  return createElement(TokensContext.Provider, { value }, children)
}

/** The token's metadata once known; undefined until then (or when address is null). */
export function useTokenMetadata(connectionId: number, address: string | null): TokenMetadata | undefined {
  const { tokens, request } = useContext(TokensContext)
  useEffect(() => {
    if (address) request(connectionId, address)
  }, [request, connectionId, address])
  return address ? tokens.get(keyOf(connectionId, address)) : undefined
}

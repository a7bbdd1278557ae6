/**
 * Chain id -> name, native currency and block explorer, from viem's chain list (the same
 * table wallets use), built once in the main process so the renderer never bundles it:
 * the renderer gets the one entry each connection needs over the contract.
 */
import * as viemChains from 'viem/chains'

export interface KnownChain {
  id: number
  name: string
  /** Symbol of the native currency, e.g. "ETH", "POL". */
  nativeSymbol: string
  /** The explorer's base URL, https only, without a trailing slash; null when viem lists none. */
  explorerUrl: string | null
  testnet: boolean
}

interface ViemChainLike {
  id: number
  name: string
  nativeCurrency?: { symbol?: string }
  blockExplorers?: { default?: { url?: string } }
  testnet?: boolean
}

let table: Map<number, KnownChain> | null = null

function isChain(value: unknown): value is ViemChainLike {
  const v = value as Partial<ViemChainLike> | null
  return typeof v === 'object' && v !== null && typeof v.id === 'number' && typeof v.name === 'string'
}

/** Only https explorer links are ever opened or shown. */
function httpsBase(url: string | undefined): string | null {
  if (!url || !URL.canParse(url)) return null
  const parsed = new URL(url)
  if (parsed.protocol !== 'https:' || parsed.username || parsed.password) return null
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`
}

function build(): Map<number, KnownChain> {
  const byId = new Map<number, KnownChain>()
  // viem exports some ids more than once (31337 as anvil, foundry and hardhat; 8453 as base
  // and basePreconf). Exports come in alphabetical order; the first with an explorer wins,
  // else the first: 31337 reads "Anvil", 1 "Ethereum".
  for (const chain of Object.values(viemChains as Record<string, unknown>)) {
    if (!isChain(chain)) continue
    const entry: KnownChain = {
      id: chain.id,
      name: chain.name,
      nativeSymbol: chain.nativeCurrency?.symbol ?? 'ETH',
      explorerUrl: httpsBase(chain.blockExplorers?.default?.url),
      testnet: chain.testnet === true,
    }
    const existing = byId.get(chain.id)
    if (!existing || (existing.explorerUrl === null && entry.explorerUrl !== null)) byId.set(chain.id, entry)
  }
  return byId
}

/** The chain viem knows by this id, or null for a chain it does not list. */
export function knownChain(chainId: number): KnownChain | null {
  table ??= build()
  return table.get(chainId) ?? null
}

/** Whether a URL is a page of a known chain's explorer (the desktop app opens only those). */
export function isKnownExplorerUrl(url: string): boolean {
  if (!URL.canParse(url)) return false
  const parsed = new URL(url)
  if (parsed.protocol !== 'https:' || parsed.username || parsed.password) return false
  table ??= build()
  for (const chain of table.values()) {
    if (!chain.explorerUrl) continue
    const base = new URL(chain.explorerUrl)
    if (parsed.origin === base.origin && (base.pathname === '/' || base.pathname === '' || parsed.pathname.startsWith(`${base.pathname}/`))) return true
  }
  return false
}

/**
 * How deep a block must be before Tidewatch calls it final, per chain, where the upstream
 * has no `finalized` tag (the chain tracker asks for that tag first).
 */
import type { ChainInfo } from '../../shared/contract'
import { knownChain } from './known-chains'

/** PROTOCOL.md's default, for chains without a count of their own. */
export const GENERIC_CONFIRMATIONS = 64

/**
 * Counts as ponder uses them (packages/core/src/utils/finality.ts): Ethereum and its
 * testnets 65, Polygon 200, Arbitrum 240; OP Mainnet 240 as issue #12 asks.
 */
const CHAIN_CONFIRMATIONS: ReadonlyMap<number, number> = new Map([
  ...[1, 3, 4, 5, 42, 17000, 11155111].map((id) => [id, 65] as const),
  ...[137, 80001, 80002].map((id) => [id, 200] as const),
  ...[42161, 42170, 421613, 421614].map((id) => [id, 240] as const),
  ...[10, 11155420].map((id) => [id, 240] as const),
])

/** Until the chain id is known, the deepest count in the table: a block is never called final too early. */
export const CONFIRMATIONS_BEFORE_CHAIN_ID = Math.max(GENERIC_CONFIRMATIONS, ...CHAIN_CONFIRMATIONS.values())

export function chainConfirmations(chainId: number): { confirmations: number; source: 'chain' | 'generic' } {
  const count = CHAIN_CONFIRMATIONS.get(chainId)
  return count === undefined ? { confirmations: GENERIC_CONFIRMATIONS, source: 'generic' } : { confirmations: count, source: 'chain' }
}

export interface ConfirmationsOverrides {
  /** `tidewatch serve --confirmations N`: wins over everything. */
  commandLine?: number | undefined
  /** The connection's own setting, stored with it. */
  connection?: number | null | undefined
}

/** What a connection's chain is and which confirmation count applies, in the order command line > connection > chain > generic. */
export function describeChain(chainId: number, overrides: ConfirmationsOverrides = {}): ChainInfo {
  const known = knownChain(chainId)
  const chosen: Pick<ChainInfo, 'confirmations' | 'confirmationsSource'> =
    overrides.commandLine !== undefined
      ? { confirmations: overrides.commandLine, confirmationsSource: 'command-line' }
      : overrides.connection !== undefined && overrides.connection !== null
        ? { confirmations: overrides.connection, confirmationsSource: 'connection' }
        : (({ confirmations, source }) => ({ confirmations, confirmationsSource: source }))(chainConfirmations(chainId))
  return {
    chainId,
    name: known?.name ?? null,
    nativeSymbol: known?.nativeSymbol ?? 'ETH',
    explorerUrl: known?.explorerUrl ?? null,
    testnet: known?.testnet ?? false,
    ...chosen,
  }
}

/** The count the tracker uses now: before the chain id is known, the deepest default unless a setting says otherwise. */
export function confirmationsFor(chainId: number | null, overrides: ConfirmationsOverrides = {}): number {
  if (chainId !== null) return describeChain(chainId, overrides).confirmations
  return overrides.commandLine ?? overrides.connection ?? CONFIRMATIONS_BEFORE_CHAIN_ID
}

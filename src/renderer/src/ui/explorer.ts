/** Links into a chain's block explorer, built from the https base URL main sends with the chain (never typed or fetched here). */
import type { ChainInfo } from '@shared/contract'

export type ExplorerTarget = 'block' | 'tx' | 'address'

const VALID: Record<ExplorerTarget, RegExp> = {
  block: /^\d+$/,
  tx: /^0x[0-9a-fA-F]{64}$/,
  address: /^0x[0-9a-fA-F]{40}$/,
}

/** The explorer page of a block (number), transaction or address; null when the chain has no known explorer or the value is malformed. */
export function explorerUrl(chain: Pick<ChainInfo, 'explorerUrl'> | null | undefined, target: ExplorerTarget, value: string | number): string | null {
  const base = chain?.explorerUrl
  if (!base || !base.startsWith('https://')) return null
  const text = String(value)
  if (!VALID[target].test(text)) return null
  return `${base}/${target}/${text}`
}

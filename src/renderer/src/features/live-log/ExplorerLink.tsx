import type { ChainInfo } from '@shared/contract'
import { chainName } from '../../ui/format'
import { explorerUrl, type ExplorerTarget } from '../../ui/explorer'

const NOUNS: Record<ExplorerTarget, string> = { block: 'block', tx: 'transaction', address: 'address' }

/**
 * A link to the block, transaction or address on the chain's explorer, or nothing when
 * the chain has none. A new-window link: the desktop app hands it to the system browser
 * (only https pages of a known explorer); a browser opens a tab.
 */
export function ExplorerLink({ chain, target, value }: { chain: ChainInfo | null; target: ExplorerTarget; value: string | number }) {
  const url = explorerUrl(chain, target, value)
  if (!url || !chain) return null
  const host = new URL(url).host
  return (
    <a
      className="explorer-link"
      href={url}
      target="_blank"
      rel="noreferrer"
      data-testid="explorer-link"
      data-target={target}
      title={`Open this ${NOUNS[target]} on ${host} (${chainName(chain)})`}
    >
      {host} ↗
    </a>
  )
}

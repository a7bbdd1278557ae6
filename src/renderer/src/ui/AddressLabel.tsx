import { shortHash } from './format'
import { useWatchlist } from '../hooks/useWatchlist'

/** An address as people read it: its watchlist label and colour when it has one, else shortened. */
export function AddressLabel({ address, full = false }: { address: string | null | undefined; full?: boolean }) {
  const { byAddress } = useWatchlist()
  if (!address) return <span className="muted">—</span>
  const entry = byAddress.get(address.toLowerCase())
  const short = full ? address : shortHash(address)
  if (!entry) {
    return (
      <span className="address mono" title={address} data-testid="address">
        {short}
      </span>
    )
  }
  return (
    <span className="address address-labelled" title={`${entry.label} · ${address}`} data-testid="address-label" data-address={address.toLowerCase()}>
      <span className="address-dot" style={{ backgroundColor: entry.color }} aria-hidden="true" />
      {entry.label}
    </span>
  )
}

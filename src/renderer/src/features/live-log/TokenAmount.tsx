import { formatTokenAmount } from '../../ui/format'
import { useTokenMetadata } from './useTokenMetadata'
import { compactValue } from './liveLogFormat'

interface Props {
  connectionId: number
  token: string
  /** The amount as the log carries it (an integer in the token's smallest unit). */
  raw: string
  /** Also show the raw value beside the readable one (detail pane). */
  showRaw?: boolean
}

/**
 * An ERC-20 amount as people read it ("349.09 TWD") once the token's decimals are known;
 * until then, or for a token without decimals, the raw value. The raw value is always on
 * hover.
 */
export function TokenAmount({ connectionId, token, raw, showRaw = false }: Props) {
  const metadata = useTokenMetadata(connectionId, token)
  const readable = formatTokenAmount(raw, metadata)
  const title = metadata && metadata.decimals !== null ? `${raw} (raw; ${metadata.symbol ?? 'no symbol'}, ${metadata.decimals} decimals)` : raw
  return (
    <span className="token-amount" data-testid="token-amount" data-raw={raw} data-readable={readable ? 'true' : 'false'} title={title}>
      <span className={showRaw ? 'live-detail-value' : 'live-args-value'}>{readable ?? (showRaw ? raw : compactValue(raw))}</span>
      {showRaw && readable && <span className="mono live-muted live-detail-raw-value">raw {raw}</span>}
    </span>
  )
}

import type { Head } from '@shared/contract'
import { DASH, formatGasPercent, formatGwei, formatInteger, formatLocalTime, shortHash } from '../../ui/format'
import { RelativeTime } from '../../ui/RelativeTime'

/** One head; `reorg` when the table holds another head of the same number (a reorg replaced one of them). */
export function HeadRow({ head, reorg = false }: { head: Head; reorg?: boolean }) {
  const timestampMs = head.timestamp * 1000
  return (
    <tr className={reorg ? 'head-row is-reorg' : 'head-row'} data-testid="head-row" data-number={head.number} data-reorg={reorg ? 'true' : undefined}>
      <td className="num">
        {reorg && (
          <span className="tag tag-reorg" data-testid="head-reorg" title="More than one block was received at this height: a chain reorganisation replaced one">
            reorg
          </span>
        )}
        <span data-testid="head-number">{head.number}</span>
      </td>
      <td className="mono" title={head.hash} data-testid="head-hash">
        {shortHash(head.hash)}
      </td>
      <td className="time-cell">
        <span className="time-local">{formatLocalTime(timestampMs)}</span>{' '}
        <span className="time-relative">
          <RelativeTime at={timestampMs} />
        </span>
      </td>
      <td className="num" title={`${formatInteger(head.gasUsed)} of ${formatInteger(head.gasLimit)} gas`}>
        {formatInteger(head.gasUsed)} <span className="subtle">({formatGasPercent(head.gasUsed, head.gasLimit)})</span>
      </td>
      <td className="num" data-testid="head-base-fee">
        {head.baseFeePerGas === null ? DASH : formatGwei(head.baseFeePerGas)}
      </td>
      <td className="num" data-testid="head-tx-count">
        {head.txCount === null ? DASH : formatInteger(head.txCount)}
      </td>
    </tr>
  )
}

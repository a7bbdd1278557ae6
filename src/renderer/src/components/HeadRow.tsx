import type { Head } from '@shared/contract'
import { DASH, formatGasPercent, formatGwei, formatInteger, formatLocalTime, shortHash } from '../format'
import { RelativeTime } from './RelativeTime'

export function HeadRow({ head }: { head: Head }) {
  const timestampMs = head.timestamp * 1000
  return (
    <tr data-testid="head-row" data-number={head.number}>
      <td className="num" data-testid="head-number">
        {head.number}
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

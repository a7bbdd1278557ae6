import { DASH, formatGasPercent, formatGwei, formatInteger, formatLocalDateTime, formatSeconds, shortHash } from '../../ui/format'
import type { ChartDatum } from './chartData'

/** The HTML tooltip recharts shows for the hovered block. */
export function BlockTooltip({ active, datum }: { active: boolean | undefined; datum: ChartDatum | undefined }) {
  if (!active || !datum) return null
  const { head } = datum
  return (
    <div className="chart-tooltip" data-testid="chart-tooltip">
      <div className="chart-tooltip-title">
        Block {head.number}
        {datum.received > 1 && (
          <span className="tag tag-reorg" title={`${datum.received} different blocks were received at this height`}>
            reorg ×{datum.received}
          </span>
        )}
      </div>
      <dl>
        <dt>Hash</dt>
        <dd className="mono">{shortHash(head.hash)}</dd>
        <dt>Time</dt>
        <dd>{formatLocalDateTime(head.timestamp * 1000)}</dd>
        <dt>Block time</dt>
        <dd>{datum.blockTime === null ? DASH : formatSeconds(datum.blockTime)}</dd>
        <dt>Gas used</dt>
        <dd>
          {formatInteger(head.gasUsed)} ({formatGasPercent(head.gasUsed, head.gasLimit)})
        </dd>
        <dt>Base fee</dt>
        <dd>{head.baseFeePerGas === null ? DASH : `${formatGwei(head.baseFeePerGas)} gwei`}</dd>
        <dt>Transactions</dt>
        <dd>{head.txCount === null ? DASH : formatInteger(head.txCount)}</dd>
      </dl>
    </div>
  )
}

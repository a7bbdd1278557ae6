import type { HistoryProgress } from '@shared/contract'
import { formatInteger, formatRate, formatTimeLeft } from '../../ui/format'

/** A watch working through history: blocks done of total, rate and time left. */
export function HistoryBar({ history }: { history: HistoryProgress }) {
  const total = Math.max(0, history.toBlock - history.fromBlock + 1)
  const done = Math.min(total, Math.max(0, history.done))
  const percent = total === 0 ? 100 : (done / total) * 100
  const rate = history.blocksPerSecond !== null && history.blocksPerSecond > 0 ? formatRate(history.blocksPerSecond) : null
  const left = history.secondsLeft !== null ? formatTimeLeft(history.secondsLeft) : ''
  const range = `blocks ${formatInteger(history.fromBlock)} to ${formatInteger(history.toBlock)}`

  return (
    <div className="history" data-testid="subscription-history" data-done={done} data-total={total} title={`History: ${range}`}>
      <div
        className="history-track"
        role="progressbar"
        aria-label={`History, ${range}`}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={done}
        aria-valuetext={`${formatInteger(done)} of ${formatInteger(total)} blocks`}
      >
        <div className="history-fill" style={{ width: `${percent.toFixed(1)}%` }} />
      </div>
      <div className="history-text">
        <span data-testid="subscription-history-blocks">
          {formatInteger(done)} / {formatInteger(total)} blocks
        </span>
        {rate && (
          <>
            <span className="subtle">·</span>
            <span data-testid="subscription-history-rate">{rate}</span>
          </>
        )}
        {left && (
          <>
            <span className="subtle">·</span>
            <span data-testid="subscription-history-left">{left}</span>
          </>
        )}
      </div>
    </div>
  )
}

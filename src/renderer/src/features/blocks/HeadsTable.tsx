import { useMemo } from 'react'
import { useHeads } from './useHeads'
import { repeatedNumbers } from './chartData'
import { HeadRow } from './HeadRow'
import '../../panels.css'

const TABLE_LIMIT = 50

export const NO_BLOCKS_TEXT = "No blocks yet: add an endpoint on the left, or wait for the demo chain's first block."

/** The newest heads of the selected connection, newest first. */
export function HeadsTable({ connectionId }: { connectionId: number | null }) {
  const { heads, error } = useHeads(connectionId, TABLE_LIMIT)
  // A height received more than once was replaced by a reorg.
  const reorged = useMemo(() => repeatedNumbers(heads ?? []), [heads])

  return (
    <section className="panel heads-table-panel" data-testid="heads-table" aria-labelledby="heads-table-title">
      <div className="panel-header">
        <h2 id="heads-table-title">Latest blocks</h2>
        {heads && heads.length > 0 && <span className="panel-hint">last {heads.length}</span>}
      </div>
      {error && (
        <p className="panel-error" role="alert" data-testid="heads-error">
          Could not load blocks: {error}
        </p>
      )}
      <div className="table-scroll">
        {heads === null ? (
          <p className="muted-text">Loading blocks…</p>
        ) : heads.length === 0 ? (
          <p className="empty-text" data-testid="heads-empty">
            {NO_BLOCKS_TEXT}
          </p>
        ) : (
          <table className="heads">
            <thead>
              <tr>
                <th className="num" scope="col">
                  Block
                </th>
                <th scope="col">Hash</th>
                <th scope="col">Time</th>
                <th className="num" scope="col">
                  Gas used
                </th>
                <th className="num" scope="col">
                  Base fee (gwei)
                </th>
                <th className="num" scope="col">
                  Txs
                </th>
              </tr>
            </thead>
            <tbody>
              {heads.map((head) => (
                <HeadRow key={head.id} head={head} reorg={reorged.has(head.number)} />
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  )
}

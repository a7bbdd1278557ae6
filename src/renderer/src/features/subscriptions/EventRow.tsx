import { useState } from 'react'
import type { CapturedEvent } from '@shared/contract'
import { DASH, formatLocalDateTime, formatLocalTime, shortHash } from '../../ui/format'
import { EVENT_KIND_LABELS, eventHash, prettyPayload, transactionParties } from './subscriptionSummary'

const COLUMNS = 6

/** One captured event; click (or Enter) to show its raw payload underneath. */
export function EventRow({ event }: { event: CapturedEvent }) {
  const [expanded, setExpanded] = useState(false)
  const hash = eventHash(event)
  const parties = transactionParties(event)
  const topic0 = event.topics[0] ?? null
  const toggle = (): void => setExpanded((value) => !value)

  return (
    <>
      <tr
        className={`event-row${event.removed ? ' is-removed' : ''}${expanded ? ' is-expanded' : ''}`}
        data-testid="event-row"
        data-event-id={event.id}
        data-kind={event.kind}
        data-removed={event.removed ? 'true' : 'false'}
        data-irreversible={event.irreversible ? 'true' : 'false'}
        aria-expanded={expanded}
        tabIndex={0}
        title={expanded ? 'Hide the raw payload' : 'Show the raw payload'}
        onClick={toggle}
        onKeyDown={(keyEvent) => {
          if (keyEvent.key === 'Enter' || keyEvent.key === ' ') {
            keyEvent.preventDefault()
            toggle()
          }
        }}
      >
        <td className="event-kind-cell">
          <span className={`event-kind event-kind-${event.kind}`} data-testid="event-kind">
            {EVENT_KIND_LABELS[event.kind]}
          </span>
          {event.removed && (
            <span className="tag tag-removed" data-testid="event-removed" title="Removed by a chain reorganisation">
              removed
            </span>
          )}
          {event.irreversible && (
            <span
              className="tag tag-final"
              data-testid="event-irreversible"
              title="Final: the block is at or below the upstream’s finalized block and cannot be reorganised away"
            >
              final
            </span>
          )}
        </td>
        <td className="num struck" data-testid="event-block">
          {event.blockNumber === null ? DASH : event.blockNumber}
        </td>
        <td className="mono struck" title={hash ?? undefined} data-testid="event-hash">
          {hash ? shortHash(hash) : DASH}
        </td>
        <td className="mono struck" data-testid="event-address">
          {event.address ? (
            <span title={event.address}>{shortHash(event.address)}</span>
          ) : parties ? (
            <span title={`${parties.from} → ${parties.to ?? 'contract creation'}`}>
              {shortHash(parties.from)} → {parties.to ? shortHash(parties.to) : 'create'}
            </span>
          ) : (
            DASH
          )}
        </td>
        <td className="mono struck" title={topic0 ?? undefined} data-testid="event-topic0">
          {topic0 ? shortHash(topic0) : DASH}
        </td>
        <td className="time-cell" title={formatLocalDateTime(event.receivedAt)} data-testid="event-received">
          {formatLocalTime(event.receivedAt)}
        </td>
      </tr>
      {expanded && (
        <tr className="event-detail-row">
          <td colSpan={COLUMNS}>
            <div className="event-detail" data-testid="event-detail" data-event-id={event.id}>
              <pre className="mono">{prettyPayload(event.payload)}</pre>
            </div>
          </td>
        </tr>
      )}
    </>
  )
}

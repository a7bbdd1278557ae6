import { memo, type CSSProperties } from 'react'
import type { CapturedEvent } from '@shared/contract'
import { DASH, shortHash } from '../../ui/format'
import { useChain } from './useChains'
import { AddressLabel } from '../../ui/AddressLabel'
import { eventLabel, formatClock, formatDateTime, summarizeDecoded, summarizeOther, tokenAmountArg, type SummaryPart } from './liveLogFormat'
import { TokenAmount } from './TokenAmount'
import { EVENT_KIND_LABELS, eventHash, transactionParties } from '../subscriptions/subscriptionSummary'

/** Fixed, so the list can place any row without measuring it. */
export const LIVE_ROW_HEIGHT = 34

export function LiveLogSummary({ parts }: { parts: readonly SummaryPart[] }) {
  return (
    <>
      {parts.map((part, index) =>
        part.kind === 'address' ? (
          <AddressLabel key={index} address={part.address} />
        ) : part.kind === 'amount' ? (
          <TokenAmount key={index} connectionId={part.connectionId} token={part.token} raw={part.raw} />
        ) : part.kind === 'label' ? (
          <span key={index} className="live-args-label">
            {part.text}
          </span>
        ) : (
          <span key={index} className="live-args-value" title={part.title}>
            {part.text}
          </span>
        ),
      )}
    </>
  )
}

/** Emitting contract of a log; sender → recipient of a transaction. */
function RowAddress({ event }: { event: CapturedEvent }) {
  if (event.address) return <AddressLabel address={event.address} />
  const parties = transactionParties(event)
  if (!parties) return <span className="live-muted">{DASH}</span>
  return (
    <>
      <AddressLabel address={parties.from} />
      <span className="live-args-label">→</span>
      {parties.to ? <AddressLabel address={parties.to} /> : <span className="live-args-label">create</span>}
    </>
  )
}

interface RowProps {
  event: CapturedEvent
  /** Offset from the top of the list, in pixels. */
  start: number
  index: number
  selected: boolean
  /** Plain text only (no labels, no decoded arguments): while a jump through the list settles. */
  plain?: boolean
  onSelect(event: CapturedEvent): void
}

/**
 * One event in one line. Rows move whenever rows are added above them, so the positioned
 * element is cheap and its cells are memoised on the event alone.
 */
export function LiveLogRow({ event, start, index, selected, plain = false, onSelect }: RowProps) {
  const style: CSSProperties = { transform: `translateY(${start}px)`, height: LIVE_ROW_HEIGHT }
  return (
    <div
      className={`live-row${event.removed ? ' is-removed' : ''}${selected ? ' is-selected' : ''}`}
      role="row"
      aria-rowindex={index + 2}
      aria-selected={selected}
      style={style}
      data-testid="live-row"
      data-id={event.id}
      data-kind={event.kind}
      data-removed={event.removed ? 'true' : 'false'}
      data-irreversible={event.irreversible ? 'true' : 'false'}
      data-event={event.decoded?.event ?? ''}
      data-plain={plain ? 'true' : 'false'}
      onClick={() => onSelect(event)}
    >
      {plain ? <PlainCells event={event} /> : <LiveLogCells event={event} />}
    </div>
  )
}

const LiveLogCells = memo(function LiveLogCells({ event }: { event: CapturedEvent }) {
  const label = eventLabel(event)
  const hash = eventHash(event)
  const chain = useChain(event.connectionId)
  return (
    <>
      <span className="live-cell live-time" role="gridcell" title={formatDateTime(event.receivedAt)}>
        {formatClock(event.receivedAt)}
      </span>
      <span className="live-cell live-kind" role="gridcell">
        <span className={`event-kind event-kind-${event.kind}`}>{EVENT_KIND_LABELS[event.kind]}</span>
        {event.removed && (
          <span className="tag live-tag live-tag-removed" data-testid="live-row-removed" title="Removed by a chain reorganisation">
            removed
          </span>
        )}
        {event.irreversible && (
          <span className="tag live-tag live-tag-final" data-testid="live-row-final" title="Final: the block is at or below the upstream’s finalized block">
            final
          </span>
        )}
      </span>
      <span className="live-cell live-block live-struck" role="gridcell">
        {event.blockNumber ?? DASH}
      </span>
      <span className="live-cell live-event live-struck" role="gridcell" title={label.title}>
        {label.text || <span className="live-muted">{DASH}</span>}
      </span>
      <span className="live-cell live-address live-struck" role="gridcell">
        <RowAddress event={event} />
      </span>
      <span className="live-cell live-args live-struck" role="gridcell">
        {event.decoded ? (
          <LiveLogSummary parts={summarizeDecoded(event.decoded, tokenAmountArg(event))} />
        ) : (
          <span className="live-muted">{summarizeOther(event, chain?.nativeSymbol)}</span>
        )}
      </span>
      <span className="live-cell live-tx mono live-struck" role="gridcell" title={hash ?? undefined}>
        {hash ? shortHash(hash) : DASH}
      </span>
    </>
  )
})

/** The same columns as text nodes only: a fraction of the elements to lay out. */
const PlainCells = memo(function PlainCells({ event }: { event: CapturedEvent }) {
  const hash = eventHash(event)
  const address = event.address ?? transactionParties(event)?.from ?? null
  return (
    <>
      <span className="live-cell live-time" role="gridcell">
        {formatClock(event.receivedAt)}
      </span>
      <span className="live-cell live-kind" role="gridcell">
        {EVENT_KIND_LABELS[event.kind]}
      </span>
      <span className="live-cell live-block" role="gridcell">
        {event.blockNumber ?? DASH}
      </span>
      <span className="live-cell live-event" role="gridcell">
        {eventLabel(event).text || DASH}
      </span>
      <span className="live-cell live-address mono" role="gridcell">
        {address ? shortHash(address) : DASH}
      </span>
      <span className="live-cell live-args" role="gridcell" />
      <span className="live-cell live-tx mono" role="gridcell">
        {hash ? shortHash(hash) : DASH}
      </span>
    </>
  )
})

export function LiveLogHeaderRow() {
  return (
    <div className="live-row live-header-row" role="row" aria-rowindex={1}>
      <span className="live-cell" role="columnheader">
        Time
      </span>
      <span className="live-cell" role="columnheader">
        Kind
      </span>
      <span className="live-cell live-block" role="columnheader">
        Block
      </span>
      <span className="live-cell" role="columnheader">
        Event
      </span>
      <span className="live-cell" role="columnheader">
        Address
      </span>
      <span className="live-cell" role="columnheader">
        Arguments
      </span>
      <span className="live-cell" role="columnheader">
        Tx hash
      </span>
    </div>
  )
}

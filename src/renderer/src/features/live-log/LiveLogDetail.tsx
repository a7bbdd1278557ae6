import type { CapturedEvent, ChainInfo } from '@shared/contract'
import { DASH, chainName, formatLocalDateTime } from '../../ui/format'
import { useChain } from './useChains'
import { AddressLabel } from '../../ui/AddressLabel'
import { CopyButton } from '../../ui/CopyButton'
import { ExplorerLink } from './ExplorerLink'
import { amountRows, decodedArgs, isAddress, tokenAmountArg, valueText, type TokenAmountArg } from './liveLogFormat'
import { TokenAmount } from './TokenAmount'
import { EVENT_KIND_LABELS, eventHash, prettyPayload, transactionParties } from '../subscriptions/subscriptionSummary'

function FullAddress({ address, chain }: { address: string; chain: ChainInfo | null }) {
  return (
    <span className="live-detail-address">
      <AddressLabel address={address} />
      <span className="mono live-detail-full">{address}</span>
      <ExplorerLink chain={chain} target="address" value={address} />
    </span>
  )
}

function ArgValue({ name, value, chain, amount }: { name: string; value: unknown; chain: ChainInfo | null; amount: TokenAmountArg | null }) {
  if (amount && amount.name === name && typeof value === 'string') {
    return <TokenAmount connectionId={amount.connectionId} token={amount.token} raw={value} showRaw />
  }
  if (isAddress(value)) return <FullAddress address={value} chain={chain} />
  if (Array.isArray(value) && value.every(isAddress)) {
    return (
      <span className="live-detail-list">
        {value.map((address, index) => (
          <FullAddress key={index} address={address} chain={chain} />
        ))}
      </span>
    )
  }
  return <span className="mono live-detail-value">{valueText(value)}</span>
}

interface Props {
  event: CapturedEvent
  /** Still in the loaded window (else it scrolled out and was dropped). */
  loaded: boolean
  onClose(): void
}

/** Everything about one event: decoded arguments, where it came from, the raw JSON. */
export function LiveLogDetail({ event, loaded, onClose }: Props) {
  const hash = eventHash(event)
  const parties = transactionParties(event)
  const raw = prettyPayload(event.payload)
  const decoded = event.decoded
  const chain = useChain(event.connectionId)
  const amount = tokenAmountArg(event)
  const amounts = amountRows(event, chain?.nativeSymbol)

  return (
    <aside className="live-detail" data-testid="live-detail" data-id={event.id} aria-label={`Event ${event.id}`}>
      <div className="live-detail-header">
        <h3>
          {decoded?.event ?? EVENT_KIND_LABELS[event.kind]} <span className="live-muted">#{event.id}</span>
        </h3>
        {event.removed && <span className="tag tag-removed">removed</span>}
        {event.irreversible && <span className="tag tag-final">final</span>}
        <button type="button" className="button button-small live-detail-close" data-testid="live-detail-close" title="Close (Esc)" onClick={onClose}>
          Close
        </button>
      </div>
      <div className="live-detail-body">
        {!loaded && <p className="live-muted live-detail-note">This event is no longer in the loaded part of the list.</p>}
        <dl className="live-detail-meta">
          <dt>Kind</dt>
          <dd>{EVENT_KIND_LABELS[event.kind]}</dd>
          <dt>Received</dt>
          <dd>{formatLocalDateTime(event.receivedAt)}</dd>
          <dt>Chain</dt>
          <dd data-testid="live-detail-chain">{chain ? `${chainName(chain)} (${chain.chainId})` : DASH}</dd>
          <dt>Block</dt>
          <dd>
            {event.blockNumber ?? DASH}
            {event.blockNumber !== null && <ExplorerLink chain={chain} target="block" value={event.blockNumber} />}
            {event.blockHash && event.kind !== 'head' && (
              <span className="mono live-detail-full" title={event.blockHash}>
                {event.blockHash}
              </span>
            )}
          </dd>
          {event.logIndex !== null && (
            <>
              <dt>Log index</dt>
              <dd>{event.logIndex}</dd>
            </>
          )}
          <dt>{event.kind === 'head' ? 'Block hash' : 'Tx hash'}</dt>
          <dd className="live-detail-copyable">
            {hash ? <span className="mono live-detail-full">{hash}</span> : DASH}
            {hash && <CopyButton text={hash} testId="live-copy-tx" />}
            {hash && event.kind !== 'head' && <ExplorerLink chain={chain} target="tx" value={hash} />}
          </dd>
          {event.address && (
            <>
              <dt>Contract</dt>
              <dd className="live-detail-copyable">
                <FullAddress address={event.address} chain={chain} />
                <CopyButton text={event.address} testId="live-copy-address" />
              </dd>
            </>
          )}
          {parties && (
            <>
              <dt>From</dt>
              <dd className="live-detail-copyable">
                <FullAddress address={parties.from} chain={chain} />
                {!event.address && <CopyButton text={parties.from} testId="live-copy-address" />}
              </dd>
              <dt>To</dt>
              <dd className="live-detail-copyable">
                {parties.to ? <FullAddress address={parties.to} chain={chain} /> : <span className="live-muted">contract creation</span>}
                {parties.to && <CopyButton text={parties.to} testId="live-copy-to" />}
              </dd>
            </>
          )}
          {amounts.map((row) => (
            <div key={row.label} className="live-detail-amount" data-testid="live-detail-amount" data-label={row.label}>
              <dt>{row.label}</dt>
              <dd title={`raw ${row.raw}`}>
                <span className="live-detail-value">{row.text}</span> <span className="mono live-muted live-detail-raw-value">raw {row.raw}</span>
              </dd>
            </div>
          ))}
          <dt>Subscriptions</dt>
          <dd>{event.subscriptionIds.length > 0 ? event.subscriptionIds.map((id) => `#${id}`).join(', ') : DASH}</dd>
        </dl>

        {decoded ? (
          <section className="live-detail-section">
            <h4>
              Arguments{' '}
              <span className="live-muted mono" title={`ABI: ${decoded.source}`}>
                {decoded.signature}
              </span>
            </h4>
            <table className="live-detail-args" data-testid="live-detail-args">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Type</th>
                  <th scope="col">Value</th>
                </tr>
              </thead>
              <tbody>
                {decodedArgs(decoded).map((arg) => (
                  <tr key={arg.name} data-arg={arg.name}>
                    <td className="mono">{arg.name}</td>
                    <td className="mono live-muted">{arg.type ?? DASH}</td>
                    <td>
                      <ArgValue name={arg.name} value={arg.value} chain={chain} amount={amount} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p className="live-muted live-detail-note">Decoded with {decoded.source}.</p>
          </section>
        ) : (
          event.kind === 'log' && (
            <section className="live-detail-section">
              <h4>Topics</h4>
              <p className="live-muted live-detail-note" data-testid="live-detail-undecoded">
                Not decoded: no built-in or added ABI has this event. Add its ABI to see named arguments.
              </p>
              <ol className="live-detail-topics mono">
                {event.topics.map((topic, index) => (
                  <li key={index}>{topic}</li>
                ))}
              </ol>
            </section>
          )
        )}

        <section className="live-detail-section">
          <h4>
            Raw JSON <CopyButton text={raw} testId="live-copy-raw" label="Copy JSON" />
          </h4>
          <pre className="mono live-detail-raw" data-testid="live-detail-raw">
            {raw}
          </pre>
        </section>
      </div>
    </aside>
  )
}

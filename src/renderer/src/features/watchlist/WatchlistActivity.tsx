import { useEffect, useState } from 'react'
import { formatEther } from 'viem'
import type { CapturedEvent, CommandResponse, WatchlistEntry } from '@shared/contract'
import { DASH, formatInteger, formatLocalDateTime, shortHash } from '../../ui/format'
import { createThrottledQuery } from '../../hooks/throttledQuery'
import { useClient } from '../../hooks/useClient'
import { AddressLabel } from '../../ui/AddressLabel'
import { eventHash, transactionParties } from '../subscriptions/subscriptionSummary'
import { TokenAmount } from '../live-log/TokenAmount'
import '../../panels.css'

/** events.appended can come many times a second; the activity is re-read at most this often. */
const REFRESH_INTERVAL_MS = 1000
const ACTIVITY_LIMIT = 50

type Activity = CommandResponse<'watchlist.activity'>

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The transaction's value in wei, from a full transaction payload (or the `transaction` of a mined one). */
function transactionValue(event: CapturedEvent): bigint | null {
  const payload = event.payload
  const transaction = isRecord(payload) && isRecord(payload.transaction) ? payload.transaction : payload
  if (!isRecord(transaction)) return null
  const value = transaction.value
  if (typeof value !== 'string' && typeof value !== 'number') return null
  try {
    return BigInt(value)
  } catch {
    return null
  }
}

/** Wei as ETH for reading: up to 6 decimals, "<0.000001" for dust; the exact amount goes in the title. */
function formatEth(wei: bigint): string {
  if (wei === 0n) return '0'
  const exact = formatEther(wei)
  const [whole = '0', fraction = ''] = exact.split('.')
  const short = fraction.slice(0, 6).replace(/0+$/, '')
  if (whole === '0' && short === '') return '<0.000001'
  return `${formatInteger(whole)}${short ? `.${short}` : ''}`
}

interface Loaded {
  address: string
  activity: Activity | null
  error: string | null
}

/** Recent token transfers and captured transactions of one watched address; refreshed as events arrive. */
export function WatchlistActivity({ entry }: { entry: WatchlistEntry }) {
  const client = useClient()
  const address = entry.address.toLowerCase()
  const [loaded, setLoaded] = useState<Loaded>({ address: '', activity: null, error: null })

  useEffect(() => {
    let disposed = false
    const query = createThrottledQuery(async () => {
      const result = await client.call('watchlist.activity', { address, limit: ACTIVITY_LIMIT })
      if (disposed) return
      setLoaded((previous) =>
        result.ok
          ? { address, activity: result.value, error: null }
          : { address, activity: previous.address === address ? previous.activity : null, error: result.error.message },
      )
    }, REFRESH_INTERVAL_MS)
    query.schedule()
    const offAppended = client.on('events.appended', () => query.schedule())
    const offReconnect = client.onReconnect(() => query.schedule())
    return () => {
      disposed = true
      query.dispose()
      offAppended()
      offReconnect()
    }
  }, [client, address])

  const current = loaded.address === address ? loaded : null
  const activity = current?.activity ?? null

  return (
    <div className="watchlist-activity" data-testid="watchlist-activity" data-address={address}>
      <div className="watchlist-activity-title">
        <span className="address-dot" style={{ backgroundColor: entry.color }} aria-hidden="true" />
        Recent activity of <strong>{entry.label}</strong>
      </div>
      {current?.error && (
        <p className="panel-error" role="alert" data-testid="watchlist-activity-error">
          Could not load the activity: {current.error}
        </p>
      )}
      {current === null ? (
        <p className="muted-text">Loading activity…</p>
      ) : activity === null ? null : (
        <>
          <h3 className="watchlist-activity-heading">Token transfers</h3>
          {activity.transfers.length === 0 ? (
            <p className="field-hint watchlist-activity-empty" data-testid="watchlist-transfers-empty">
              No captured Transfer logs from or to this address yet (a logs subscription on the token captures them).
            </p>
          ) : (
            <div className="table-scroll watchlist-activity-scroll">
              <table className="heads watchlist-table" data-testid="watchlist-transfers">
                <thead>
                  <tr>
                    <th scope="col">Dir</th>
                    <th scope="col">Token</th>
                    <th scope="col">Counterparty</th>
                    <th className="num" scope="col">
                      Value
                    </th>
                    <th className="num" scope="col">
                      Block
                    </th>
                    <th scope="col">Tx</th>
                  </tr>
                </thead>
                <tbody>
                  {activity.transfers.map((transfer, index) => (
                    <tr
                      key={`${transfer.transactionHash}:${index}`}
                      className={transfer.removed ? 'is-removed' : undefined}
                      data-testid="watchlist-transfer"
                      data-direction={transfer.direction}
                      data-removed={transfer.removed ? 'true' : 'false'}
                      title={transfer.removed ? 'Removed by a chain reorganisation' : undefined}
                    >
                      <td>
                        <span
                          className={`watchlist-direction watchlist-direction-${transfer.direction}`}
                          data-testid="watchlist-transfer-direction"
                          title={transfer.direction === 'in' ? 'Received' : 'Sent'}
                        >
                          {transfer.direction === 'in' ? '↓ in' : '↑ out'}
                        </span>
                      </td>
                      <td className="struck">
                        <AddressLabel address={transfer.token} />
                      </td>
                      <td className="struck">
                        <span className="subtle">{transfer.direction === 'in' ? 'from ' : 'to '}</span>
                        <AddressLabel address={transfer.counterparty} />
                      </td>
                      {transfer.standard === 'erc20' ? (
                        <td className="num struck">
                          <TokenAmount connectionId={transfer.connectionId} token={transfer.token} raw={transfer.value} />
                        </td>
                      ) : (
                        <td className="num struck" title={`Token id ${transfer.value}`}>
                          #{formatInteger(transfer.value)}
                        </td>
                      )}
                      <td className="num struck">{transfer.blockNumber}</td>
                      <td className="mono struck" title={transfer.transactionHash}>
                        {shortHash(transfer.transactionHash)}
                        {transfer.removed && <span className="tag tag-removed">removed</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}

          <h3 className="watchlist-activity-heading">Transactions</h3>
          {activity.transactions.length === 0 ? (
            <p className="field-hint watchlist-activity-empty" data-testid="watchlist-transactions-empty">
              No captured transactions from or to this address yet (pending or mined transaction subscriptions capture them).
            </p>
          ) : (
            <div className="table-scroll watchlist-activity-scroll">
              <table className="heads watchlist-table" data-testid="watchlist-transactions">
                <thead>
                  <tr>
                    <th scope="col">State</th>
                    <th scope="col">From → to</th>
                    <th className="num" scope="col">
                      Value (ETH)
                    </th>
                    <th className="num" scope="col">
                      Block
                    </th>
                    <th scope="col">Tx</th>
                  </tr>
                </thead>
                <tbody>
                  {activity.transactions.map((event) => {
                    const parties = transactionParties(event)
                    const value = transactionValue(event)
                    const hash = eventHash(event)
                    const mined = event.kind === 'mined_transaction'
                    return (
                      <tr
                        key={event.id}
                        className={event.removed ? 'is-removed' : undefined}
                        data-testid="watchlist-transaction"
                        data-kind={event.kind}
                        data-removed={event.removed ? 'true' : 'false'}
                        title={`Captured ${formatLocalDateTime(event.receivedAt)}`}
                      >
                        <td>
                          <span className={`tag ${mined ? 'tag-mined' : 'tag-pending'}`}>{mined ? 'mined' : 'pending'}</span>
                          {event.removed && <span className="tag tag-removed">removed</span>}
                        </td>
                        <td className="struck">
                          {parties ? (
                            <>
                              <AddressLabel address={parties.from} /> →{' '}
                              {parties.to ? <AddressLabel address={parties.to} /> : <span className="subtle">contract creation</span>}
                            </>
                          ) : (
                            DASH
                          )}
                        </td>
                        <td className="num struck" title={value === null ? undefined : `${formatEther(value)} ETH`}>
                          {value === null ? DASH : formatEth(value)}
                        </td>
                        <td className="num struck">{event.blockNumber ?? DASH}</td>
                        <td className="mono struck" title={hash ?? undefined}>
                          {hash ? shortHash(hash) : DASH}
                        </td>
                      </tr>
                    )
                  })}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </div>
  )
}

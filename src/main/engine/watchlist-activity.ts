/**
 * What happened to a watched address: token transfers in and out (Transfer logs the chain
 * tracker stored with the address as indexed from or to) and captured transactions. The
 * tracker stores only logs some registered filter matches, so the watchlist registers its
 * own: Transfer with a watched address as topic 1 (from), and as topic 2 (to).
 */
import { pad, toEventSelector, parseAbiItem } from 'viem'
import type { Db } from '../store/database'
import type { LogFilter } from '../chain/watch-types'

const TRANSFER = toEventSelector(parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)')).toLowerCase()

export interface TransferActivity {
  connectionId: number
  /** ERC-20 (amount in data) or ERC-721 (token id as the fourth topic). */
  standard: 'erc20' | 'erc721'
  direction: 'in' | 'out'
  token: string
  counterparty: string
  value: string
  blockNumber: number
  transactionHash: string
  removed: boolean
}

/** The tracker filters that keep the watched addresses' Transfer logs (none for an empty watchlist). */
export function watchlistFilters(addresses: readonly string[]): LogFilter[] {
  if (addresses.length === 0) return []
  const topics = addresses.map((address) => pad(address as `0x${string}`).toLowerCase())
  return [{ topics: [[TRANSFER], topics] }, { topics: [[TRANSFER], null, topics] }]
}

export function transfersOf(db: Db, address: string, limit: number): TransferActivity[] {
  const topic = pad(address as `0x${string}`).toLowerCase()
  // topics is "topic0,topic1,topic2[,topic3]": topic1 starts at 68, topic2 at 135 (1-based).
  const rows = db
    .prepare(
      `SELECT connection_id, address, topics, data, block_number, tx_hash, canonical FROM chain_logs
       WHERE substr(topics, 1, 66) = @transfer AND (substr(topics, 68, 66) = @topic OR substr(topics, 135, 66) = @topic)
       ORDER BY block_number DESC, log_index DESC LIMIT @limit`,
    )
    .all({ transfer: TRANSFER, topic, limit }) as {
    connection_id: number
    address: string
    topics: string
    data: string
    block_number: number
    tx_hash: string
    canonical: number
  }[]
  return rows.map((row) => {
    const topics = row.topics.split(',')
    const from = topics[1]!
    const out = from === topic
    const counterpartyTopic = out ? topics[2]! : from
    // ERC-721 indexes the token id as topic 3; ERC-20 puts the amount in data.
    const raw = topics[3] ?? (row.data.length > 2 ? row.data.slice(0, 66) : '0x0')
    return {
      connectionId: row.connection_id,
      standard: topics[3] ? 'erc721' : 'erc20',
      direction: out ? 'out' : 'in',
      token: row.address,
      counterparty: `0x${counterpartyTopic.slice(26)}`,
      value: BigInt(raw).toString(),
      blockNumber: row.block_number,
      transactionHash: row.tx_hash,
      removed: row.canonical === 0,
    }
  })
}

/**
 * What happened to a watched address: token transfers in and out (Transfer logs the chain
 * tracker stored with the address as indexed from or to) and captured transactions. The
 * tracker stores only logs some registered filter matches, so the watchlist registers its
 * own: Transfer with a watched address as topic 1 (from), and as topic 2 (to).
 */
import { pad, toEventSelector, parseAbiItem } from 'viem'
import type { StoredLog } from '../store/chain-store'
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

/** The store's lookup of logs by topic0 and an indexed topic (EngineStore.logsByIndexedTopic). */
export type LogsByIndexedTopic = (topic0: string, topic: string, limit: number) => StoredLog[] | Promise<StoredLog[]>

export async function transfersOf(logsByIndexedTopic: LogsByIndexedTopic, address: string, limit: number): Promise<TransferActivity[]> {
  const topic = pad(address as `0x${string}`).toLowerCase()
  return (await logsByIndexedTopic(TRANSFER, topic, limit)).map((log) => {
    const from = log.topics[1]!
    const out = from === topic
    const counterpartyTopic = out ? log.topics[2]! : from
    // ERC-721 indexes the token id as topic 3; ERC-20 puts the amount in data.
    const raw = log.topics[3] ?? (log.data.length > 2 ? log.data.slice(0, 66) : '0x0')
    return {
      connectionId: log.connectionId,
      standard: log.topics[3] ? 'erc721' : 'erc20',
      direction: out ? 'out' : 'in',
      token: log.address,
      counterparty: `0x${counterpartyTopic.slice(26)}`,
      value: BigInt(raw).toString(),
      blockNumber: log.blockNumber,
      transactionHash: log.transactionHash,
      removed: !log.canonical,
    }
  })
}

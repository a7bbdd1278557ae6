// Types for mainnet-logs.mjs (plain JavaScript, shared with the flood server process).
export declare const POOL_SIZE: number
export declare const BLOCKS_PER_ROUND: number
export declare const LOGS_PER_BLOCK: number
export declare const PRE_FIRST_HASH: string
export declare const FIRST_BLOCK: number
export declare const FIRST_TIMESTAMP: number
export declare const TOPIC: Record<'transfer' | 'approval' | 'v2Swap' | 'v2Sync' | 'v3Swap' | 'deposit', string>

export interface LogTemplate {
  blockSlot: number
  txSlot: number
  transactionIndex: number
  logIndex: number
  address: string
  topics: string[]
  topicsJoined: string
  data: string
}

/** The column values Tidewatch stores for one log. */
export interface LogRow {
  blockNumber: number
  blockHash: string
  transactionHash: string
  transactionIndex: number
  logIndex: number
  address: string
  /** Topics joined with ',' as the events table keeps them. */
  topics: string
  data: string
}

export declare class MainnetLogs {
  readonly templates: LogTemplate[]
  readonly txSlots: number
  blockHashes: string[]
  txHashes: string[]
  rounds: number
  readonly blocks: number
  prepare(count: number): void
  row(seq: number): LogRow
  wire(subscriptionId: string): {
    logJson(seq: number): string
    logsOfBlock(k: number): string
    logsOfBlockBuffer(k: number): Buffer
    blockJson(k: number): string
    headJson(k: number): string
    notificationText(seq: number): string
    writeNotificationFrame(seq: number, buffer: Buffer, offset: number): number
  }
}

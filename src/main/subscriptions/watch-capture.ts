/**
 * Captures a logs or newHeads subscription as a watch over the chain tracker: exactly one
 * stored row per log or head of each canonical block from the watch's start, rows of
 * orphaned blocks marked removed, and a cursor (block number and hash) persisted with the
 * rows it covers. A restart resumes by that cursor as a /v1/stream client does: after it
 * while it is canonical, else after taking back the orphaned blocks down to the fork point.
 */
import { EventEmitter } from 'node:events'
import type { HistoryProgress, WatchOptions } from '../../shared/contract'
import type { SubscriptionSpec } from '../../shared/subscription-params'
import type { WatchHandle, WatchMessage, WatchProvider } from '../chain/watch-types'
import { toLogFilter } from '../chain/log-filter'
import type { NormalizedEvent } from '../store/captured-event'
import type { ChainLog } from '../store/chain-store'
import type { RunnerEvents, RunnerStatus } from './subscription-runner'

export interface WatchCaptureStore {
  /**
   * A delivered log: stored once, the subscription's row pointing at it. `stored`: chain_logs
   * holds it, and pruning cannot take it before this row is committed (not final).
   */
  insertLog(log: ChainLog, stored: boolean): void
  insert(event: NormalizedEvent): void
  remove(blockHash: string, logIndex: number | null): void
  cursor(number: number, hash: string): void
  resolvedStart(startBlock: number, head: number): void
  complete(): void
}

export interface WatchCaptureOptions {
  spec: Extract<SubscriptionSpec, { type: 'logs' | 'newHeads' }>
  watch: WatchOptions
  provider: WatchProvider
  store: WatchCaptureStore
  /** Saved state from an earlier run. */
  resume: { startBlock: number | null; cursor: { number: number; hash: string } | null; complete: boolean }
  log: (message: string) => void
}

export interface WatchCaptureStatus extends RunnerStatus {
  history: HistoryProgress | null
}

export class WatchCapture extends EventEmitter<RunnerEvents> {
  private handle: WatchHandle | null = null
  private running = false
  private status: WatchCaptureStatus = { state: 'paused', emulated: false, emulation: null, lastError: null, history: null }
  private historyStart: { at: number; block: number } | null = null
  private lastStatusAt = 0
  /** The saved cursor names a block the chain store no longer knows: resume after its number instead. */
  private cursorByNumber = false
  /** Where the watch starts and how far it got: from the saved state, then kept current for reopening after an error. */
  private startBlock: number | null
  private cursor: { number: number; hash: string } | null

  constructor(private readonly options: WatchCaptureOptions) {
    super()
    this.startBlock = options.resume.startBlock
    this.cursor = options.resume.cursor
  }

  getStatus(): WatchCaptureStatus {
    return { ...this.status }
  }

  start(): void {
    if (this.running || this.options.resume.complete) return
    this.running = true
    this.update({ state: 'pending' })
    void this.open()
  }

  async stop(): Promise<void> {
    this.running = false
    this.handle?.stop()
    this.handle = null
    this.update({ state: 'paused', history: null })
  }

  private async open(): Promise<void> {
    const { watch, spec, provider } = this.options
    let head: number
    let chainId: number
    try {
      ;[head, chainId] = await Promise.all([provider.latestBlock(), provider.chainId()])
    } catch (error) {
      this.update({ state: 'pending', lastError: `cannot read the head block: ${error instanceof Error ? error.message : String(error)}; retrying` })
      setTimeout(() => this.running && void this.open(), 3_000).unref()
      return
    }
    if (!this.running) return
    let startBlock = this.startBlock
    if (startBlock === null) {
      startBlock = watch.startBlock === undefined ? head + 1 : watch.startBlock < 0 ? Math.max(0, head + watch.startBlock) : watch.startBlock
      this.startBlock = startBlock
      this.options.store.resolvedStart(startBlock, head)
    }
    // Resume after the last block fully processed; the first run starts where asked.
    const cursor = this.cursor
    const byHash = cursor !== null && !this.cursorByNumber
    const from = cursor ? Math.max(startBlock, cursor.number + 1) : startBlock
    this.historyStart = from <= head ? { at: Date.now(), block: from } : null
    this.handle = provider.open(
      {
        kind: spec.type,
        filter: spec.type === 'logs' ? toLogFilter(spec.params) : {},
        startBlock: from,
        head,
        fetchSnapshot: spec.type === 'newHeads' && watch.fetch && watch.startBlock === undefined && !cursor,
        listen: watch.listen,
        irreversibleOnly: watch.irreversibleOnly,
        // Every block: the cursor advances (and is persisted) block by block; in history from
        // the upstream, at blocks with logs and range ends (no request per empty block).
        withProgress: 1,
        sparseHistoryProgress: true,
        chainId,
        ...(byHash ? { resume: { number: cursor.number, hash: cursor.hash } } : {}),
      },
      (message) => this.onMessage(message, from, head),
    )
    this.update({ state: 'active', lastError: null, history: this.historyProgress(from - 1, from, head) })
  }

  private onMessage(message: WatchMessage, from: number, head: number): void {
    const { store } = this.options
    switch (message.type) {
      case 'log':
        if (message.removed) store.remove(message.log.blockHash, message.log.logIndex)
        // A final log may be pruned before this row commits: it then goes with its own copy of the log.
        else store.insertLog(message.log, message.stored && !message.irreversible)
        return
      case 'head':
        if (message.data.removed) store.remove(message.data.block_hash, null)
        else store.insert(headEvent(message.data))
        return
      case 'progress': {
        store.cursor(message.data.block_number, message.data.block_hash)
        this.cursor = { number: message.data.block_number, hash: message.data.block_hash }
        this.cursorByNumber = false
        const inHistory = message.data.block_number <= head
        // The UI hears about history progress at most twice a second.
        if (inHistory && Date.now() - this.lastStatusAt > 500) this.update({ history: this.historyProgress(message.data.block_number, from, head) })
        return
      }
      case 'listening':
        this.update({ history: null })
        return
      case 'complete':
        store.complete()
        this.running = false
        this.update({ state: 'paused', history: null })
        return
      case 'error':
        if (message.data.code === 'invalid_cursor') this.cursorByNumber = true
        this.options.log(`watch failed: ${message.data.message}; restarting from the cursor${this.cursorByNumber ? ' by its block number' : ''}`)
        this.update({ state: 'pending', lastError: message.data.message })
        this.handle = null
        // The cursor was saved with the rows: reopening resumes exactly where it stopped.
        setTimeout(() => this.running && void this.open(), 3_000).unref()
        return
    }
  }

  private historyProgress(processed: number, from: number, head: number): HistoryProgress | null {
    if (!this.historyStart || processed >= head) return null
    const done = Math.max(0, processed - from + 1)
    const seconds = (Date.now() - this.historyStart.at) / 1000
    const rate = seconds > 0.5 && done > 0 ? done / seconds : null
    return { fromBlock: from, toBlock: head, done, blocksPerSecond: rate, secondsLeft: rate ? Math.round((head - processed) / rate) : null }
  }

  private update(patch: Partial<WatchCaptureStatus>): void {
    this.status = { ...this.status, ...patch }
    this.lastStatusAt = Date.now()
    this.emit('status', this.getStatus())
  }
}

function headEvent(data: Extract<WatchMessage, { type: 'head' }>['data']): NormalizedEvent {
  return {
    kind: 'head',
    blockNumber: data.block_number,
    blockHash: data.block_hash,
    transactionHash: null,
    transactionIndex: null,
    logIndex: null,
    address: null,
    topics: [],
    data: null,
    removed: false,
    payload: data.header,
  }
}

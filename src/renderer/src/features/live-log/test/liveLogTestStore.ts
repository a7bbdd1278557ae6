/** A fake event store answering events.search like the engine might, for the live log's tests. */
import type { CapturedEvent, CommandRequest, CommandResult } from '@shared/contract'

export function fakeEvent(id: number, patch: Partial<CapturedEvent> = {}): CapturedEvent {
  return {
    id,
    connectionId: 1,
    subscriptionIds: [1],
    kind: 'log',
    blockNumber: 1000 + Math.floor(id / 10),
    blockHash: null,
    transactionHash: `0x${id.toString(16).padStart(64, '0')}`,
    logIndex: id % 10,
    address: '0x00000000000000000000000000000000000000aa',
    topics: [],
    data: '0x',
    removed: false,
    irreversible: false,
    payload: { id },
    receivedAt: 1_700_000_000_000 + id,
    decoded: null,
    ...patch,
  }
}

export interface FakeStore {
  rows: CapturedEvent[]
  /** Ids of the rows that match `matches`, newest first, within [from, to]. */
  matchingIds(from: number, to: number): number[]
  add(count: number): { lastId: number; count: number }
  search(request: CommandRequest<'events.search'>): Promise<CommandResult<'events.search'>>
  requests: Array<CommandRequest<'events.search'>>
}

export interface FakeStoreOptions {
  /** Ids a request reads before its time runs out (Infinity: every one it needs). */
  readPerRequest?: number
  /** How long a request takes to answer (ms); 0: at once. */
  delayMs?: number
}

/**
 * Answers events.search as contract.ts says: afterId pages forward from just above it; a
 * page reads at most `readPerRequest` ids, and says where it stopped in `next`.
 */
export function createFakeStore(initial: number, matches: (event: CapturedEvent) => boolean = () => true, options: FakeStoreOptions = {}): FakeStore {
  const read = options.readPerRequest ?? Number.POSITIVE_INFINITY
  const delayMs = options.delayMs ?? 0
  const rows: CapturedEvent[] = []
  let nextId = 1
  const requests: Array<CommandRequest<'events.search'>> = []
  /** Matching rows with ids in [from, to), oldest first. */
  const between = (from: number, to: number): CapturedEvent[] => rows.filter((row) => row.id >= from && row.id < to && matches(row))
  const store: FakeStore = {
    rows,
    requests,
    matchingIds(from, to) {
      return between(from, to + 1)
        .map((row) => row.id)
        .reverse()
    },
    add(count) {
      for (let index = 0; index < count; index += 1) rows.push(fakeEvent(nextId++))
      return { lastId: nextId - 1, count }
    },
    async search(request) {
      requests.push(request)
      const newest = nextId - 1
      await (delayMs > 0 ? new Promise((resolve) => setTimeout(resolve, delayMs)) : Promise.resolve())
      const limit = request.limit ?? 100
      const end = Math.min(request.beforeId ?? nextId, nextId)
      if (request.afterId !== undefined) {
        const stop = Math.min(end, request.afterId + 1 + read)
        const found = between(request.afterId + 1, stop).slice(0, limit)
        const next = found.length === limit ? found.at(-1)!.id : stop >= end ? null : stop - 1
        return { ok: true, value: { events: found.reverse(), next, newest } }
      }
      const lo = Math.max(1, end - read)
      const found = between(lo, end).reverse().slice(0, limit)
      const next = found.length === limit ? found.at(-1)!.id : lo <= 1 ? null : lo
      return { ok: true, value: { events: found, next, newest } }
    },
  }
  store.add(initial)
  return store
}

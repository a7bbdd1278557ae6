/** A fake event store answering events.list like the engine might, for the live log's tests. */
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
  list(request: CommandRequest<'events.list'>): Promise<CommandResult<'events.list'>>
  requests: Array<CommandRequest<'events.list'>>
}

/** Answers events.list as contract.ts says: afterId pages forward from just above it. */
export function createFakeStore(initial: number, matches: (event: CapturedEvent) => boolean = () => true): FakeStore {
  const rows: CapturedEvent[] = []
  let nextId = 1
  const requests: Array<CommandRequest<'events.list'>> = []
  const store: FakeStore = {
    rows,
    requests,
    matchingIds(from, to) {
      return rows
        .filter((row) => row.id >= from && row.id <= to && matches(row))
        .map((row) => row.id)
        .reverse()
    },
    add(count) {
      for (let index = 0; index < count; index += 1) rows.push(fakeEvent(nextId++))
      return { lastId: nextId - 1, count }
    },
    async list(request) {
      requests.push(request)
      await Promise.resolve()
      const limit = request.limit ?? 100
      const afterId = request.afterId
      const inRange = rows.filter(
        (row) => matches(row) && (afterId === undefined || row.id > afterId) && (request.beforeId === undefined || row.id < request.beforeId),
      )
      const page = afterId !== undefined ? inRange.slice(0, limit).reverse() : inRange.slice(-limit).reverse()
      return { ok: true, value: page }
    },
  }
  store.add(initial)
  return store
}

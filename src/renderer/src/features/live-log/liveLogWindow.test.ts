import { describe, expect, it } from 'vitest'
import { createFakeStore, fakeEvent } from './test/liveLogTestStore'
import {
  EMPTY_WINDOW,
  appendOlder,
  capWindow,
  collectNewer,
  connectedRows,
  farEnd,
  mergeRows,
  newestId,
  oldestId,
  prependNewer,
  windowFromNewest,
  type FetchPage,
  type LiveWindow,
} from './liveLogWindow'

const ids = (rows: ReadonlyArray<{ id: number }>): number[] => rows.map((row) => row.id)
const range = (from: number, to: number): number[] => Array.from({ length: from - to + 1 }, (_, index) => from - index)
const pageOf = (list: number[], next: number | null) => ({ events: list.map((id) => fakeEvent(id)), next, newest: Math.max(0, ...list) })
const windowOf = (newest: number, oldest: number, patch: Partial<LiveWindow> = {}): LiveWindow => ({
  rows: range(newest, oldest).map((id) => fakeEvent(id)),
  older: oldest,
  atHead: true,
  ...patch,
})

describe('mergeRows', () => {
  it('sorts newest first and keeps each id once, the later copy winning', () => {
    const stale = fakeEvent(5)
    const fresh = fakeEvent(5, { irreversible: true })
    const merged = mergeRows([fakeEvent(3), stale, fakeEvent(9)], [fresh, fakeEvent(7)])
    expect(ids(merged)).toEqual([9, 7, 5, 3])
    expect(merged.find((row) => row.id === 5)?.irreversible).toBe(true)
  })
})

describe('windowFromNewest', () => {
  it('pages older rows from where the page says it goes on', () => {
    expect(windowFromNewest(pageOf([2, 1], 1))).toMatchObject({ older: 1, atHead: true })
    expect(windowFromNewest(pageOf([1], null)).older).toBeNull()
    // A page whose time ran out below its rows goes on from there.
    expect(windowFromNewest(pageOf([900], 400)).older).toBe(400)
    expect(ids(windowFromNewest(pageOf([1, 2], null)).rows)).toEqual([2, 1])
  })
})

describe('appendOlder', () => {
  it('adds the page below the window, dropping rows it already has', () => {
    const next = appendOlder(windowOf(10, 6), pageOf([6, 5, 4], 4), 6)
    expect(ids(next!.rows)).toEqual(range(10, 4))
    expect(next!.older).toBe(4)
  })

  it('stops paging where the page says nothing older matches', () => {
    expect(appendOlder(windowOf(10, 6), pageOf([5], null), 6)!.older).toBeNull()
  })

  it('goes on below a page that ran out of time, empty or not', () => {
    const empty = appendOlder(windowOf(10, 6), pageOf([], 3), 6)!
    expect(ids(empty.rows)).toEqual(range(10, 6))
    expect(empty.older).toBe(3)
    const some = appendOlder(empty, pageOf([2], 1), 3)!
    expect(ids(some.rows)).toEqual([...range(10, 6), 2])
    expect(some.older).toBe(1)
  })

  it('ignores an answer for a cursor the window has moved past', () => {
    expect(appendOlder(windowOf(10, 5), pageOf([5], null), 6)).toBeNull()
  })

  it('stops when a page does not go below its cursor (an engine ignoring beforeId)', () => {
    const next = appendOlder(windowOf(10, 6), pageOf([10, 9, 8], 8), 6)
    expect(ids(next!.rows)).toEqual(range(10, 6))
    expect(next!.older).toBeNull()
  })
})

describe('prependNewer', () => {
  it('puts newer rows on top exactly once', () => {
    const { window, added } = prependNewer(windowOf(10, 6), [fakeEvent(12), fakeEvent(10), fakeEvent(11), fakeEvent(9)], true)
    expect(ids(window.rows)).toEqual(range(12, 6))
    expect(added).toBe(2)
    expect(window.atHead).toBe(true)
  })

  it('starts an empty window', () => {
    const { window, added } = prependNewer(EMPTY_WINDOW, [fakeEvent(1), fakeEvent(2)], true)
    expect(ids(window.rows)).toEqual([2, 1])
    expect(added).toBe(2)
  })

  it('records that the window stops short of the newest rows', () => {
    expect(prependNewer(windowOf(10, 6), [fakeEvent(11)], false).window.atHead).toBe(false)
  })
})

describe('capWindow', () => {
  it('drops the oldest rows, which can be paged in again', () => {
    const { window, droppedFromTop } = capWindow(windowOf(10, 1, { older: null }), 4, 'oldest')
    expect(ids(window.rows)).toEqual([10, 9, 8, 7])
    expect(window).toMatchObject({ older: 7, atHead: true })
    expect(droppedFromTop).toBe(0)
  })

  it('drops the newest rows and leaves the head', () => {
    const { window, droppedFromTop } = capWindow(windowOf(10, 1), 4, 'newest')
    expect(ids(window.rows)).toEqual([4, 3, 2, 1])
    expect(window.atHead).toBe(false)
    expect(droppedFromTop).toBe(6)
  })

  it('leaves a window within the cap alone', () => {
    const original = windowOf(4, 1)
    expect(capWindow(original, 4, 'newest')).toEqual({ window: original, droppedFromTop: 0 })
  })

  it('picks the end away from the rows on screen', () => {
    expect(farEnd({ first: 0, last: 20 }, 5000)).toBe('oldest')
    expect(farEnd({ first: 4900, last: 4920 }, 5000)).toBe('newest')
  })
})

function fetcherOf(store: ReturnType<typeof createFakeStore>): FetchPage {
  return async (request) => {
    const result = await store.search(request)
    if (!result.ok) throw new Error(result.error.message)
    return result.value
  }
}

describe('collectNewer', () => {
  const options = { pageSize: 50, maxRows: 5000, maxRequests: 100 }

  it('finds a few new rows in one request', async () => {
    const store = createFakeStore(1000)
    store.add(20)
    const collected = await collectNewer(fetcherOf(store), 1000, options)
    expect(ids(collected.rows)).toEqual(range(1020, 1001))
    expect(collected.gaps).toEqual([])
  })

  it('finds every row of a burst many pages long, each once', async () => {
    const store = createFakeStore(1000)
    store.add(437)
    const collected = await collectNewer(fetcherOf(store), 1000, options)
    expect(ids(collected.rows)).toEqual(range(1437, 1001))
    expect(collected.gaps).toEqual([])
  })

  it('finds filtered rows whose ids are not consecutive', async () => {
    const store = createFakeStore(300, (event) => event.id % 3 === 0)
    store.add(400)
    const collected = await collectNewer(fetcherOf(store), 300, options)
    expect(ids(collected.rows)).toEqual(store.matchingIds(301, 700))
    expect(collected.gaps).toEqual([])
  })

  it('finds nothing when nothing is newer', async () => {
    const store = createFakeStore(100)
    const collected = await collectNewer(fetcherOf(store), 100, options)
    expect(collected).toEqual({ rows: [], gaps: [] })
  })
})

describe('collectNewer through pages that run out of time', () => {
  it('goes on from where each page stopped, finding every row once', async () => {
    const store = createFakeStore(100, (event) => event.id % 97 === 0, { readPerRequest: 150 })
    store.add(2000)
    const collected = await collectNewer(fetcherOf(store), 100, { pageSize: 5, maxRows: 5000, maxRequests: 100 })
    expect(ids(collected.rows)).toEqual(store.matchingIds(101, 2100))
    expect(collected.gaps).toEqual([])
    expect(store.requests.length).toBeGreaterThan(10)
  })

  it('leaves the gap above where it got to when maxRequests stops it', async () => {
    const store = createFakeStore(0, (event) => event.id % 50 === 0, { readPerRequest: 100 })
    store.add(1000)
    const collected = await collectNewer(fetcherOf(store), 0, { pageSize: 10, maxRows: 5000, maxRequests: 3 })
    expect(collected.gaps).toEqual([{ afterId: 300, beforeId: null }])
    expect(ids(connectedRows(collected))).toEqual([300, 250, 200, 150, 100, 50])
  })
})

describe('collectNewer with a budget', () => {
  it('returns rows joined to the start, and the one gap above them, when maxRows stops it', async () => {
    const store = createFakeStore(100)
    store.add(1000)
    const collected = await collectNewer(fetcherOf(store), 100, { pageSize: 50, maxRows: 120, maxRequests: 100 })
    expect(collected.gaps).toHaveLength(1)
    const joined = connectedRows(collected)
    expect(joined.length).toBeGreaterThanOrEqual(120)
    expect(ids(joined)).toEqual(range(100 + joined.length, 101))
  })

  it('stops after maxRequests', async () => {
    const store = createFakeStore(0)
    store.add(1000)
    await collectNewer(fetcherOf(store), 0, { pageSize: 10, maxRows: 5000, maxRequests: 7 })
    expect(store.requests.length).toBe(7)
  })
})

describe('window round trip', () => {
  it('pages, prepends and caps without losing or repeating a row', () => {
    let window = windowFromNewest(pageOf(range(1000, 801), 801))
    window = appendOlder(window, pageOf(range(800, 601), 601), window.older!)!
    window = prependNewer(
      window,
      range(1100, 990).map((id) => fakeEvent(id)),
      true,
    ).window
    window = capWindow(window, 300, 'oldest').window
    expect(ids(window.rows)).toEqual(range(1100, 801))
    expect(newestId(window)).toBe(1100)
    expect(window.older).toBe(oldestId(window))
  })
})

import { describe, expect, it } from 'vitest'
import { createLiveFeed, type LiveFeed } from './liveLogFeed'
import { createFakeStore, type FakeStore } from './test/liveLogTestStore'

async function until(what: string, condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const started = Date.now()
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

const idsOf = (feed: LiveFeed): number[] => feed.getSnapshot().window.rows.map((row) => row.id)

/** The rows are the matching events between the first and the last shown: none missing, none twice. */
function expectContiguous(feed: LiveFeed, store: FakeStore): void {
  const ids = idsOf(feed)
  expect(ids.length).toBeGreaterThan(0)
  expect(ids).toEqual(store.matchingIds(ids[ids.length - 1]!, ids[0]!))
}

function startFeed(store: FakeStore, options: { cap?: number; paused?: boolean } = {}): LiveFeed {
  const feed = createLiveFeed({
    search: (request) => store.search(request),
    query: { connectionId: 1 },
    intervalMs: 5,
    countIntervalMs: 5,
    ...options,
  })
  feed.start()
  return feed
}

const announce = (feed: LiveFeed, store: FakeStore, count: number): void => {
  feed.appended({ connectionId: 1, ...store.add(count) })
}

describe('live feed', () => {
  it('loads the newest page, then joins new rows on top as they are announced', async () => {
    const store = createFakeStore(1000)
    const feed = startFeed(store)
    await until('first page', () => feed.getSnapshot().status === 'ready')
    expect(idsOf(feed)[0]).toBe(1000)
    expect(idsOf(feed)).toHaveLength(200)
    expect(feed.getSnapshot().window.older).toBe(801)

    for (let batch = 0; batch < 10; batch += 1) announce(feed, store, 137)
    await until('all new rows', () => idsOf(feed)[0] === 2370)
    expectContiguous(feed, store)
    expect(idsOf(feed)).toHaveLength(1570)
    feed.dispose()
  })

  it('holds the rows still while paused, counts arrivals, and resume adds exactly them', async () => {
    const store = createFakeStore(500)
    const feed = startFeed(store)
    await until('first page', () => feed.getSnapshot().status === 'ready')
    feed.setPaused(true)
    const before = idsOf(feed)

    for (let batch = 0; batch < 6; batch += 1) announce(feed, store, 111)
    await until('the count', () => feed.getSnapshot().newCount === 666)
    expect(idsOf(feed)).toEqual(before)

    feed.setPaused(false)
    await until('resumed rows', () => idsOf(feed)[0] === 1166)
    expectContiguous(feed, store)
    expect(idsOf(feed).slice(666)).toEqual(before)
    expect(feed.getSnapshot().newCount).toBe(0)
    feed.dispose()
  })

  it('counts as new, when pausing, the rows announced before it that were not joined yet', async () => {
    const store = createFakeStore(500)
    // A catch-up interval longer than the test: the announced rows are never joined before the pause.
    const feed = createLiveFeed({ search: (request) => store.search(request), query: { connectionId: 1 }, intervalMs: 60_000, countIntervalMs: 5 })
    feed.start()
    await until('first page', () => feed.getSnapshot().status === 'ready')
    announce(feed, store, 1500)
    feed.setPaused(true)
    announce(feed, store, 300)
    // More than COUNT_LIMIT: the counter is the announced count, and it includes the 1500.
    await until('the count', () => feed.getSnapshot().newCount === 1800)
    expect(idsOf(feed)[0]).toBe(500)
    feed.dispose()
  })

  it('resumes after more arrivals than the window holds by starting again from the newest rows', async () => {
    const store = createFakeStore(300)
    const feed = startFeed(store, { cap: 400 })
    await until('first page', () => feed.getSnapshot().status === 'ready')
    feed.setPaused(true)
    announce(feed, store, 2000)
    feed.setPaused(false)
    await until('newest rows', () => idsOf(feed)[0] === 2300)
    expect(feed.getSnapshot().resets).toBe(2)
    expectContiguous(feed, store)

    // Scrolling down continues through what arrived, then what was there before.
    for (let page = 0; page < 3; page += 1) {
      const length = idsOf(feed).length
      feed.setViewport({ first: length - 20, last: length - 1, atTop: false })
      const oldest = idsOf(feed).at(-1)
      feed.requestOlder()
      await until('older page', () => idsOf(feed).at(-1) !== oldest)
    }
    expectContiguous(feed, store)
    feed.dispose()
  })

  it('keeps the place of a person reading below the top when more arrive than the window holds', async () => {
    const store = createFakeStore(300)
    const feed = startFeed(store, { cap: 400 })
    await until('first page', () => feed.getSnapshot().status === 'ready')
    feed.setViewport({ first: 100, last: 120, atTop: false })
    // More than the window holds, fewer than a catch-up collects (twice the window).
    announce(feed, store, 600)
    await until('the window to leave the newest rows', () => !feed.getSnapshot().window.atHead)
    const snapshot = feed.getSnapshot()
    // No jump to the newest rows: the window was not replaced, and the rows read are still there.
    expect(snapshot.resets).toBe(1)
    expect(idsOf(feed)).toContain(200)
    expectContiguous(feed, store)
    expect(snapshot.newCount).toBe(900 - idsOf(feed)[0]!)

    // Scrolling back up pages the newer rows in, up to the newest.
    for (let step = 0; step < 20 && !feed.getSnapshot().window.atHead; step += 1) {
      feed.setViewport({ first: 0, last: 19, atTop: true })
      const newest = idsOf(feed)[0]
      feed.requestNewer()
      await until('newer page', () => idsOf(feed)[0] !== newest || feed.getSnapshot().window.atHead)
    }
    expect(idsOf(feed)[0]).toBe(900)
    expectContiguous(feed, store)
    feed.dispose()
  })

  it('keeps the window bounded, drops the end away from the screen, and pages it back', async () => {
    const store = createFakeStore(3000)
    const feed = startFeed(store, { cap: 500 })
    await until('first page', () => feed.getSnapshot().status === 'ready')

    // Scrolled deep: older pages come in, the newest rows go.
    for (let page = 0; page < 4; page += 1) {
      const length = idsOf(feed).length
      feed.setViewport({ first: length - 20, last: length - 1, atTop: false })
      const oldest = idsOf(feed).at(-1)
      feed.requestOlder()
      await until('older page', () => idsOf(feed).at(-1) !== oldest)
    }
    const deep = feed.getSnapshot()
    expect(deep.window.rows).toHaveLength(500)
    expect(deep.window.atHead).toBe(false)
    expect(deep.topShift).toBe(-500)
    expectContiguous(feed, store)

    // Arrivals meanwhile are only counted.
    announce(feed, store, 50)
    await until('count', () => feed.getSnapshot().newCount === 50)

    // Back up: newer pages join on top until the newest row.
    for (let step = 0; step < 20 && !feed.getSnapshot().window.atHead; step += 1) {
      feed.setViewport({ first: 0, last: 19, atTop: true })
      const newest = idsOf(feed)[0]
      feed.requestNewer()
      await until('newer page', () => idsOf(feed)[0] !== newest || feed.getSnapshot().window.atHead)
    }
    expect(idsOf(feed)[0]).toBe(3050)
    expect(idsOf(feed).length).toBeLessThanOrEqual(500)
    expect(feed.getSnapshot().newCount).toBe(0)
    expectContiguous(feed, store)
    feed.dispose()
  })
})

describe('live feed with filters', () => {
  it('counts only matching arrivals while paused', async () => {
    const store = createFakeStore(100, (event) => event.id % 5 === 0)
    const feed = createLiveFeed({
      search: (request) => store.search(request),
      query: { connectionId: 1, eventName: 'Transfer' },
      intervalMs: 5,
      countIntervalMs: 5,
    })
    feed.start()
    await until('first page', () => feed.getSnapshot().status === 'ready')
    feed.setPaused(true)
    announce(feed, store, 100)
    await until('exact count', () => feed.getSnapshot().newCount === 20)
    expect(store.requests.every((request) => request.eventName === 'Transfer')).toBe(true)
    feed.setPaused(false)
    await until('resumed', () => idsOf(feed)[0] === 200)
    expectContiguous(feed, store)
    feed.dispose()
  })

  it('shows an error and keeps the rows when a request fails', async () => {
    const store = createFakeStore(10)
    let fail = false
    const feed = createLiveFeed({
      search: (request) => (fail ? Promise.resolve({ ok: false, error: { code: 'internal', message: 'store is busy' } }) : store.search(request)),
      query: {},
      intervalMs: 5,
    })
    feed.start()
    await until('first page', () => feed.getSnapshot().status === 'ready')
    fail = true
    announce(feed, store, 5)
    await until('error', () => feed.getSnapshot().error === 'store is busy')
    expect(idsOf(feed)).toHaveLength(10)
    fail = false
    announce(feed, store, 5)
    await until('recovered', () => feed.getSnapshot().error === null && idsOf(feed)[0] === 20)
    expectContiguous(feed, store)
    feed.dispose()
  })
})

describe('live feed searching', () => {
  it('goes on searching below a first page that ran out of time, showing rows as they are found', async () => {
    // A rare match in 6,000 events, 250 ids read a request: the first page finds nothing.
    const store = createFakeStore(6000, (event) => event.id % 1000 === 7, { readPerRequest: 250 })
    const feed = createLiveFeed({ search: (request) => store.search(request), query: { text: 'rare' }, intervalMs: 5 })
    const seen: Array<{ rows: number; searched: number | null }> = []
    feed.subscribe(() => seen.push({ rows: feed.getSnapshot().window.rows.length, searched: feed.getSnapshot().searched }))
    feed.start()
    await until(
      'the search to end',
      () => feed.getSnapshot().status === 'ready' && !feed.getSnapshot().loadingOlder && feed.getSnapshot().window.older === null,
    )
    expect(idsOf(feed)).toEqual([5007, 4007, 3007, 2007, 1007, 7])
    // Every id read once: 24 requests of 250 ids, each going on below the last.
    expect(store.requests).toHaveLength(24)
    expect(store.requests.slice(1).map((request) => request.beforeId)).toEqual(Array.from({ length: 23 }, (_, i) => 5751 - 250 * i))
    // Rows appeared while it searched, with the share read growing to the end.
    const shares = seen.map((s) => s.searched).filter((share): share is number => share !== null)
    expect(shares.length).toBeGreaterThan(10)
    expect(shares).toEqual([...shares].sort((a, b) => a - b))
    expect(seen.some((s) => s.rows > 0 && s.rows < 6 && s.searched !== null)).toBe(true)
    expect(feed.getSnapshot().searched).toBeNull()
    feed.dispose()
  })

  it('keeps searching while events arrive, without starting over, and joins the new matches on top', async () => {
    // Nothing announced before the first page: it says itself how far up it read (`newest`).
    const store = createFakeStore(6000, (event) => event.id % 1000 === 7, { readPerRequest: 100, delayMs: 3 })
    const feed = createLiveFeed({ search: (request) => store.search(request), query: { text: 'rare' }, intervalMs: 5 })
    feed.start()
    await until('the first page', () => feed.getSnapshot().status === 'ready')
    expect(idsOf(feed)).toEqual([])
    // Arrivals while the window is still empty, the search going on below.
    for (let batch = 0; batch < 5; batch += 1) {
      announce(feed, store, 400)
      await until('the arrivals read', () => store.requests.some((request) => request.afterId !== undefined && request.afterId >= 5_999 + 400 * batch))
    }
    await until('the search to end', () => !feed.getSnapshot().loadingOlder && feed.getSnapshot().window.older === null)
    await until('the new match', () => idsOf(feed)[0] === 7007)
    expect(idsOf(feed)).toEqual([7007, 6007, 5007, 4007, 3007, 2007, 1007, 7])
    // One first page: the arrivals were read above it, not by starting the search again.
    expect(store.requests.filter((request) => request.beforeId === undefined && request.afterId === undefined)).toHaveLength(1)
    expectContiguous(feed, store)
    feed.dispose()
  })

  it('stops searching at a page of rows, and goes on when asked for older ones', async () => {
    const store = createFakeStore(3000, (event) => event.id % 10 === 0, { readPerRequest: 400 })
    const feed = createLiveFeed({ search: (request) => store.search(request), query: { text: 'x' }, pageSize: 50, intervalMs: 5 })
    feed.start()
    await until('a page of rows', () => idsOf(feed).length >= 50 && !feed.getSnapshot().loadingOlder)
    expect(idsOf(feed)).toEqual(store.matchingIds(2501, 3000))
    expect(feed.getSnapshot().window.older).toBe(2510)
    feed.requestOlder()
    await until('the next page', () => idsOf(feed).length >= 100 && !feed.getSnapshot().loadingOlder)
    expect(idsOf(feed)).toEqual(store.matchingIds(2010, 3000))
    feed.dispose()
  })

  it('joins new rows through catch-up pages that run out of time, and counts by the announcements while paused', async () => {
    const store = createFakeStore(500, (event) => event.id % 7 === 0, { readPerRequest: 120 })
    const feed = createLiveFeed({ search: (request) => store.search(request), query: { text: 'x' }, pageSize: 20, intervalMs: 5, countIntervalMs: 5 })
    feed.start()
    await until('a page of rows', () => idsOf(feed).length >= 20 && !feed.getSnapshot().loadingOlder)
    announce(feed, store, 1000)
    await until('the new rows', () => idsOf(feed)[0] === 1498)
    expectContiguous(feed, store)
    feed.setPaused(true)
    announce(feed, store, 1000)
    // The counting page reads 120 ids of the 1,000: the announced count stands. It counts from
    // 1500, the last id the catch-up read (1499 and 1500 match nothing), not from the newest row.
    await until('the count', () => feed.getSnapshot().newCount === 1000)
    expect(store.requests.at(-1)).toMatchObject({ afterId: 1500, limit: 1000 })
    feed.dispose()
  })
})

describe('live feed with nothing to show', () => {
  it('asks once per announcement while its filters match nothing', async () => {
    const store = createFakeStore(50, () => false)
    const feed = createLiveFeed({ search: (request) => store.search(request), query: { text: 'nothing' }, intervalMs: 5 })
    feed.start()
    await until('first page', () => feed.getSnapshot().status === 'ready')
    announce(feed, store, 10)
    await new Promise((resolve) => setTimeout(resolve, 100))
    // The first page and one reload for the announcement; no loop.
    expect(store.requests).toHaveLength(2)
    expect(feed.getSnapshot().window.rows).toEqual([])
    feed.dispose()
  })
})

describe('live feed and reorgs', () => {
  it('turns the shown rows of orphaned blocks removed in place, without a new request', async () => {
    const store = createFakeStore(300)
    for (const row of store.rows) row.blockHash = row.id > 290 ? '0xorphaned' : '0xcanonical'
    const feed = startFeed(store)
    await until('first page', () => feed.getSnapshot().status === 'ready')
    const requests = store.requests.length
    const before = feed.getSnapshot()
    feed.retracted(['0xorphaned', '0xunrelated'])
    const rows = feed.getSnapshot().window.rows
    expect(rows.filter((row) => row.removed).map((row) => row.id)).toEqual([300, 299, 298, 297, 296, 295, 294, 293, 292, 291])
    expect(rows.filter((row) => !row.removed).every((row) => row.blockHash === '0xcanonical')).toBe(true)
    expect(idsOf(feed)).toEqual(before.window.rows.map((row) => row.id))
    // Nothing of it shown: the snapshot stays the same object, so nothing re-renders.
    const after = feed.getSnapshot()
    feed.retracted(['0xunrelated'])
    expect(feed.getSnapshot()).toBe(after)
    expect(store.requests).toHaveLength(requests)
    feed.dispose()
  })
})

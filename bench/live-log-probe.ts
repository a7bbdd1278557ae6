/**
 * What the live-log benchmark runs inside the page. `installLiveLogProbe` is handed to
 * Playwright's addInitScript, which sends its source text to the page: it must not use
 * anything from this module's scope, only the page's globals.
 *
 * From install on, a requestAnimationFrame loop and a PerformanceObserver for 'longtask'
 * run; between begin() and end() they record one phase: the gap between consecutive
 * frames, every long task, and every 15th frame the live-log rows in the DOM, the newest
 * row id shown and the JS heap in use.
 */

export interface ProbeSample {
  /** Date.now(), to line the sample up with the store's notifications in the bench process. */
  at: number
  /** Row elements of the live log in the DOM. */
  rows: number
  /** data-id of the first row element (the newest shown while at the top); null when none. */
  topId: number | null
  /** performance.memory.usedJSHeapSize (Chromium only); null elsewhere. */
  heapBytes: number | null
}

export interface PhaseRecord {
  startedAt: number
  endedAt: number
  /** Milliseconds between consecutive animation frames. */
  frameGaps: number[]
  longTasks: { startTime: number; duration: number }[]
  samples: ProbeSample[]
}

export interface JumpResult {
  steps: number
  /** The oldest row id seen in the DOM during the scroll. */
  deepestId: number | null
  /** The most rows the live log held (its loaded-count) during the scroll. */
  maxLoaded: number
}

export interface LiveLogProbe {
  begin(): void
  end(): PhaseRecord
  /**
   * Scrolls the live log for `durationMs`, one scrollTop jump every `stepMs`: three of
   * four to the end of the loaded rows (which makes the view page older rows in), the
   * fourth to a pseudo-random position among them (every row on screen is new).
   */
  jump(durationMs: number, stepMs: number): Promise<JumpResult>
  /** data-id of every live-log row element, in DOM order. */
  rowIds(): number[]
}

declare global {
  interface Window {
    __liveLogProbe?: LiveLogProbe
  }
}

export function installLiveLogProbe(): void {
  const ROW = '[data-testid="live-row"]'
  let phase: PhaseRecord | null = null
  let lastFrame = 0
  let frames = 0

  const heapBytes = (): number | null => (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null
  const rowIds = (): number[] => Array.from(document.querySelectorAll(ROW), (row) => Number(row.getAttribute('data-id')))
  const sample = (): ProbeSample => {
    const rows = document.querySelectorAll(ROW)
    const top = rows[0]?.getAttribute('data-id')
    return { at: Date.now(), rows: rows.length, topId: top ? Number(top) : null, heapBytes: heapBytes() }
  }

  const onFrame = (now: number): void => {
    if (phase) {
      // The first frame of a phase has no predecessor in it.
      if (lastFrame > 0) phase.frameGaps.push(now - lastFrame)
      if (++frames % 15 === 0) phase.samples.push(sample())
      lastFrame = now
    }
    requestAnimationFrame(onFrame)
  }
  requestAnimationFrame(onFrame)

  const collect = (entries: PerformanceEntryList): void => {
    if (!phase) return
    for (const entry of entries)
      if (entry.startTime >= phase.startedAt - performance.timeOrigin) phase.longTasks.push({ startTime: entry.startTime, duration: entry.duration })
  }
  const observer = new PerformanceObserver((list) => collect(list.getEntries()))
  observer.observe({ type: 'longtask' })

  window.__liveLogProbe = {
    begin() {
      phase = { startedAt: Date.now(), endedAt: 0, frameGaps: [], longTasks: [], samples: [sample()] }
      lastFrame = 0
      frames = 0
    },
    end() {
      // Long tasks are reported after they end, asynchronously: take what is pending.
      collect(observer.takeRecords())
      const done = phase!
      done.samples.push(sample())
      done.endedAt = Date.now()
      phase = null
      return done
    },
    jump(durationMs, stepMs) {
      const list = document.querySelector<HTMLElement>('[data-testid="live-list"]')!
      const loaded = document.querySelector('[data-testid="live-loaded-count"]')
      // splitmix32, fixed seed: the same positions every run.
      let seed = 0x5eed
      const random = (): number => {
        seed = (seed + 0x9e3779b9) >>> 0
        let z = seed
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
        return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32
      }
      const result: JumpResult = { steps: 0, deepestId: null, maxLoaded: 0 }
      return new Promise((resolve) => {
        const until = performance.now() + durationMs
        const timer = setInterval(() => {
          const ids = rowIds()
          const last = ids[ids.length - 1]
          if (last !== undefined && (result.deepestId === null || last < result.deepestId)) result.deepestId = last
          result.maxLoaded = Math.max(result.maxLoaded, Number(loaded?.getAttribute('data-count') ?? 0))
          if (performance.now() >= until) {
            clearInterval(timer)
            resolve(result)
            return
          }
          const bottom = list.scrollHeight - list.clientHeight
          list.scrollTop = result.steps % 4 === 3 ? Math.floor(random() * bottom) : bottom
          result.steps += 1
        }, stepMs)
      })
    },
    rowIds,
  }
}

/**
 * Runs a query at most once per interval however often it is asked for: a request while one
 * is in flight marks it dirty, and the query runs once more after it (never concurrently).
 */
export interface ThrottledQuery {
  /** Run as soon as the interval allows. */
  schedule(): void
  dispose(): void
}

export function createThrottledQuery(run: () => Promise<void>, intervalMs: number): ThrottledQuery {
  let disposed = false
  let inFlight = false
  let dirty = false
  let lastStartedAt = -Infinity
  let timer: ReturnType<typeof setTimeout> | undefined

  const fire = async (): Promise<void> => {
    timer = undefined
    if (disposed) return
    if (inFlight) {
      dirty = true
      return
    }
    inFlight = true
    dirty = false
    lastStartedAt = performance.now()
    try {
      await run()
    } finally {
      inFlight = false
    }
    if (dirty) schedule()
  }

  const schedule = (): void => {
    if (disposed || timer !== undefined) return
    if (inFlight) {
      dirty = true
      return
    }
    const wait = Math.max(0, lastStartedAt + intervalMs - performance.now())
    timer = setTimeout(() => void fire(), wait)
  }

  return {
    schedule,
    dispose() {
      disposed = true
      clearTimeout(timer)
      timer = undefined
    },
  }
}

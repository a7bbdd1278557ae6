/** Exponential backoff with full jitter, so many clients do not reconnect in lockstep. */
export interface BackoffOptions {
  initialMs?: number
  maxMs?: number
  random?: () => number
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 500
  const max = options.maxMs ?? 30_000
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 20))
  const random = options.random ?? Math.random
  // Never less than half the ceiling: a zero delay would hammer a failing endpoint.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

/**
 * Logs what a peer gets wrong once per distinct problem, not once per frame: an upstream
 * that sends the same malformed payload a thousand times a second must not flood the log
 * (or the disk under it). A problem seen again is logged again only after `quietMs`, with
 * how many repeats were held back; at most `maxLinesPerWindow` lines (default 100) go out
 * per window in all, so a peer that varies its garbage cannot flood the log either.
 */

export interface ProblemLogOptions {
  quietMs?: number
  maxLinesPerWindow?: number
  now?: () => number
}

/** Peer-supplied numbers, hex strings and quoted text make messages differ; the problem is the same. */
export function problemKey(message: string): string {
  return message
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/0x[0-9a-fA-F]+/g, '0x…')
    .replace(/\d+/g, 'N')
}

export class ProblemLog {
  private readonly seen = new Map<string, { loggedAt: number; held: number }>()
  private windowStart = 0
  private linesInWindow = 0
  private heldByCap = 0
  private readonly quietMs: number
  private readonly maxLines: number
  private readonly now: () => number

  constructor(
    private readonly log: (message: string) => void,
    options: ProblemLogOptions = {},
  ) {
    this.quietMs = options.quietMs ?? 60_000
    this.maxLines = options.maxLinesPerWindow ?? 100
    this.now = options.now ?? Date.now
  }

  /** Logs the message unless the same problem was logged within the quiet period; true when it was logged. */
  report(message: string, key = problemKey(message)): boolean {
    const now = this.now()
    const entry = this.seen.get(key)
    if (entry && now - entry.loggedAt < this.quietMs) {
      entry.held += 1
      return false
    }
    if (now - this.windowStart >= this.quietMs) {
      if (this.heldByCap > 0) this.log(`${this.heldByCap} more upstream problems were not logged in the last ${Math.round(this.quietMs / 1000)} s`)
      this.windowStart = now
      this.linesInWindow = 0
      this.heldByCap = 0
    }
    if (this.linesInWindow >= this.maxLines) {
      this.heldByCap += 1
      return false
    }
    this.linesInWindow += 1
    this.log(entry && entry.held > 0 ? `${message} (repeated ${entry.held} times since it was last logged)` : message)
    // Bounded: the oldest problems are forgotten first.
    this.seen.delete(key)
    if (this.seen.size >= 1_000) this.seen.delete(this.seen.keys().next().value!)
    this.seen.set(key, { loggedAt: now, held: 0 })
    return true
  }
}

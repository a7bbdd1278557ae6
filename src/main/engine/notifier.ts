/**
 * Desktop notifications for subscriptions and watched addresses the person marked: at most
 * one per source every `minIntervalMs`, summarising what arrived meanwhile, so a busy
 * contract cannot flood the desktop.
 */
export interface Notification {
  title: string
  body: string
  subscriptionId: number | null
}

export class Notifier {
  private readonly lastSent = new Map<string, number>()
  private readonly pending = new Map<string, { count: number; title: string; latest: string; subscriptionId: number | null }>()
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly send: (notification: Notification) => void,
    private readonly minIntervalMs = 10_000,
  ) {}

  /** Something happened for `source` (e.g. "subscription:3", "address:0x..."). */
  note(source: string, title: string, latest: string, count: number, subscriptionId: number | null): void {
    const entry = this.pending.get(source) ?? { count: 0, title, latest, subscriptionId }
    entry.count += count
    entry.latest = latest
    this.pending.set(source, entry)
    this.flushDue()
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private flushDue(): void {
    const now = Date.now()
    let wait = Infinity
    for (const [source, entry] of this.pending) {
      const due = (this.lastSent.get(source) ?? 0) + this.minIntervalMs
      if (due > now) {
        wait = Math.min(wait, due - now)
        continue
      }
      this.pending.delete(source)
      this.lastSent.set(source, now)
      this.send({
        title: entry.title,
        body: entry.count > 1 ? `${entry.count} new events · latest: ${entry.latest}` : entry.latest,
        subscriptionId: entry.subscriptionId,
      })
    }
    if (wait !== Infinity && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null
        this.flushDue()
      }, wait).unref()
    }
  }
}

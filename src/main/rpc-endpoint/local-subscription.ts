/**
 * One `eth_subscribe` of one /v1/rpc socket. Results can arrive before the client has its
 * subscription id (a provider sends the first notification right behind its answer, the
 * syncing emulator reports at once, a batch answers only when all of it is done), so they
 * wait here until the answer carrying the id has been sent.
 */
import type { Membership } from './shared-subscriptions'

/** Results held while the answer is outstanding; past this the oldest go, as upstream pending feeds do under load. */
const MAX_HELD_RESULTS = 10_000

export class LocalSubscription {
  private held: unknown[] | null = []
  private membership: Membership | null = null
  private closed = false

  constructor(
    readonly id: string,
    private readonly send: (result: unknown) => void,
  ) {}

  attach(membership: Membership): void {
    if (this.closed) membership.release()
    else this.membership = membership
  }

  deliver(result: unknown): void {
    if (this.closed) return
    if (!this.held) {
      this.send(result)
      return
    }
    this.held.push(result)
    if (this.held.length > MAX_HELD_RESULTS) this.held.shift()
  }

  /** The answer with the id is out: what waited goes now, in order, and later results go straight through. */
  answered(): void {
    const held = this.held
    this.held = null
    if (this.closed || !held) return
    for (const result of held) this.send(result)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.held = null
    this.membership?.release()
    this.membership = null
  }
}

/**
 * A logs watch's messages as a client applies them (chain tests against the scripted
 * provider): add each log, delete it on `removed: true`, fail on a log delivered twice or a
 * removal of one never delivered; and the provider's canonical logs to compare with.
 */
import { expect } from 'vitest'
import type { WatchMessage, WatchRequest } from '../../src/main/chain/watch-types'
import type { FakeProvider } from './fake-provider'

/** The address the chain tests' watches follow. */
export const WATCHED = '0x8320fe7702b96808f7bbc0d4a888ed1468216cfd'

/** A listening logs watch of WATCHED, progress every block. */
export const watchRequest = (overrides: Partial<WatchRequest>): WatchRequest => ({
  kind: 'logs',
  filter: { address: [WATCHED] },
  startBlock: 1,
  head: 1,
  fetchSnapshot: false,
  listen: true,
  irreversibleOnly: false,
  withProgress: 1,
  chainId: 1,
  ...overrides,
})

export type LogMessage = Extract<WatchMessage, { type: 'log' }>
export const logsOf = (messages: WatchMessage[]): LogMessage[] => messages.filter((m): m is LogMessage => m.type === 'log')
const key = (m: LogMessage) => `${m.log.blockHash}:${m.log.logIndex}`

/** What a client holds after applying every message in order (after `held`, what it held before). */
export function replay(messages: WatchMessage[], held = new Map<string, LogMessage>()): Map<string, LogMessage> {
  for (const m of logsOf(messages)) {
    if (m.removed) {
      expect(held.has(key(m)), `removal of ${key(m)} that was never delivered`).toBe(true)
      held.delete(key(m))
    } else {
      expect(held.has(key(m)), `${key(m)} delivered twice`).toBe(false)
      held.set(key(m), m)
    }
  }
  return held
}

/** The provider's canonical logs of WATCHED in blocks [from, to], as raw objects. */
export const canonicalLogs = (p: FakeProvider, from: number, to: number): Record<string, unknown>[] =>
  p.chain.slice(from, to + 1).flatMap((e) => e.logs.filter((l) => l.address === WATCHED))

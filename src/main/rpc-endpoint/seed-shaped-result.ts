/**
 * Subscription results as the seed (shared/seeds/003) shows them. Native results pass
 * through unchanged; only the syncing emulator needs reshaping, because it delivers raw
 * `eth_syncing` answers.
 */
import type { SubscriptionType } from '../../shared/subscription-params'
import { syncingData } from '../stream/session-messages'

/**
 * While syncing, `eth_syncing` answers a status object with hex quantities; the seed's
 * subscription payload is `{ syncing: true, status: {...} }` with decimal numbers.
 * `false` (not syncing) stays `false`: that is what a geth-style node sends on its syncing
 * subscription when syncing ends, and the seed describes the result as a boolean then.
 */
export function seedShapedResult(type: SubscriptionType, raw: unknown, emulated: boolean): unknown {
  if (type !== 'syncing' || !emulated || typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw
  return syncingData(raw)
}

/**
 * What the demo connection comes with, so the first minute shows the whole product and not
 * only heads: a logs subscription for the demo token's Transfers (with history, so rows are
 * there at once) and the demo sender in the watchlist. Made once per demo connection and
 * remembered in settings: whatever the person removes stays removed. A user's endpoint
 * never gets any of it.
 */
import { z } from 'zod'
import { parseAbiItem, toEventSelector, type Address } from 'viem'
import { subscriptionSpecSchema } from '../../shared/subscription-params'
import type { Engine } from '../engine/engine'
import type { SettingsStoreApi } from '../store/engine-store'

export const DEMO_TRANSFERS_LABEL = 'Demo token transfers'
export const DEMO_SENDER_LABEL = 'Demo sender'
/** Blocks of history: on a fresh demo chain that is all of it (the deployment and the first transfers). */
export const DEMO_HISTORY_BLOCKS = 50
const DEMO_SENDER_COLOR = '#f59e0b'
const TRANSFER = toEventSelector(parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)'))

/** Settings key: the demo connection the starter set was made for. */
export const DEMO_STARTER_SETTING = 'demoStarter'
const starterSettingSchema = z.object({ connectionId: z.number().int() }).nullable()

export interface DemoStarterTarget {
  connectionId: number
  tokenAddress: Address
  /** The dev account that deployed the token and sends transfers every block. */
  senderAddress: Address
}

/** Adds the starter set unless this demo connection already had it; says whether it did. */
export function addDemoStarter(engine: Pick<Engine, 'subscriptions' | 'watchlist'>, settings: SettingsStoreApi, target: DemoStarterTarget): boolean {
  const done = settings.get(DEMO_STARTER_SETTING, starterSettingSchema, null)
  if (done?.connectionId === target.connectionId) return false
  engine.subscriptions.create({
    connectionId: target.connectionId,
    label: DEMO_TRANSFERS_LABEL,
    spec: subscriptionSpecSchema.parse({ type: 'logs', params: { address: target.tokenAddress, topics: [TRANSFER] } }),
    watch: { startBlock: -DEMO_HISTORY_BLOCKS, fetch: false, listen: true, irreversibleOnly: false },
  })
  engine.watchlist.upsert({ address: target.senderAddress.toLowerCase(), label: DEMO_SENDER_LABEL, color: DEMO_SENDER_COLOR, notify: false })
  settings.set(DEMO_STARTER_SETTING, { connectionId: target.connectionId })
  return true
}

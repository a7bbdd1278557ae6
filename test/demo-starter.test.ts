/**
 * The demo connection's starter set (a Transfer subscription with history, the demo sender
 * on the watchlist) is made once per demo connection: a restart does not add it again, and
 * what the person removed stays removed.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startTidewatch } from '../src/main/app/bootstrap'
import { DEMO_SENDER_LABEL, DEMO_TRANSFERS_LABEL } from '../src/main/demo/demo-starter'
import { createKeyFileSecretBox } from '../src/main/store/secret-box'
import { waitFor } from './helpers/scripted-server'

const TRANSFER = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-demo-starter-'))
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

const start = () =>
  startTidewatch({ dataDir, secrets: createKeyFileSecretBox(dataDir), transport: 'websocket', demo: 'always', demoBlockTime: 1, log: () => undefined })

describe('the demo starter set', () => {
  it('comes with a new demo connection, rows at once, and never comes back once removed', async () => {
    const first = await start()
    const id = first.primaryConnectionId()!
    const [subscription, ...others] = first.engine.subscriptions.list(id)
    expect(others).toEqual([])
    expect(subscription).toMatchObject({
      label: DEMO_TRANSFERS_LABEL,
      type: 'logs',
      params: { address: first.demo!.tokenAddress.toLowerCase(), topics: [TRANSFER] },
      watch: { startBlock: -50, listen: true },
    })
    expect(first.engine.watchlist.list()).toMatchObject([{ address: first.demo!.accounts[0]!.toLowerCase(), label: DEMO_SENDER_LABEL }])
    // History: the token's mint and first transfers are in blocks mined before the connection existed.
    await waitFor(
      'the history of the demo token',
      async () =>
        (await first.engine.events.list({ subscriptionId: subscription!.id, limit: 100 })).some((e) => e.blockNumber! <= Number(first.demo!.deployBlockNumber)),
      30_000,
    )
    const decoded = await first.engine.events.list({ subscriptionId: subscription!.id, limit: 100 })
    expect(decoded.every((e) => e.decoded?.event === 'Transfer')).toBe(true)
    await waitFor(
      'the sender’s transfers on the watchlist',
      async () => (await first.engine.watchlist.activity(first.demo!.accounts[0]!.toLowerCase(), 10)).transfers.length > 0,
      30_000,
    )

    // The person removes both, then restarts: the demo chain is new, the starter set is not.
    await first.engine.subscriptions.remove(subscription!.id)
    first.engine.watchlist.remove(first.demo!.accounts[0]!.toLowerCase())
    await first.close()
    const second = await start()
    expect(second.primaryConnectionId()).toBe(id)
    expect(second.engine.subscriptions.list(id)).toEqual([])
    expect(second.engine.watchlist.list()).toEqual([])
    await second.close()
  })
})

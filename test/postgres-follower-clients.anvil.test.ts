/**
 * Issue 13, item 3: a `serve` instance that follows a shared PostgreSQL store serves its
 * /v1/stream and /v1/rpc clients from what the capturer stores, through LISTEN/NOTIFY: it
 * holds no upstream subscription of its own, and its clients' filter is fetched by the
 * capturer (which runs no subscription of its own here, so nothing else would fetch those
 * logs). The chain reorganizes; the capturer is killed with SIGKILL and the follower takes
 * over. Both clients stay connected throughout, never asked to come back: the stream client
 * sees exactly eth_getLogs, the eth_subscribe client every canonical log, with each orphaned
 * one taken back (removed: true), nothing twice.
 */
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import type { ServeProcess } from './helpers/headless-process'
import { postgresSkipReason } from './helpers/postgres-test-database'
import { RpcTestClient } from './helpers/rpc-client'
import { waitFor } from './helpers/scripted-server'
import { logKeys, SharedStoreRun } from './helpers/shared-store-run'
import { logView, StreamClient } from './helpers/stream-client'
import { UiSocketClient } from './helpers/ui-socket-client'

let run: SharedStoreRun | undefined
afterAll(() => run?.close())

interface WireLog {
  blockHash: string
  blockNumber: string
  logIndex: string
  removed?: boolean
}

/** eth_subscribe logs results applied in order: added, then taken back by removed: true; fails on a log twice or a removal of one never sent. */
function subscriptionView(results: WireLog[]): Map<string, WireLog> {
  const view = new Map<string, WireLog>()
  for (const log of results) {
    const key = `${log.blockHash}:${Number(log.logIndex)}`
    if (log.removed) {
      if (!view.delete(key)) throw new Error(`removed ${key} was never delivered`)
    } else {
      if (view.has(key)) throw new Error(`${key} delivered twice`)
      view.set(key, log)
    }
  }
  return view
}

describe.skipIf(postgresSkipReason !== undefined)('a serve instance following a shared PostgreSQL store', () => {
  it(
    'serves /v1/stream and /v1/rpc from the capturer’s stored chain, and keeps both clients through reorgs and its own takeover',
    { timeout: 180_000 },
    async () => {
      run = await SharedStoreRun.start()
      const { token } = run
      const rpc = run.rpc.bind(run)
      const head = () => run!.head()
      const admin = new pg.Client({ connectionString: run.database.url })
      await admin.connect()
      run.onClose(() => admin.end())
      // Instances sharing a store share the key that seals endpoint URLs.
      const dataDirs = run.dataDirs(['capturer', 'follower'])
      const args = ['--store', run.database.url, '--rpc', run.anvil.wsUrl]
      const capturing = (serve: ServeProcess): boolean => /this instance captures it now/.test(serve.output())

      const capturer = await run.serve(args, dataDirs[0]!)
      await waitFor('the first instance captures', () => capturing(capturer), 20_000)
      const follower = await run.serve(args, dataDirs[1]!)
      const ui = await UiSocketClient.connect(follower.baseUrl, follower.token)
      const status = async () => (await ui.call('connections.list', {}))[0]!.status
      await waitFor('the second instance follows', async () => (await status()).capturing === 'elsewhere', 20_000)
      expect(capturing(follower)).toBe(false)
      expect((await ui.call('subscriptions.list', {})).length).toBe(0)

      // Its clients: a /v1/stream logs request from a few blocks back, and an eth_subscribe of the same logs.
      const stream = await StreamClient.connect(follower.baseUrl, follower.token)
      const from = (await head()) - 2
      stream.send({ type: 'logs', req_id: 'r', listen: true, with_progress: 1, start_block: from, data: { address: token } })
      const rpcUrl = new URL('/v1/rpc', follower.baseUrl.replace(/^http/, 'ws'))
      rpcUrl.searchParams.set('token', follower.token)
      const subscriber = await RpcTestClient.connect(rpcUrl.toString())
      const subscription = await subscriber.subscribe('logs', { address: token })
      await stream.until('live blocks on the follower', (m) => m.filter((x) => x.type === 'progress').length >= 4, 40_000)
      await subscriber.untilResults(subscription, 2, 30_000)

      // Through the store: the follower holds no upstream subscription, and its clients' filter is registered for the capturer.
      const following = await status()
      expect(following.upstreamSubscriptions).toBe(0)
      // Its head is the stored chain's.
      expect(following.headNumber).toBeGreaterThan(from)
      expect(following.headTimestamp).toBeGreaterThan(0)
      const filters = await admin.query<{ filter_json: string; active: boolean }>('SELECT filter_json, active FROM stream_filters')
      expect(filters.rows.length).toBeGreaterThanOrEqual(1)
      expect(filters.rows.every((row) => row.active && (JSON.parse(row.filter_json) as { address: string[] }).address[0] === token)).toBe(true)

      const reorg = (depth: number) => rpc('anvil_reorg', [depth, []])
      await run.untilReorgFits(3)
      await reorg(3)
      await stream.until('the reorg taken back on the stream', (m) => m.some((x) => x.type === 'log' && x.data.removed === true), 30_000)

      // The capturer is killed; the follower captures, and its clients go on without coming back.
      const killedAt = Date.now()
      expect(await capturer.kill('SIGKILL')).toBeNull()
      await waitFor('the follower captures', () => capturing(follower), 10_000)
      console.log(`[follower clients] the capturer was killed; the follower captured after ${Date.now() - killedAt} ms`)
      await reorg(2)
      // A few blocks on, and as many more as it takes the traffic (slower under load) to put a few logs in the range.
      let end = (await head()) + 4
      const logsUpTo = async (to: number) =>
        (await rpc<unknown[]>('eth_getLogs', [{ address: token, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${to.toString(16)}` }])).length
      await waitFor(
        'a few logs in the range',
        async () => {
          const now = await head()
          if (now < end) return false
          if ((await logsUpTo(end)) > 3) return true
          end = now + 1
          return false
        },
        60_000,
      )
      await stream.until('the stream past the end', (m) => m.some((x) => x.type === 'progress' && Number(x.data.block_number) >= end + 1), 60_000)
      await waitFor(
        'the subscription past the end',
        () => (subscriber.results(subscription) as WireLog[]).some((log) => Number(log.blockNumber) > end && !log.removed),
        60_000,
      )
      expect((await status()).capturing).toBe('here')

      const messages = stream.of('r')
      expect(messages.filter((m) => m.type === 'error')).toEqual([])
      const streamed = messages.filter((m) => m.type !== 'log' || Number(m.data.block_number) <= end)
      const expected = await rpc<{ blockHash: string; logIndex: string }[]>('eth_getLogs', [
        { address: token, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${end.toString(16)}` },
      ])
      expect(expected.length).toBeGreaterThan(3)
      expect([...logView(streamed).keys()].sort()).toEqual(logKeys(expected))

      const results = (subscriber.results(subscription) as WireLog[]).filter((log) => Number(log.blockNumber) <= end)
      const view = subscriptionView(results)
      const firstBlock = Math.min(...[...view.values()].map((log) => Number(log.blockNumber)))
      const expectedSubscribed = await rpc<{ blockHash: string; logIndex: string }[]>('eth_getLogs', [
        { address: token, fromBlock: `0x${firstBlock.toString(16)}`, toBlock: `0x${end.toString(16)}` },
      ])
      expect([...view.keys()].sort()).toEqual(logKeys(expectedSubscribed))
      expect(results.some((log) => log.removed)).toBe(true)
      stream.close()
      subscriber.close()
      ui.close()
    },
  )
})

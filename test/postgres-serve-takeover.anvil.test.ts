/**
 * Issue 13, item 4, with `tidewatch serve --store` processes as people run them: two
 * instances capture a logs subscription on one PostgreSQL store from a real anvil behind a
 * fault proxy that cuts their upstream connections at random; the chain reorganizes; the
 * capturing instance is killed with SIGKILL mid-run and the other takes over. A /v1/stream
 * client on a third instance (following, capturing nothing) disconnects mid-run and resumes
 * by cursor. Afterwards what that client holds and the rows stored for the subscription are
 * both exactly eth_getLogs: nothing missed, nothing twice, nothing orphaned kept.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { startFaultProxy } from './helpers/fault-proxy'
import type { ServeProcess } from './helpers/headless-process'
import { postgresSkipReason } from './helpers/postgres-test-database'
import { waitFor } from './helpers/scripted-server'
import { logKeys, SharedStoreRun } from './helpers/shared-store-run'
import { logView, StreamClient, type StreamMessage } from './helpers/stream-client'
import { UiSocketClient } from './helpers/ui-socket-client'

const TRANSFER = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'

let run: SharedStoreRun | undefined
afterAll(() => run?.close())

const lastProgress = (messages: StreamMessage[]): { block_number: number; cursor: string } =>
  messages.filter((m) => m.type === 'progress').at(-1)!.data as { block_number: number; cursor: string }

describe.skipIf(postgresSkipReason !== undefined)('serve instances sharing a PostgreSQL store', () => {
  it(
    'miss nothing and keep nothing twice or orphaned across cuts, reorgs and the capturer killed; a stream client on a third instance resumes by cursor',
    { timeout: 240_000 },
    async () => {
      run = await SharedStoreRun.start()
      const { token } = run
      const rpc = run.rpc.bind(run)
      const head = () => run!.head()
      const proxy = await startFaultProxy(run.anvil.port)
      run.onClose(() => proxy.close())
      // Every instance gets the same secret.key: the saved endpoint URL is sealed with it.
      const dataDirs = run.dataDirs(['a', 'b', 'c'])
      const args = ['--store', run.database.url, '--rpc', `ws://127.0.0.1:${proxy.port}`]
      const start = (dir: string): Promise<ServeProcess> => run!.serve(args, dir)
      const capturing = (serve: ServeProcess): boolean => /this instance captures it now/.test(serve.output())

      const first = await start(dataDirs[0]!)
      await waitFor('the first instance captures', () => capturing(first), 20_000)
      const ui = await UiSocketClient.connect(first.baseUrl, first.token)
      const [connection] = await ui.call('connections.list', {})
      const subscription = await ui.call('subscriptions.create', {
        connectionId: connection!.id,
        spec: { type: 'logs', params: { address: token, topics: [TRANSFER] } },
        watch: { startBlock: -2, fetch: false, listen: true, irreversibleOnly: false },
      })
      const second = await start(dataDirs[1]!)
      const third = await start(dataDirs[2]!)
      expect(capturing(second) || capturing(third)).toBe(false)

      // The stream client on the third instance, from a few blocks back.
      let client = await StreamClient.connect(third.baseUrl, third.token)
      const from = (await head()) - 3
      const request = { type: 'logs', req_id: 'r', listen: true, with_progress: 1, data: { address: token } }
      client.send({ ...request, start_block: from })
      await client.until('a few blocks on the third instance', (m) => m.filter((x) => x.type === 'progress').length >= 3, 30_000)

      proxy.startCutting(400, 2_000)
      const reorg = (depth: number) => rpc('anvil_reorg', [depth, []])
      await run.untilReorgFits(3)
      await reorg(3)
      // The client goes away, keeping what it processed up to its last progress, and comes back by cursor.
      const seen = lastProgress(client.of('r'))
      const kept = client.of('r').filter((m) => m.type !== 'log' || Number(m.data.block_number) <= seen.block_number)
      client.close()

      // The capturer is killed mid-run; the second instance takes over within 10 s.
      const killedAt = Date.now()
      expect(await first.kill('SIGKILL')).toBeNull()
      await waitFor('the second instance captures', () => capturing(second) || capturing(third), 10_000)
      const takeoverMs = Date.now() - killedAt
      console.log(`[shared store] the capturer was killed; another instance captured after ${takeoverMs} ms`)
      expect(takeoverMs).toBeLessThan(10_000)
      await reorg(2)

      client = await StreamClient.connect(third.baseUrl, third.token)
      client.send({ ...request, cursor: seen.cursor })
      const cutUntil = (await head()) + 6
      while ((await head()) < cutUntil) await new Promise((resolve) => setTimeout(resolve, 250))
      proxy.stopCutting()
      expect(proxy.cuts).toBeGreaterThan(2)

      const end = (await head()) + 2
      await client
        .until('the resumed client caught up', (m) => m.some((x) => x.type === 'progress' && Number(x.data.block_number) >= end), 60_000)
        .catch((error: unknown) => {
          throw new Error(
            `${String(error)}\nlast messages: ${JSON.stringify(client.messages.slice(-4))}\nkept: ${JSON.stringify(kept.map((m) => [m.type, m.data.block_number, String(m.data.block_hash ?? '').slice(0, 10)]))}\nthird instance:\n${third.output().slice(-3_000)}\nsecond:\n${second.output().slice(-2_000)}\nfirst:\n${first.output().slice(-2_000)}`,
          )
        })
      // The client asked for every log of the token (Transfer and Approval alike).
      const expected = await rpc<{ blockHash: string; logIndex: string }[]>('eth_getLogs', [
        { address: token, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${end.toString(16)}` },
      ])
      const combined = [...kept, ...client.of('r')].filter((m) => m.type !== 'log' || Number(m.data.block_number) <= end)
      const view = [...logView(combined).keys()].sort()
      if (JSON.stringify(view) !== JSON.stringify(logKeys(expected))) {
        const line = (m: StreamMessage) =>
          `${m.type} ${String(m.data.block_number)} ${String(m.data.block_hash ?? '').slice(0, 10)}${m.data.removed ? ' removed' : ''}`
        console.log(
          `[shared store] the stream's view differs from eth_getLogs\nextra: ${view.filter((k) => !logKeys(expected).includes(k)).join(' ')}\nmissing: ${logKeys(
            expected,
          )
            .filter((k) => !view.includes(k))
            .join(
              ' ',
            )}\nkept:\n${kept.map(line).join('\n')}\nresumed:\n${client.of('r').map(line).join('\n')}\nthird instance:\n${third.output().slice(-6_000)}\nsecond:\n${second.output().slice(-3_000)}`,
        )
      }
      expect(view).toEqual(logKeys(expected))
      expect(client.of('r').filter((m) => m.type === 'error')).toEqual([])
      client.close()

      // The stored rows, read on the third instance: every canonical log from the subscription's first block to its cursor, once.
      const viewer = await UiSocketClient.connect(third.baseUrl, third.token)
      await waitFor(
        'the stored cursor past the end',
        async () => ((await viewer.call('subscriptions.list', {})).find((s) => s.id === subscription.id)?.cursor?.number ?? 0) >= end,
        60_000,
      )
      const stored = (await viewer.call('events.list', { subscriptionId: subscription.id, limit: 1_000 })).filter((e) => !e.removed && e.blockNumber! <= end)
      const firstStored = Math.min(...stored.map((e) => e.blockNumber!))
      const storedExpected = await rpc<{ blockHash: string; logIndex: string }[]>('eth_getLogs', [
        { address: token, topics: [TRANSFER], fromBlock: `0x${firstStored.toString(16)}`, toBlock: `0x${end.toString(16)}` },
      ])
      expect(stored.map((e) => `${e.blockHash}:${e.logIndex}`).sort()).toEqual(logKeys(storedExpected))
      viewer.close()
      ui.close()
    },
  )
})

/** The socket pool against a scripted Alchemy-like provider. */
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeProvider, type FakeProvider } from '../../../test/helpers/fake-provider'
import { waitFor } from '../../../test/helpers/scripted-server'
import { ConnectionPool } from './connection-pool'

let provider: FakeProvider | undefined
let pool: ConnectionPool | undefined
afterEach(async () => {
  await pool?.stop()
  await provider?.close()
  pool = provider = undefined
})

const fast = { backoff: { initialMs: 20, maxMs: 60 } }

describe('ConnectionPool', () => {
  it('opens a second socket at the 1,001st subscription and delivers on both', async () => {
    provider = await startFakeProvider({ maxSubscriptionsPerConnection: 1000 })
    const logs: string[] = []
    pool = new ConnectionPool({ url: provider.url, ...fast, log: (m) => logs.push(m) })
    pool.start()
    const received = new Map<number, unknown[]>()
    for (let i = 0; i < 1001; i++) {
      received.set(i, [])
      await pool.acquire(['logs', { address: `0x${i.toString(16).padStart(40, '0')}` }], (r) => received.get(i)!.push(r))
    }
    expect(provider.connections.size).toBe(2)
    expect(pool.getStatus()).toMatchObject({ sockets: 2, upstreamSubscriptions: 1001, state: 'connected' })
    expect(logs.some((m) => /1000 subscriptions per socket reached/.test(m))).toBe(true)
    expect(provider.emit('logs', { n: 1 })).toBe(1001)
    await waitFor('all delivered', () => [...received.values()].every((r) => r.length === 1))
  })

  it('answers many requests made before the socket is up, with no listener-leak warning', async () => {
    provider = await startFakeProvider()
    const warnings: string[] = []
    const onWarning = (warning: Error) => warnings.push(warning.name)
    process.on('warning', onWarning)
    try {
      pool = new ConnectionPool({ url: provider.url, ...fast })
      pool.start()
      // Twenty subscriptions starting at once each ask before the socket is connected.
      const answers = await Promise.all(Array.from({ length: 20 }, () => pool!.request<string>('eth_chainId')))
      expect(answers).toHaveLength(20)
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings).not.toContain('MaxListenersExceededWarning')
      expect(pool.listenerCount('ready')).toBe(0)
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('shares one upstream subscription between identical subscribers and unsubscribes after the last', async () => {
    provider = await startFakeProvider()
    pool = new ConnectionPool({ url: provider.url, ...fast })
    pool.start()
    const a: unknown[] = []
    const b: unknown[] = []
    const first = await pool.acquire(['newPendingTransactions'], (r) => a.push(r))
    const second = await pool.acquire(['newPendingTransactions'], (r) => b.push(r))
    expect(provider.subscriptions.size).toBe(1)
    provider.emit('newPendingTransactions', '0x01')
    await waitFor('both got it', () => a.length === 1 && b.length === 1)
    await first.release()
    expect(provider.subscriptions.size).toBe(1)
    await second.release()
    await waitFor('unsubscribed upstream', () => provider!.subscriptions.size === 0)
    expect(provider.methods.filter((m) => m === 'eth_unsubscribe')).toHaveLength(1)
  })

  it('resubscribes everything after the server closes the connection, under new upstream ids', async () => {
    provider = await startFakeProvider()
    const logs: string[] = []
    pool = new ConnectionPool({ url: provider.url, ...fast, log: (m) => logs.push(m) })
    pool.start()
    const heads: unknown[] = []
    const pending: unknown[] = []
    await pool.acquire(['newHeads'], (r) => heads.push(r))
    await pool.acquire(['newPendingTransactions'], (r) => pending.push(r))
    const before = [...provider.subscriptions.keys()]
    provider.closeAll(1008, 'policy violation: throttled')
    await waitFor('resubscribed', () => pool!.getStatus().reconnectCount === 1 && pool!.getStatus().state === 'connected' && provider!.subscriptions.size === 2)
    const after = [...provider.subscriptions.keys()]
    expect(after.some((id) => before.includes(id))).toBe(false)
    expect(logs.some((m) => m.includes('code 1008') && m.includes('throttled'))).toBe(true)
    expect(pool.getStatus().reconnectCount).toBe(1)
    provider.emit('newHeads', { number: '0x2' })
    provider.emit('newPendingTransactions', '0x02')
    await waitFor('delivered again', () => heads.length === 1 && pending.length === 1)
  })

  it('detects a silent socket through its heartbeat, replaces it, and delivers again', async () => {
    provider = await startFakeProvider()
    pool = new ConnectionPool({ url: provider.url, ...fast, heartbeat: { idleMs: 100, deadlineMs: 150 } })
    pool.start()
    const heads: unknown[] = []
    await pool.acquire(['newHeads'], (r) => heads.push(r))
    provider.goSilent()
    await waitFor('declared dead', () => /heartbeat/.test(pool!.getStatus().lastError ?? '') || pool!.getStatus().reconnectCount > 0, 15_000)
    provider.speakAgain()
    await waitFor(
      'reconnected',
      () => pool!.getStatus().state === 'connected' && pool!.getStatus().reconnectCount >= 1 && provider!.subscriptions.size >= 1,
      15_000,
    )
    // The silent socket is gone from the server's side too once the client dropped it.
    const live = [...provider.subscriptions.values()].filter((s) => !(s.socket as unknown as { _socket: { isPaused(): boolean } })._socket.isPaused())
    expect(live).toHaveLength(1)
    provider.emit('newHeads', { number: '0x3' })
    await waitFor('delivered after replacement', () => heads.length >= 1)
  })

  it('drops a socket that goes silent while it resubscribes, through the heartbeat, instead of waiting out the request timeout', async () => {
    provider = await startFakeProvider()
    pool = new ConnectionPool({ url: provider.url, ...fast, heartbeat: { idleMs: 100, deadlineMs: 150 } })
    pool.start()
    const heads: unknown[] = []
    await pool.acquire(['newHeads'], (r) => heads.push(r))
    // Every socket from now on opens and then reads nothing: the resubscription gets no answer.
    provider.goSilent()
    provider.closeAll(1012, 'service restart')
    await waitFor('the silent new socket declared dead and replaced', () => pool!.getStatus().reconnectCount >= 3, 10_000)
    provider.speakAgain()
    await waitFor(
      'connected again',
      () =>
        pool!.getStatus().state === 'connected' &&
        [...provider!.subscriptions.values()].some((s) => !(s.socket as unknown as { _socket: { isPaused(): boolean } })._socket.isPaused()),
    )
    provider.emit('newHeads', { number: '0x4' })
    await waitFor('delivered on the new socket', () => heads.length >= 1)
  })

  it('backs off and says so when the provider rate-limits a subscription', async () => {
    provider = await startFakeProvider()
    pool = new ConnectionPool({ url: provider.url, ...fast })
    pool.start()
    await pool.acquire(['newHeads'], () => undefined)
    provider.rateLimitNext(1)
    const error = await pool.acquire(['syncing'], () => undefined).catch((e: unknown) => e as Error)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(/exceeded its compute units/)
  })
})

/**
 * Leadership of a connection among capturers sharing one PostgreSQL (issue 13), against the
 * run's throwaway server: instances in this process, and leaders in child processes that are
 * killed with SIGKILL or frozen with SIGSTOP, as a crashed or stalled capturer would be.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startFaultProxy } from '../../../../test/helpers/fault-proxy'
import { createTestDatabase, postgresSkipReason, type TestDatabase } from '../../../../test/helpers/postgres-test-database'
import { connectPostgres, type PostgresPool } from './database'
import { ConnectionLeadership, connectionLeaders, leaderOf, type ConnectionLeadershipOptions } from './leadership'

const LEADER_SCRIPT = path.resolve(__dirname, '../../../../test/helpers/connection-leader.mjs')

/** Resolves with the first event of `name`, or fails after `ms`. */
async function next<T extends unknown[]>(emitter: ConnectionLeadership, name: 'elected' | 'following' | 'lost', ms = 15_000): Promise<T> {
  try {
    return (await once(emitter, name, { signal: AbortSignal.timeout(ms) })) as T
  } catch (error) {
    throw new Error(`no '${name}' from the leadership of connection ${emitter.connectionId} within ${ms} ms`, { cause: error })
  }
}

interface LeaderProcess {
  child: ChildProcess
  /** Resolves with the first line of output matching `pattern` printed from now on (or already printed). */
  line(pattern: RegExp, ms?: number): Promise<string>
}

describe.skipIf(postgresSkipReason)('leadership of a connection', () => {
  let database: TestDatabase
  let pool: PostgresPool
  const leaderships: ConnectionLeadership[] = []
  const children: ChildProcess[] = []

  const leadership = (connectionId: number, options: ConnectionLeadershipOptions = {}) => {
    const instance = new ConnectionLeadership(pool, connectionId, options)
    leaderships.push(instance)
    return instance
  }

  const leaderProcess = (connectionId: number, options: ConnectionLeadershipOptions = {}): LeaderProcess => {
    const child = spawn(process.execPath, [LEADER_SCRIPT, database.url, String(connectionId), JSON.stringify(options)])
    children.push(child)
    let output = ''
    const waiting = new Set<() => void>()
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      for (const check of waiting) check()
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', () => {
      for (const check of waiting) check()
    })
    return {
      child,
      line: (pattern, ms = 30_000) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => finish(new Error(`no line matching ${pattern} within ${ms} ms; output:\n${output}`)), ms)
          const finish = (error?: Error, line?: string) => {
            clearTimeout(timer)
            waiting.delete(check)
            if (error) reject(error)
            else resolve(line!)
          }
          const check = () => {
            const line = output.split('\n').find((candidate) => pattern.test(candidate))
            if (line !== undefined) finish(undefined, line)
            else if (child.exitCode !== null || child.signalCode !== null)
              finish(new Error(`the leader process exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}; output:\n${output}`))
          }
          waiting.add(check)
          check()
        }),
    }
  }

  beforeAll(async () => {
    database = await createTestDatabase()
    pool = await connectPostgres(database.url)
  })
  afterEach(async () => {
    await Promise.all(leaderships.splice(0).map((instance) => instance.release()))
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  afterAll(async () => {
    await pool?.end()
    await database?.drop()
  })

  it('elects one of two instances; when it releases, the other is elected within a retry interval', async () => {
    const retryIntervalMs = 600
    const first = leadership(1, { retryIntervalMs, applicationName: 'tidewatch capture first' })
    const second = leadership(1, { retryIntervalMs, applicationName: 'tidewatch capture second' })
    first.start()
    await next(first, 'elected')
    second.start()
    await next(second, 'following')
    expect([first.isLeader, second.isLeader]).toEqual([true, false])
    expect(await leaderOf(pool, 1)).toMatchObject({ connectionId: 1, backendPid: first.backendPid, applicationName: 'tidewatch capture first' })

    const elected = next(second, 'elected')
    const releasedAt = performance.now()
    await first.release()
    await elected
    const tookMs = performance.now() - releasedAt
    // Its next try comes at most one interval after the release; the half interval covers the query and a busy machine.
    expect(tookMs).toBeLessThan(retryIntervalMs * 1.5)
    expect(second.isLeader).toBe(true)
    expect(await leaderOf(pool, 1)).toMatchObject({ backendPid: second.backendPid, applicationName: 'tidewatch capture second' })
  })

  it('leads each connection on its own, and says who leads which', async () => {
    const one = leadership(2, { applicationName: 'tidewatch capture one' })
    const other = leadership(3, { applicationName: 'tidewatch capture other' })
    one.start()
    other.start()
    await Promise.all([next(one, 'elected'), next(other, 'elected')])
    const leaders = await connectionLeaders(pool)
    expect([...leaders.keys()].sort()).toEqual([2, 3])
    expect(leaders.get(2)).toMatchObject({ backendPid: one.backendPid, applicationName: 'tidewatch capture one' })
    expect(leaders.get(3)).toMatchObject({ backendPid: other.backendPid, applicationName: 'tidewatch capture other' })
    expect(leaders.get(2)!.connectedAt).toBeGreaterThan(Date.now() - 60_000)

    await one.release()
    expect(await leaderOf(pool, 2)).toBeUndefined()
    expect(await leaderOf(pool, 3)).toBeDefined()
  })

  it('refuses a connection id that cannot key the lock, and timings that would let the server end a live leader', () => {
    expect(() => new ConnectionLeadership(pool, 0)).toThrow(/expected an integer from 1/)
    expect(() => new ConnectionLeadership(pool, 2 ** 31)).toThrow(/expected an integer from 1/)
    expect(() => new ConnectionLeadership(pool, 1, { retryIntervalMs: 3_000, sessionTimeoutMs: 8_000 })).toThrow(/at least 4 x retryIntervalMs/)
  })

  it('a follower takes over within 10 s when the leader process is killed with SIGKILL (default timings)', { timeout: 60_000 }, async () => {
    const leader = leaderProcess(4)
    const leaderPid = Number((await leader.line(/^elected \d+/)).split(' ')[1])
    const follower = leadership(4)
    follower.start()
    await next(follower, 'following')
    expect(await leaderOf(pool, 4)).toMatchObject({
      backendPid: leaderPid,
      applicationName: `tidewatch capture ${os.hostname()}:${leader.child.pid}`.slice(0, 63),
    })

    const elected = next(follower, 'elected', 15_000)
    const killedAt = performance.now()
    leader.child.kill('SIGKILL')
    await elected
    const tookMs = performance.now() - killedAt
    console.log(`takeover after kill -9 of the leader: ${Math.round(tookMs)} ms (default retry interval 1.5 s)`)
    expect(tookMs).toBeLessThan(10_000)
    expect(await leaderOf(pool, 4)).toMatchObject({ backendPid: follower.backendPid })
  })

  it('a leader whose session the server terminates hears lost, then follows again and is re-elected', async () => {
    const leader = leadership(5, { retryIntervalMs: 300 })
    leader.start()
    await next(leader, 'elected')
    const firstPid = leader.backendPid

    const lost = next<[string]>(leader, 'lost')
    await pool.query('SELECT pg_terminate_backend($1)', [firstPid])
    const [reason] = await lost
    expect(reason).toMatch(/lock of connection 5 broke: .*terminat/)
    expect(leader.isLeader).toBe(false)

    await next(leader, 'elected')
    expect(leader.backendPid).not.toBe(firstPid)
    expect(await leaderOf(pool, 5)).toMatchObject({ backendPid: leader.backendPid })
  })

  it(
    'the server ends a frozen leader (SIGSTOP) after sessionTimeoutMs, a follower takes over, and the leader hears lost when it resumes',
    { timeout: 60_000 },
    async () => {
      const timings = { retryIntervalMs: 300, sessionTimeoutMs: 1_200 }
      const leader = leaderProcess(6, timings)
      await leader.line(/^elected \d+/)
      const follower = leadership(6, timings)
      follower.start()
      await next(follower, 'following')

      const elected = next(follower, 'elected')
      const frozenAt = performance.now()
      leader.child.kill('SIGSTOP')
      await elected
      const tookMs = performance.now() - frozenAt
      // Its socket stays open: only idle_session_timeout frees the lock, counted from its last check (up to one interval before the freeze).
      expect(tookMs).toBeGreaterThanOrEqual(timings.sessionTimeoutMs - timings.retryIntervalMs - 50)
      expect(tookMs).toBeLessThan(timings.sessionTimeoutMs + timings.retryIntervalMs + 2_000)

      leader.child.kill('SIGCONT')
      expect(await leader.line(/^lost /)).toMatch(/lock of connection 6 broke/)
    },
  )

  it('a leader whose connection goes silent hears lost before the server frees the lock for a follower', { timeout: 60_000 }, async () => {
    const proxy = await startFaultProxy(Number(new URL(database.url).port))
    const throughProxy = new URL(database.url)
    throughProxy.port = String(proxy.port)
    const proxiedPool = await connectPostgres(throughProxy.href)
    try {
      const timings = { retryIntervalMs: 300, sessionTimeoutMs: 2_400 }
      const leader = new ConnectionLeadership(proxiedPool, 7, timings)
      leaderships.push(leader)
      const follower = leadership(7, timings)
      leader.start()
      await next(leader, 'elected')
      follower.start()
      await next(follower, 'following')

      const silencedPid = leader.backendPid
      const order: string[] = []
      let reason = ''
      leader.on('lost', (why) => {
        order.push('leader lost')
        reason = why
      })
      // Once the server frees the lock, the follower or the leader's new session (it follows again, through the proxy) gets it.
      const electedAgain = Promise.race([
        next(follower, 'elected').then(() => order.push('follower elected')),
        next(leader, 'elected').then(() => order.push('leader elected in a new session')),
      ])
      proxy.silenceOpen()
      await electedAgain
      expect(order).toHaveLength(2)
      expect(order[0]).toBe('leader lost')
      expect((await leaderOf(pool, 7))?.backendPid).not.toBe(silencedPid)
      expect(reason).toMatch(/did not answer within 1200 ms/)
    } finally {
      await Promise.all(leaderships.splice(0).map((instance) => instance.release()))
      await proxy.close()
      await proxiedPool.end()
    }
  })
})

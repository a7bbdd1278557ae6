/**
 * Two capturers of one logs subscription share a PostgreSQL store (issue 13): one leads, the
 * other follows. A real anvil reorganizes under the leader, the leader is killed with
 * SIGKILL mid-run, the follower takes over from the cursor stored with the rows, the chain
 * reorganizes again. Afterwards the stored rows not marked removed are exactly eth_getLogs
 * over the captured range: nothing missed, nothing twice, nothing orphaned kept.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { encodeFunctionData, parseAbi } from 'viem'
import { afterAll, describe, expect, it } from 'vitest'
import { startDemoChain, type DemoChain } from '../src/main/demo/demo-chain'
import { openPostgres, type PostgresPool } from '../src/main/store/postgres/database'
import { createTestDatabase, postgresSkipReason, type TestDatabase } from './helpers/postgres-test-database'
import { waitFor } from './helpers/scripted-server'

const CAPTURER = path.resolve(__dirname, 'helpers/postgres-capturer.mjs')

interface Capturer {
  child: ChildProcess
  /** Resolves with the first output line matching `pattern` (already printed or to come). */
  line(pattern: RegExp, ms?: number): Promise<string>
}

const children: ChildProcess[] = []
let demo: DemoChain | undefined
let database: TestDatabase | undefined
let pool: PostgresPool | undefined

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  await pool?.end()
  await database?.drop()
  await demo?.stop()
})

function startCapturer(options: Record<string, unknown>): Capturer {
  const child = spawn(process.execPath, [CAPTURER, JSON.stringify(options)])
  children.push(child)
  let output = ''
  const waiting = new Set<() => void>()
  const onData = (chunk: Buffer): void => {
    output += chunk.toString()
    for (const check of waiting) check()
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  return {
    child,
    line: (pattern, ms = 60_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = output.split('\n').find((line) => pattern.test(line))
          if (found === undefined) return
          clearTimeout(timer)
          waiting.delete(check)
          resolve(found)
        }
        const timer = setTimeout(() => {
          waiting.delete(check)
          reject(new Error(`no line matching ${pattern} within ${ms} ms; output:\n${output.slice(-4_000)}`))
        }, ms)
        waiting.add(check)
        check()
      }),
  }
}

describe.skipIf(postgresSkipReason !== undefined)('capture on a shared PostgreSQL store', () => {
  it('misses nothing, keeps nothing twice and nothing orphaned across reorgs and a leader killed mid-run', async () => {
    demo = await startDemoChain({ blockTime: 1, onError: () => undefined })
    database = await createTestDatabase()
    pool = await openPostgres(database.url)
    const store = pool
    await store.query(
      "INSERT INTO connections (id, name, kind, url_ciphertext, display_url, created_at) VALUES (1, 'demo', 'user', 'not used by the capturers', $1, 0)",
      [demo.wsUrl],
    )
    const token = demo.tokenAddress.toLowerCase()
    const key = `logs:${token}`
    await store.query('INSERT INTO streams (id, connection_id, stream_key) VALUES (1, 1, $1)', [key])
    await store.query("INSERT INTO subscriptions (id, connection_id, type, params_json, stream_key, created_at) VALUES (1, 1, 'logs', $1, $2, 0)", [
      JSON.stringify({ address: token }),
      key,
    ])
    const options = { url: database.url, wsUrl: demo.wsUrl, connectionId: 1, subscriptionId: 1, streamId: 1, address: token }
    const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> => {
      const response = await fetch(demo!.httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      })
      return ((await response.json()) as { result: T }).result
    }
    const stored = async (): Promise<{ number: number | null; start: number | null }> => {
      const row = (
        await store.query<{ cursor_number: number | null; start_block: number | null }>('SELECT cursor_number, start_block FROM subscriptions WHERE id = 1')
      ).rows[0]!
      return { number: row.cursor_number, start: row.start_block }
    }
    const storedPast = async (block: number, what: string): Promise<void> => {
      const deadline = Date.now() + 60_000
      while (((await stored()).number ?? -1) < block) {
        if (Date.now() > deadline) throw new Error(`the stored cursor never passed block ${block} (${what})`)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
    const head = async (): Promise<number> => Number(await rpc<string>('eth_blockNumber'))
    const transfer = encodeFunctionData({
      abi: parseAbi(['function transfer(address to, uint256 value) returns (bool)']),
      functionName: 'transfer',
      args: [demo.accounts[2]!, 7n],
    })
    const reorg = (depth: number) => rpc('anvil_reorg', [depth, [[{ from: demo!.accounts[1], to: demo!.tokenAddress, data: transfer }, 0]]])

    const first = startCapturer(options)
    await first.line(/^elected$/)
    const second = startCapturer(options)
    await second.line(/^following$/)

    // The leader captures, through a reorg.
    await storedPast((await head()) + 2, 'the first leader')
    await reorg(3)
    await storedPast((await head()) + 2, 'the first leader after a reorg')

    // Killed mid-run: whatever it had queued is lost with it; the follower takes over from the stored cursor.
    const killedAt = Date.now()
    first.child.kill('SIGKILL')
    await second.line(/^elected$/, 15_000)
    const takeoverMs = Date.now() - killedAt
    expect(takeoverMs).toBeLessThan(10_000)
    await second.line(/^capturing from \d+$/)
    await reorg(2)
    const end = (await head()) + 3
    await storedPast(end, 'the second leader')
    second.child.kill('SIGTERM')
    await waitFor('the second capturer to stop', () => second.child.exitCode !== null, 20_000)

    const { number: cursor, start } = await stored()
    expect(start).not.toBeNull()
    const expected = await rpc<{ blockHash: string; logIndex: string }[]>('eth_getLogs', [
      { address: demo.tokenAddress, fromBlock: `0x${start!.toString(16)}`, toBlock: `0x${cursor!.toString(16)}` },
    ])
    const rows = (
      await store.query<{ block_hash: string; log_index: number; block_number: number; removed: boolean }>(
        'SELECT block_hash, log_index, block_number, removed FROM events WHERE stream_id = 1 ORDER BY id',
      )
    ).rows
    const kept = rows.filter((row) => !row.removed && row.block_number <= cursor!).map((row) => `${row.block_hash}:${row.log_index}`)
    // Nothing twice (the unique index would refuse it anyway), nothing missed, nothing orphaned kept.
    expect(new Set(kept).size).toBe(kept.length)
    expect(kept.sort()).toEqual(expected.map((log) => `${log.blockHash}:${Number(log.logIndex)}`).sort())
    // The reorgs did take rows back: the check above saw orphaned rows marked removed, not only a quiet chain.
    expect(rows.some((row) => row.removed)).toBe(true)
    console.log(
      `shared capture: ${kept.length} logs over blocks ${start}-${cursor}, ${rows.filter((r) => r.removed).length} taken back, takeover ${takeoverMs} ms`,
    )
  }, 180_000)
})

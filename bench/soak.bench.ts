/**
 * Soak: `tidewatch serve` (the built bundle) for SOAK_MINUTES (default 30) against anvil
 * through a fault proxy that cuts the upstream connection at random, with `anvil_reorg`
 * every so often and a steady flood of token transfers. Issue #10's goals, fixed before
 * measuring: a `/v1/stream` client listening from the start, checked at the end against
 * `eth_getLogs` with `removed: true` applied as deletes, misses nothing, gets nothing extra
 * and nothing twice; and the process's RSS and open file descriptors are flat after
 * warm-up (growth under 10 %).
 *
 * The serve process reports its own RSS, V8 heap, open descriptors and event-loop delay
 * (TIDEWATCH_METRICS_MS, src/main/headless/process-metrics.ts) every SOAK_SAMPLE_SECONDS.
 *
 *   npm run bench:soak                    30 minutes, writes its section of BENCHMARKS.md
 *   SOAK_MINUTES=3 npm run bench:soak     a short check
 *
 * Other knobs: SOAK_SAMPLE_SECONDS (10), SOAK_TRANSFERS_PER_BLOCK (10), SOAK_REORG_EVERY_SECONDS
 * (45), SOAK_CUT_EVERY_SECONDS (20-60: a cut at a random moment in that range),
 * BENCH_WRITE=0 (do not touch BENCHMARKS.md), BENCH_VERBOSE=1 (echo serve's output).
 *
 * Correctness fails the benchmark; the growth goal is a verdict in the section, not a failure
 * (bench/vitest.bench.config.ts: a benchmark fails only when its result is wrong).
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { encodeFunctionData, parseAbi } from 'viem'
import { expect, test } from 'vitest'
import { startAnvil } from '../src/main/demo/anvil-process'
import { startTrafficGenerator } from '../src/main/demo/traffic-generator'
import { parseProcessMetrics, type ProcessMetrics } from '../src/main/headless/process-metrics'
import { startFaultProxy } from '../test/helpers/fault-proxy'
import { startServe } from '../test/helpers/headless-process'
import { StreamClient, type StreamMessage } from '../test/helpers/stream-client'
import { writeSection } from './benchmarks-md'
import { cpuBusy, envInt, gitCommit, machine } from './run-context'

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30)
const SAMPLE_S = envInt('SOAK_SAMPLE_SECONDS', 10)
const TRANSFERS_PER_BLOCK = envInt('SOAK_TRANSFERS_PER_BLOCK', 10)
const REORG_EVERY_S = envInt('SOAK_REORG_EVERY_SECONDS', 45)
const [CUT_MIN_S, CUT_MAX_S] = (process.env.SOAK_CUT_EVERY_SECONDS ?? '20-60').split('-').map(Number) as [number, number]
const WRITE = process.env.BENCH_WRITE !== '0'
const VERBOSE = process.env.BENCH_VERBOSE === '1'
/** Warm-up: the first fifth of the run (at least one minute); growth is measured after it. */
const WARMUP_MS = Math.max(60_000, (MINUTES * 60_000) / 5)
const GOAL_GROWTH = 0.1

/** run-context's gitCommit reads .git as a directory, which a git worktree does not have. */
const commit = (): string => {
  try {
    return execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], { encoding: 'utf8' }).trim()
  } catch {
    return gitCommit()
  }
}
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const int = (n: number): string => Math.round(n).toLocaleString('en-US')
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`
const pct = (share: number): string => `${share >= 0 ? '+' : ''}${(share * 100).toFixed(1)} %`
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]!
}

interface RpcLog {
  blockHash: string
  blockNumber: string
  logIndex: string
}

/** Applies the stream's log messages in order, counting what a correct stream never sends. */
function applyLogs(messages: StreamMessage[], upTo: number): { view: Set<string>; duplicates: string[]; unknownRemovals: string[] } {
  const view = new Set<string>()
  const duplicates: string[] = []
  const unknownRemovals: string[] = []
  for (const m of messages) {
    if (m.type !== 'log' || Number(m.data.block_number) > upTo) continue
    const key = `${String(m.data.block_hash)}:${Number(m.data.log_index)}`
    if (m.data.removed) {
      if (!view.delete(key)) unknownRemovals.push(key)
    } else if (view.has(key)) duplicates.push(key)
    else view.add(key)
  }
  return { view, duplicates, unknownRemovals }
}

test(`soak: ${MINUTES} min of tidewatch serve through cuts, reorgs and a flood of logs`, { timeout: (MINUTES + 10) * 60_000 }, async () => {
  const busyBefore = await cpuBusy(1_000)
  const started = new Date()
  const anvil = await startAnvil({ blockTime: 1 })
  const cleanups: (() => Promise<unknown>)[] = [() => anvil.stop()]
  try {
    const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> => {
      const response = await fetch(anvil.httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      })
      const body = (await response.json()) as { result: T; error?: { message: string } }
      if (body.error) throw new Error(`${method}: ${body.error.message}`)
      return body.result
    }
    const head = async () => Number(await rpc<string>('eth_blockNumber'))

    let trafficErrors = 0
    const traffic = await startTrafficGenerator({
      httpUrl: anvil.httpUrl,
      transfersPerBlock: TRANSFERS_PER_BLOCK,
      pollIntervalMs: 200,
      onError: () => trafficErrors++,
    })
    cleanups.unshift(() => traffic.stop())
    const proxy = await startFaultProxy(anvil.port)
    cleanups.unshift(() => proxy.close())

    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-soak-'))
    cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }))
    process.env.TIDEWATCH_METRICS_MS = String(SAMPLE_S * 1_000)
    const serve = await startServe(['--rpc', `ws://127.0.0.1:${proxy.port}`], dataDir)
    delete process.env.TIDEWATCH_METRICS_MS
    cleanups.unshift(() => serve.kill('SIGTERM'))
    const serveStarted = Date.now()

    const client = await StreamClient.connect(serve.baseUrl, serve.token)
    cleanups.unshift(async () => client.close())
    const from = (await head()) + 1
    client.send({ type: 'logs', req_id: 'soak', start_block: from, listen: true, with_progress: 1, data: {} })
    await client.until('listening', (m) => m.some((x) => x.req_id === 'soak' && x.type === 'listening'))
    console.log(`[soak] ${MINUTES} min from block ${from}; serve pid ${serve.pid}; samples every ${SAMPLE_S} s`)

    proxy.startCutting(CUT_MIN_S * 1_000, CUT_MAX_S * 1_000)
    const transfer = encodeFunctionData({
      abi: parseAbi(['function transfer(address to, uint256 value) returns (bool)']),
      functionName: 'transfer',
      args: [traffic.accounts[2]!, 7n],
    })
    const reorgDepths: number[] = []
    const endAt = serveStarted + MINUTES * 60_000
    let nextReorg = Date.now() + REORG_EVERY_S * 1_000
    let lastReport = Date.now()
    while (Date.now() < endAt) {
      await sleep(Math.min(1_000, Math.max(0, endAt - Date.now())))
      if (Date.now() >= nextReorg && Date.now() < endAt - 10_000) {
        const depth = 1 + Math.floor(Math.random() * 5)
        // The replacement branch carries a transfer of its own, so replacement blocks have logs too.
        await rpc('anvil_reorg', [depth, [[{ from: traffic.accounts[1], to: traffic.tokenAddress, data: transfer }, 0]]])
        reorgDepths.push(depth)
        nextReorg = Date.now() + REORG_EVERY_S * 1_000
      }
      if (Date.now() - lastReport >= 60_000 || VERBOSE) {
        lastReport = Date.now()
        const last = parseProcessMetrics(serve.output()).at(-1)
        const progress = client
          .of('soak')
          .filter((m) => m.type === 'progress')
          .at(-1)
        console.log(
          `[soak] ${((Date.now() - serveStarted) / 60_000).toFixed(1)} min: head ${await head()}, stream at ${String(progress?.data.block_number ?? '-')}, ` +
            `${client.of('soak').filter((m) => m.type === 'log').length} log messages, ${proxy.cuts} cuts, ${reorgDepths.length} reorgs` +
            (last
              ? `; serve RSS ${mib(last.rssBytes)}, heap ${mib(last.heapUsedBytes)}, ${last.openFds} fds, loop delay p99 ${last.loopDelayP99Ms.toFixed(1)} ms`
              : ''),
        )
      }
    }
    const soakEnded = Date.now()

    // Quiet: no more cuts, reorgs or transfers; then the stream must agree with the node.
    proxy.stopCutting()
    await traffic.stop()
    const end = await head()
    await client
      .until('the stream caught up', (m) => m.some((x) => x.req_id === 'soak' && x.type === 'progress' && Number(x.data.block_number) >= end), 120_000)
      .catch((error: unknown) => {
        throw new Error(`${String(error)}\nserve output:\n${serve.output().slice(-3000)}`)
      })
    const expected = await rpc<RpcLog[]>('eth_getLogs', [{ fromBlock: `0x${from.toString(16)}`, toBlock: `0x${end.toString(16)}` }])
    const expectedKeys = new Set(expected.map((l) => `${l.blockHash}:${Number(l.logIndex)}`))
    const messages = client.of('soak')
    const { view, duplicates, unknownRemovals } = applyLogs(messages, end)
    const missed = [...expectedKeys].filter((key) => !view.has(key))
    const extra = [...view].filter((key) => !expectedKeys.has(key))
    const removals = messages.filter((m) => m.type === 'log' && m.data.removed).length
    const errors = messages.filter((m) => m.type === 'error')

    // The store agrees too. It keeps a watched log while its block can still be reorganized and
    // serves final blocks from the upstream (issue #15), so: nothing extra anywhere, nothing
    // missing above the finalized block.
    const db = new Database(path.join(dataDir, 'tidewatch.sqlite'), { readonly: true })
    const stored = new Set(
      db
        .prepare("SELECT block_hash || ':' || log_index FROM chain_logs WHERE canonical = 1 AND block_number BETWEEN ? AND ?")
        .pluck()
        .all(from, end) as string[],
    )
    const finalized = db.prepare('SELECT MAX(finalized) FROM chain_cursor').pluck().get() as number
    db.close()
    const openKeys = expected.filter((l) => Number(l.blockNumber) > finalized).map((l) => `${l.blockHash}:${Number(l.logIndex)}`)
    const storeMissed = openKeys.filter((key) => !stored.has(key)).length
    const storeExtra = [...stored].filter((key) => !expectedKeys.has(key)).length

    // Under load only: the samples of the quiet end would flatter the growth.
    const samples = parseProcessMetrics(serve.output()).filter((s) => s.at <= soakEnded)
    const reconnects = (serve.output().match(/reconnecting/g) ?? []).length
    expect(await serve.kill('SIGTERM')).toBe(0)

    // Growth after warm-up: the median of the three samples right after it against the last three.
    const afterWarmup = samples.filter((s) => s.at >= serveStarted + WARMUP_MS)
    const growth = (pick: (s: ProcessMetrics) => number): { start: number; end: number; share: number } => {
      const start = median(afterWarmup.slice(0, 3).map(pick))
      const last = median(afterWarmup.slice(-3).map(pick))
      return { start, end: last, share: last / start - 1 }
    }
    const rss = growth((s) => s.rssBytes)
    const fds = growth((s) => s.openFds ?? Number.NaN)
    const heap = growth((s) => s.heapUsedBytes)
    const delays = samples.map((s) => s.loopDelayP99Ms)
    const correct =
      missed.length === 0 &&
      extra.length === 0 &&
      duplicates.length === 0 &&
      unknownRemovals.length === 0 &&
      errors.length === 0 &&
      storeMissed === 0 &&
      storeExtra === 0
    const flat = rss.share < GOAL_GROWTH && fds.share < GOAL_GROWTH
    const verdict = correct && flat ? 'met' : 'missed'

    const minute = (s: ProcessMetrics) => ((s.at - serveStarted) / 60_000).toFixed(1)
    const every = Math.max(1, Math.round(samples.length / 12))
    const shown = samples.filter((_, i) => i % every === 0 || i === samples.length - 1)
    const command = MINUTES === 30 ? 'npm run bench:soak' : `SOAK_MINUTES=${MINUTES} npm run bench:soak`
    const markdown = `## Soak: ${MINUTES} minutes of \`tidewatch serve\` through cuts, reorgs and a flood of logs

Command: \`${command}\` (the same as \`npx vitest run --config bench/vitest.soak.config.ts\`; source \`bench/soak.bench.ts\`; \`SOAK_MINUTES\` sets the duration, 30 by default).

\`tidewatch serve\` (the built bundle) captures a local anvil (one block a second, ${TRANSFERS_PER_BLOCK} ERC-20 transfers a block from \`src/main/demo/traffic-generator.ts\`, plus its ETH transfers and approvals) through a fault proxy (\`test/helpers/fault-proxy.ts\`) that cuts every upstream connection at a random moment every ${CUT_MIN_S}-${CUT_MAX_S} s; every ${REORG_EVERY_S} s \`anvil_reorg\` replaces the newest 1-5 blocks by a branch with a transfer of its own. A \`/v1/stream\` client listens to every log from the first block on, with progress every block. At the end cuts, reorgs and transfers stop, the client catches up with the head, and its messages (\`removed: true\` applied as deletes) are compared with \`eth_getLogs\` over the same blocks, and the store's canonical \`chain_logs\` must hold nothing else, and every one of them in blocks not yet final (final ones are pruned and served from the upstream). The serve process samples its own RSS, V8 heap, open descriptors (\`/proc/self/fd\`) and event-loop delay every ${SAMPLE_S} s (\`TIDEWATCH_METRICS_MS\`, \`src/main/headless/process-metrics.ts\`). Growth compares the median of the three samples right after warm-up (the first ${(WARMUP_MS / 60_000).toFixed(1)} min) with the median of the last three.

**Goal** (fixed before measuring): 0 missed, 0 extra, 0 duplicates; RSS and open descriptors grow under ${GOAL_GROWTH * 100} % after warm-up. **Verdict: ${verdict}.**

Measured ${started.toISOString().slice(0, 10)} at commit ${commit()} on ${machine()}; the CPUs were ${(busyBefore * 100).toFixed(1)} % busy in the second before the run.

| Check | Result | |
|---|---|---|
| Stream vs \`eth_getLogs\`, blocks ${int(from)}-${int(end)} | **${missed.length} missed, ${extra.length} extra, ${duplicates.length} duplicates** | ${int(expectedKeys.size)} logs expected; ${int(messages.filter((m) => m.type === 'log').length)} log messages, ${int(removals)} of them \`removed: true\`; ${unknownRemovals.length} removals of logs never delivered; ${errors.length} error messages |
| Store (\`chain_logs\`, canonical) vs \`eth_getLogs\` | ${storeMissed} missed above the finalized block ${finalized}, ${storeExtra} extra | ${stored.size} kept, ${openKeys.length} expected above finality |
| RSS after warm-up | **${pct(rss.share)}** | ${mib(rss.start)} → ${mib(rss.end)} |
| Open file descriptors after warm-up | **${pct(fds.share)}** | ${int(fds.start)} → ${int(fds.end)} |
| V8 heap used after warm-up | ${pct(heap.share)} | ${mib(heap.start)} → ${mib(heap.end)} |
| Event-loop delay, p99 per ${SAMPLE_S} s | median ${median(delays).toFixed(1)} ms, worst ${Math.max(...delays).toFixed(1)} ms | longest single delay ${Math.max(...samples.map((s) => s.loopDelayMaxMs)).toFixed(0)} ms |
| Faults | ${proxy.cuts} cuts, ${reorgDepths.length} reorgs | reorg depths ${reorgDepths.join(', ') || '-'}; ${reconnects} reconnect lines in serve's log; ${trafficErrors} failed transfers from the traffic generator |

| Minute | RSS | Heap used | Open fds | Loop delay p99 / max |
|---:|---:|---:|---:|---|
${shown.map((s) => `| ${minute(s)} | ${mib(s.rssBytes)} | ${mib(s.heapUsedBytes)} | ${s.openFds ?? '-'} | ${s.loopDelayP99Ms.toFixed(1)} / ${s.loopDelayMaxMs.toFixed(0)} ms |`).join('\n')}
`
    console.log(markdown)
    if (WRITE) writeSection('soak', markdown)

    expect({
      missed: missed.slice(0, 5),
      extra: extra.slice(0, 5),
      duplicates: duplicates.slice(0, 5),
      unknownRemovals: unknownRemovals.slice(0, 5),
      errors,
    }).toEqual({ missed: [], extra: [], duplicates: [], unknownRemovals: [], errors: [] })
    expect({ storeMissed, storeExtra }).toEqual({ storeMissed: 0, storeExtra: 0 })
    expect(expectedKeys.size).toBeGreaterThan(0)
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined)
  }
})

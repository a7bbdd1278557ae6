/**
 * Catching up with a chain that went on without Tidewatch (a restart, a dropped socket): the
 * chain tracker fills the gap from its cursor, against the scripted provider answering every
 * request after a fixed delay, as a remote provider's round trip: 300 blocks with a watched
 * log each, at 20 and at 50 ms. BENCH_GAP and BENCH_RTT_MS (a single delay) change them, and
 * then, or with BENCH_WRITE=0, BENCHMARKS.md is left as it is.
 */
import { describe, expect, it } from 'vitest'
import { createTrackerWatchProvider } from '../src/main/chain/tracker-watch'
import type { WatchMessage } from '../src/main/chain/watch-types'
import { waitFor } from '../test/helpers/scripted-server'
import { startTrackerFixture } from '../test/helpers/tracker-fixture'
import { WATCHED, watchRequest } from '../test/helpers/watch-replay'
import { writeSection } from './benchmarks-md'
import { cpuBusy, envInt, gitCommit, machine } from './run-context'

const GAP = envInt('BENCH_GAP', 300)
const RTTS = process.env.BENCH_RTT_MS ? [envInt('BENCH_RTT_MS', 20)] : [20, 50]
const WRITE = !process.env.BENCH_GAP && !process.env.BENCH_RTT_MS && process.env.BENCH_WRITE !== '0'
const LOG = { address: WATCHED, topics: [`0x${'d7'.repeat(32)}`], data: '0x01' }

interface CatchUp {
  rttMs: number
  seconds: number
  headers: number
  logs: number
}

async function catchUp(rttMs: number): Promise<CatchUp> {
  const fixture = await startTrackerFixture({ provider: { answerDelayMs: rttMs, finalityDepth: 2 } })
  try {
    const { provider, tracker, pool } = fixture
    provider.mine([LOG])
    tracker.poke()
    await waitFor('tracking', () => tracker.cursor?.number === 1, 10_000)
    const messages: WatchMessage[] = []
    createTrackerWatchProvider(tracker, pool).open(watchRequest({ startBlock: 1, head: 1 }), (m) => messages.push(m))
    await waitFor('watching', () => messages.some((m) => m.type === 'progress'), 10_000)
    // The chain goes on while nothing is listening for its heads.
    for (let i = 0; i < GAP; i++) provider.mine([LOG])
    const requestsBefore = provider.requests.length
    const started = performance.now()
    tracker.poke()
    await waitFor('caught up', () => tracker.cursor?.number === GAP + 1, 600_000, 20)
    const seconds = (performance.now() - started) / 1000
    await waitFor('delivered', () => messages.filter((m) => m.type === 'log').length === GAP + 1, 60_000)
    const requests = provider.requests.slice(requestsBefore)
    const count = (method: string) => requests.filter((r) => r.method === method).length
    expect(tracker.cursor!.number).toBe(GAP + 1)
    return { rttMs, seconds, headers: count('eth_getBlockByNumber'), logs: count('eth_getLogs') }
  } finally {
    await fixture.close()
  }
}

describe('catch-up', () => {
  it(`fills a gap of ${GAP} blocks at ${RTTS.join(' and ')} ms a round trip`, async () => {
    const busyBefore = await cpuBusy(1_000)
    const results: CatchUp[] = []
    for (const rtt of RTTS) results.push(await catchUp(rtt))
    for (const r of results)
      console.log(
        `catch-up of ${GAP} blocks at ${r.rttMs} ms a round trip: ${r.seconds.toFixed(2)} s, ${(GAP / r.seconds).toFixed(0)} blocks/s; eth_getBlockByNumber ×${r.headers}, eth_getLogs ×${r.logs}`,
      )
    if (WRITE)
      writeSection(
        'catch-up',
        `## Catch-up: a gap in the chain filled

Command: \`npm run bench:catch-up\` (source \`bench/catch-up.bench.ts\`).

The chain tracker with one logs watch, against the scripted provider (\`test/helpers/fake-provider.ts\`) answering every request after a fixed delay, as a remote provider's round trip. The chain goes on ${GAP} blocks, a watched log in each, while nothing listens for its heads (a restart, a dropped socket); the time runs from the tracker's next sync to its cursor on the last block, every log then checked as delivered to the watch once.

Measured ${new Date().toISOString().slice(0, 10)} at commit ${gitCommit()} on ${machine()}; the CPUs were ${(busyBefore * 100).toFixed(1)} % busy in the second before the run.

| Round trip | Time | Blocks/s | eth_getBlockByNumber | eth_getLogs |
|---:|---:|---:|---:|---:|
${results.map((r) => `| ${r.rttMs} ms | ${r.seconds.toFixed(2)} s | **${(GAP / r.seconds).toFixed(0)}** | ${r.headers} | ${r.logs} |`).join('\n')}
`,
      )
  }, 900_000)
})

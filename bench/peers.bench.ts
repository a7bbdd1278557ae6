/**
 * `npm run bench:peers` (issue 11, item 6): the same flood of logs, in one run, to
 * Tidewatch's engine path, committed to SQLite, and to two client libraries, intake only.
 *
 * A local `ws` server (flood-server.mjs, its own process) serves the same deterministic,
 * mainnet-shaped logs (mainnet-logs.mjs: 250 per block, distinct hashes) as fast as each
 * client takes them:
 *
 * 1. Tidewatch: the whole Engine with a `logs` subscription (engine-path.ts, the phase
 *    bench:ingest measures). A `logs` subscription is a watch over the chain tracker, so
 *    the server serves the logs as a chain: newHeads, eth_getBlockByNumber, eth_getLogs by
 *    block hash, staying 16 blocks ahead of the client. Counted to the commit of the last
 *    log; every stored row is then checked against what was sent.
 * 2. viem 2: `createPublicClient({ transport: webSocket(url) })` and `watchEvent({ poll:
 *    false, onLogs })` with no event (all logs, undecoded: what Tidewatch captures). viem
 *    sends eth_subscribe `logs` and nothing else; the server answers it with a flood of
 *    `eth_subscription` notifications. Counted in onLogs; nothing is stored.
 * 3. ethers 6: `new WebSocketProvider(url)` and `provider.on({ topics: [] }, listener)`
 *    (all logs). ethers asks eth_chainId first (getNetwork, before the flood: ethers
 *    cannot emit a log before it knows the network), then eth_subscribe `logs`. Counted in
 *    the listener; nothing is stored.
 *
 * Each runs in this process, one after the other, each from a collected heap, as Tidewatch
 * does. A rate runs from the first frame the server sends (the first newHeads; the first
 * notification) to the last log committed (Tidewatch) or delivered (viem, ethers). A
 * peer's every delivered log is checked, as it arrives, against the log sent with its
 * block number and log index (block hash, transaction hash, data), and counted by that
 * position: none missing, none twice, none wrong. The figures are Tidewatch's rate over
 * each peer's, in the same run; speed is reported, not asserted.
 *
 * Environment: BENCH_LOGS (default 300,000; rounded up to whole blocks of 250),
 * BENCH_TIMEOUT_MS (120,000, per client), BENCH_ONLY=tidewatch,viem,ethers (any of them;
 * BENCHMARKS.md is then left alone), BENCH_PROFILE=1 (CPU profiles of each client's phase
 * into bench/.profiles/; BENCHMARKS.md is then left alone), BENCH_WRITE=0 (do not touch
 * BENCHMARKS.md; it is only written at the full size, BENCH_LOGS ≥ 300,000),
 * BENCH_VERBOSE=1 (print the engine's log).
 */
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { WebSocketProvider, version as ethersVersion, type Log as EthersLog } from 'ethers'
import { createPublicClient, webSocket } from 'viem'
import { expect, test } from 'vitest'
import { writeSection } from './benchmarks-md'
import { collectGarbage, engineWatch, phaseMeters, rawInserts, withTimeout, type EngineResult, type PhaseMeasurement } from './engine-path'
import { FloodServer } from './flood-upstream'
import { FIRST_BLOCK, LOGS_PER_BLOCK, MainnetLogs, POOL_SIZE } from './mainnet-logs.mjs'
import { cpuBusy, envInt, gitCommit, machine, versionOf } from './run-context'

const FULL_SIZE = 300_000
const BLOCKS = Math.ceil(envInt('BENCH_LOGS', FULL_SIZE) / LOGS_PER_BLOCK)
const LOGS = BLOCKS * LOGS_PER_BLOCK
const TIMEOUT_MS = envInt('BENCH_TIMEOUT_MS', 120_000)
type Client = 'tidewatch' | 'viem' | 'ethers'
const ONLY = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean)
const runs = (client: Client): boolean => ONLY.length === 0 || ONLY.includes(client)
const PROFILE = Boolean(process.env.BENCH_PROFILE && process.env.BENCH_PROFILE !== '0')
const WRITE = !PROFILE && ONLY.length === 0 && LOGS >= FULL_SIZE && process.env.BENCH_WRITE !== '0'
const VERBOSE = process.env.BENCH_VERBOSE === '1'
/** How long a peer is watched after its last expected log, for any extra (duplicate) delivery. */
const SETTLE_MS = 250

/** Issue 11, item 6: Tidewatch's committed rate over each peer's intake rate, in the same run. */
const GOAL = { viem: 4, ethers: 2.5 } as const

const int = (n: number): string => Math.round(n).toLocaleString('en-US')
const pct = (n: number): string => `${n.toFixed(1)} %`
const times = (n: number): string => `${n.toFixed(2)}×`

let expected: MainnetLogs | null = null
function expectedLogs(): MainnetLogs {
  if (!expected) {
    expected = new MainnetLogs()
    expected.prepare(LOGS)
  }
  return expected
}

/** The `ws` a package loads, found as Node finds it: `path` is the chain of packages that leads to it. */
function wsVersionOf(...path: string[]): string {
  let require = createRequire(import.meta.url)
  for (const pkg of path) require = createRequire(require.resolve(pkg))
  return (require('ws/package.json') as { version: string }).version
}

/* ------------------------------------------------------------------ intake check */

/**
 * Counts a peer's delivered logs by their position in the flood (block number and log
 * index) and checks each against the log sent there: cheap enough to run as they arrive
 * (a few string comparisons a log), so the peer stores nothing.
 */
class IntakeCheck {
  private readonly seen = new Uint8Array(LOGS)
  private readonly logs = expectedLogs()
  delivered = 0
  wrong = 0
  firstWrong: string | null = null
  /** When the LOGS-th log was delivered (Date.now()). */
  lastAt = 0
  readonly all: Promise<void>
  private resolveAll: () => void = () => undefined

  constructor() {
    this.all = new Promise((resolve) => (this.resolveAll = resolve))
  }

  take(blockNumber: number, logIndex: number, blockHash: string, transactionHash: string, data: string): void {
    const block = blockNumber - FIRST_BLOCK
    const seq = block * LOGS_PER_BLOCK + logIndex
    const { logs } = this
    const t = seq >= 0 && seq < LOGS && logIndex >= 0 && logIndex < LOGS_PER_BLOCK ? logs.templates[seq % POOL_SIZE]! : undefined
    if (
      t &&
      blockHash === logs.blockHashes[block] &&
      transactionHash === logs.txHashes[Math.floor(seq / POOL_SIZE) * logs.txSlots + t.txSlot] &&
      data === t.data
    ) {
      if (this.seen[seq]! < 255) this.seen[seq]! += 1
    } else {
      this.wrong += 1
      this.firstWrong ??= `delivered #${this.delivered + 1}: block ${blockNumber}, log index ${logIndex}, block hash ${blockHash}, tx ${transactionHash}`
    }
    if (++this.delivered === LOGS) {
      this.lastAt = Date.now()
      this.resolveAll()
    }
  }

  /** Positions never delivered, and deliveries beyond the first at a position. */
  tally(): { missing: number; duplicates: number } {
    let missing = 0
    let duplicates = 0
    for (const n of this.seen) {
      if (n === 0) missing += 1
      else duplicates += n - 1
    }
    return { missing, duplicates }
  }
}

/* ------------------------------------------------------------------ phases */

interface ClientResult {
  client: Client
  rate: number
  seconds: number
  rssStartMb: number
  rssPeakMb: number
  cpuPercent: number
  serverCpuPercent: number
  gcMs: number
  /** Logs received (delivered, or for Tidewatch committed) in all. */
  received: number
  missing: number
  duplicates: number
  wrong: number
  firstWrong: string | null
  errors: string[]
  /** Tidewatch: time in the store methods. */
  times?: Map<string, number>
}

function fromEngine(r: EngineResult): ClientResult {
  return {
    client: 'tidewatch',
    rate: r.rate,
    seconds: r.seconds,
    rssStartMb: r.rssStartMb,
    rssPeakMb: r.rssPeakMb,
    cpuPercent: r.cpuPercent,
    serverCpuPercent: r.serverCpuPercent,
    gcMs: r.gcMs,
    received: r.committed,
    // verifyStored compared every stored row with the log sent at its position.
    missing: Math.max(0, LOGS - r.stored),
    duplicates: Math.max(0, r.stored - LOGS, r.committed - LOGS),
    wrong: r.mismatches,
    firstWrong: r.firstMismatch,
    errors: r.errors,
    times: r.times,
  }
}

interface PeerHooks {
  /** Connects (not timed: before the flood is planned to start). */
  connect(): Promise<void>
  /** Subscribes to all logs, each delivered one going to check.take; the server floods on eth_subscribe. */
  subscribe(check: IntakeCheck, onError: (error: Error) => void): Promise<void>
  close(): Promise<void>
}

/** One peer on the notification flood: connect, subscribe, count to the last log, check. */
async function peerIntake(client: Exclude<Client, 'tidewatch'>, server: FloodServer, hooks: PeerHooks): Promise<ClientResult> {
  await server.planNotifications(LOGS)
  const check = new IntakeCheck()
  const errors: string[] = []
  await hooks.connect()
  const floodStarted = server.next('flood-start')
  const floodDone = server.next('flood-done')
  const meters = await phaseMeters(`peers-${client}`, [], PROFILE)
  let measured: PhaseMeasurement
  let startedAt = 0
  let serverCpuMs = 0
  try {
    await hooks.subscribe(check, (error) => errors.push(error.message))
    startedAt = (await withTimeout(floodStarted, TIMEOUT_MS, () => `${client}: the notification flood did not start`)).at
    await withTimeout(check.all, TIMEOUT_MS, () => 'timeout').catch(() =>
      errors.push(`only ${int(check.delivered)} of ${int(LOGS)} logs delivered after ${TIMEOUT_MS} ms`),
    )
    measured = await meters.stop()
    serverCpuMs = (await withTimeout(floodDone, TIMEOUT_MS, () => `${client}: the flood server did not finish`)).cpuMs
    // Anything delivered after the last expected log is extra.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
  } finally {
    await hooks.close()
  }
  const seconds = ((check.lastAt || Date.now()) - startedAt) / 1000
  return {
    client,
    rate: check.delivered >= LOGS ? LOGS / seconds : 0,
    seconds,
    rssStartMb: measured.startMb,
    rssPeakMb: measured.peakMb,
    cpuPercent: measured.cpuMs / 10 / seconds,
    serverCpuPercent: serverCpuMs / 10 / seconds,
    gcMs: measured.gcMs,
    received: check.delivered,
    ...check.tally(),
    wrong: check.wrong,
    firstWrong: check.firstWrong,
    errors,
  }
}

/** viem 2: watchEvent over its webSocket transport (eth_subscribe logs), all logs, undecoded. */
function viemHooks(url: string): PeerHooks {
  const client = createPublicClient({ transport: webSocket(url) })
  let unwatch: () => void = () => undefined
  return {
    async connect() {
      await client.transport.getRpcClient()
    },
    async subscribe(check, onError) {
      unwatch = client.watchEvent({
        poll: false,
        onLogs: (logs) => {
          for (const log of logs) check.take(Number(log.blockNumber ?? -1), log.logIndex ?? -1, log.blockHash ?? '', log.transactionHash ?? '', log.data)
        },
        onError,
      })
    },
    async close() {
      unwatch()
      ;(await client.transport.getRpcClient()).close()
    },
  }
}

/** ethers 6: WebSocketProvider, a listener on a filter for all logs. */
function ethersHooks(url: string): PeerHooks {
  let provider: WebSocketProvider | null = null
  return {
    async connect() {
      provider = new WebSocketProvider(url)
      // eth_chainId: ethers emits no log before it knows the network.
      await provider.getNetwork()
    },
    async subscribe(check, onError) {
      await provider!.on('error', onError)
      await provider!.on({ topics: [] }, (log: EthersLog) => check.take(log.blockNumber, log.index, log.blockHash, log.transactionHash, log.data))
    },
    async close() {
      // Removes the listeners too (eth_unsubscribe is not sent once destroyed: awaiting it would race destroy's cancelling).
      await provider?.destroy()
    },
  }
}

/* ------------------------------------------------------------------ report */

test(`peers: ${int(LOGS)} logs to Tidewatch's engine path (committed) and to viem and ethers (intake only)`, async () => {
  const benchStarted = performance.now()
  const server = await FloodServer.start(LOGS)
  const results: ClientResult[] = []
  // The machine and the versions (before the phases: a failure here should not cost a run).
  const context = `${machine()}, viem ${versionOf('viem')} (its ws, through isows, ${wsVersionOf('viem', 'isows')}), ethers ${ethersVersion} (its ws ${wsVersionOf('ethers')})`
  const busyBefore = await cpuBusy(1_000)
  try {
    // Each client's phase from a collected heap, so its RSS and GC are its own.
    collectGarbage()
    if (runs('tidewatch'))
      results.push(
        fromEngine(
          await engineWatch(server, {
            blocks: BLOCKS,
            logs: LOGS,
            expected: expectedLogs,
            timeoutMs: TIMEOUT_MS,
            profile: PROFILE,
            verbose: VERBOSE,
            name: 'peers-tidewatch',
          }),
        ),
      )
    collectGarbage()
    if (runs('viem')) results.push(await peerIntake('viem', server, viemHooks(server.url)))
    collectGarbage()
    if (runs('ethers')) results.push(await peerIntake('ethers', server, ethersHooks(server.url)))
  } finally {
    server.stop()
  }
  // SQLite's own rate for the engine path's rows, in the same run: no client can commit faster.
  const raw = rawInserts('engine', 1, 1, expectedLogs(), LOGS)

  const date = new Date().toISOString().slice(0, 10)
  const commit = gitCommit()
  const command = `${process.env.BENCH_LOGS ? `BENCH_LOGS=${process.env.BENCH_LOGS} ` : ''}npm run bench:peers`
  const byClient = new Map(results.map((r) => [r.client, r]))
  const tidewatch = byClient.get('tidewatch')
  const clean = (r: ClientResult) => r.errors.length === 0 && r.received === LOGS && r.missing === 0 && r.duplicates === 0 && r.wrong === 0
  const checked = (r: ClientResult) =>
    clean(r)
      ? `${int(LOGS)} of ${int(LOGS)}, each once${r.client === 'tidewatch' ? ', every stored row equal to what was sent' : ', each equal to what was sent'}`
      : `**${int(r.missing)} missing, ${int(r.duplicates)} twice or more, ${int(r.wrong)} wrong${r.errors.length ? `; ${r.errors.join('; ')}` : ''}**`
  const ratio = (peer: 'viem' | 'ethers'): number | null => {
    const r = byClient.get(peer)
    return tidewatch && r && tidewatch.rate > 0 && r.rate > 0 ? tidewatch.rate / r.rate : null
  }
  const verdict = (peer: 'viem' | 'ethers'): string => {
    const value = ratio(peer)
    return value === null ? 'not measured' : value >= GOAL[peer] ? 'met' : 'missed'
  }

  const LABEL: Record<Client, string> = {
    tidewatch:
      'Tidewatch, engine path: `logs` subscription (newHeads → ChainTracker → getBlockByNumber + getLogs → chain_logs → watch → events), committed to SQLite',
    viem: 'viem: `createPublicClient({ transport: webSocket(url) })`, `watchEvent({ poll: false, onLogs })`, intake only',
    ethers: 'ethers: `new WebSocketProvider(url)`, `provider.on({ topics: [] }, listener)`, intake only',
  }
  const ratioCell = (r: ClientResult): string => {
    if (r.client === 'tidewatch') return ''
    const value = ratio(r.client)
    return value === null ? '' : `**${times(value)}**`
  }
  const goalCell = (r: ClientResult): string => (r.client === 'tidewatch' ? '' : `≥ ${times(GOAL[r.client])}`)
  const verdictCell = (r: ClientResult): string => (r.client === 'tidewatch' ? '' : verdict(r.client))

  const mainTable = [
    "| Client | Rate | Tidewatch's rate over it | Goal | Verdict | Process CPU | Peak RSS | Logs checked |",
    '|---|---:|---:|---:|---|---:|---:|---|',
    ...results.map(
      (r) =>
        `| ${LABEL[r.client]} | **${r.rate ? `${int(r.rate)} logs/s` : 'incomplete'}** | ${ratioCell(r)} | ${goalCell(r)} | ${verdictCell(r)} | ${pct(r.cpuPercent)} | ${int(r.rssPeakMb)} MiB (${int(r.rssStartMb)} at start) | ${checked(r)} |`,
    ),
  ].join('\n')

  const breakdown = (r: ClientResult): string =>
    [
      `wall ${r.seconds.toFixed(2)} s`,
      `process CPU ${pct(r.cpuPercent)} of one core (${((r.cpuPercent * 10 * r.seconds * 1000) / LOGS).toFixed(1)} µs per log, all threads)`,
      ...[...(r.times ?? [])].map(([label, ms]) => `${label} ${pct(ms / 10 / r.seconds)}`),
      `GC pauses ${pct(r.gcMs / 10 / r.seconds)}`,
      `flood server CPU ${pct(r.serverCpuPercent)}`,
    ].join('; ')
  const ceilings = (['viem', 'ethers'] as const).flatMap((peer) => {
    const r = byClient.get(peer)
    return r?.rate ? [`${times(raw.rate / r.rate)} ${peer}`] : []
  })
  const contextRows: [string, string][] = [
    ...results.map((r): [string, string] => [`${LABEL[r.client].split(':')[0]}: time`, breakdown(r)]),
    [
      "SQLite's own rate for the engine path's rows (the same logs inserted straight into a fresh store: each once in chain_logs, an events row pointing at it; no network, no JSON)",
      `${int(raw.rate)} logs/s in batches of ${int(raw.batch)} (${raw.seconds.toFixed(2)} s)${tidewatch?.rate ? `; Tidewatch committed at ${pct((tidewatch.rate / raw.rate) * 100)} of it` : ''}${ceilings.length ? `; committing at this rate, Tidewatch would be ${ceilings.join(' and ')}` : ''}`,
    ],
  ]

  const markdown = `## Peers: Tidewatch against viem and ethers on the same flood

Command: \`${command}\` (the same as \`npx vitest run --config bench/vitest.bench.config.ts peers\`; source \`bench/peers.bench.ts\`, the engine phase in \`bench/engine-path.ts\`).

A local \`ws\` server (\`bench/flood-server.mjs\`, its own process) serves the same ${int(LOGS)} deterministic mainnet-shaped logs (as in the ingest benchmark: ${LOGS_PER_BLOCK} per block, distinct block and transaction hashes, geth's field order) to three clients, one after the other, each as fast as it takes them:

- **Tidewatch, engine path**: the whole \`Engine\` with a \`logs\` subscription, as the app and \`tidewatch serve\` run it, the phase \`npm run bench:ingest\` measures. A \`logs\` subscription is a watch over the chain tracker, so the server serves the logs as a chain (newHeads, \`eth_getBlockByNumber\`, \`eth_getLogs\` by block hash), 16 blocks ahead of the client. Every log is **committed to SQLite**; counted from the engine's \`eventsAppended\`, and every stored row is afterwards compared with the log sent at its position.
- **viem ${versionOf('viem')}**: \`watchEvent\` with no event (all logs, undecoded: what Tidewatch captures) and \`poll: false\`, over viem's \`webSocket\` transport. viem sends \`eth_subscribe\` \`logs\` and nothing else; the server answers with a flood of \`eth_subscription\` notifications. **Intake only**: \`onLogs\` counts and checks each log, nothing is stored.
- **ethers ${ethersVersion}**: \`WebSocketProvider\` and a listener on a filter for all logs. ethers asks \`eth_chainId\` first (awaited before the flood: ethers emits no log before it knows the network), then \`eth_subscribe\` \`logs\`, answered with the same flood. **Intake only**: the listener counts and checks each log, nothing is stored.

All three run in the bench process (Node, the same process model as \`tidewatch serve\`), each phase from a collected heap. A rate runs from the first frame the server sends (the first newHeads for Tidewatch, the first notification for the peers) to the last log committed (Tidewatch) or delivered (viem, ethers). Each peer's delivered log is checked as it arrives against the log sent with its block number and log index (block hash, transaction hash, data) and counted at that position, then watched ${SETTLE_MS} ms more for extra deliveries: the check column says whether every client got every log exactly once. The figures are Tidewatch's rate over each peer's, measured in the same run. Process CPU is the bench process's, all threads (Tidewatch's SQLite writer thread included), over the phase's wall time; peak RSS is \`process.memoryUsage().rss\` sampled every 100 ms during the phase.

Measured ${date} at commit ${commit} on ${context}; the CPUs were ${pct(busyBefore * 100)} busy in the second before the run${busyBefore > 0.15 ? ' (other work was running: expect lower and noisier numbers)' : ''}.

${mainTable}

Goals (issue 11, item 6): Tidewatch's engine path, committed to SQLite, ≥ ${times(GOAL.viem)} viem's \`watchEvent\` and ≥ ${times(GOAL.ethers)} ethers' \`WebSocketProvider\`, both intake only, on the same flood in the same run.

| Context | |
|---|---|
${contextRows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

Profile each client's phase with \`BENCH_PROFILE=1 npm run bench:peers\` (\`BENCH_ONLY=tidewatch\`, \`viem\` or \`ethers\` for one), then \`node bench/profile-summary.mjs bench/.profiles/<file>.cpuprofile\`.
`

  const strip = (text: string) => text.replace(/\*\*|`/g, '')
  console.log(
    [
      '',
      `peers benchmark, ${date}, commit ${commit}: ${context}; CPUs ${pct(busyBefore * 100)} busy before the run`,
      ...results.map(
        (r) =>
          `  ${r.client.padEnd(10)} ${(r.rate ? int(r.rate) : 'incomplete').padStart(10)} logs/s  ${r.client === 'tidewatch' ? 'committed  ' : 'intake only'}  ${r.client === 'tidewatch' ? ''.padEnd(34) : `Tidewatch ${ratio(r.client) === null ? '-' : times(ratio(r.client)!)} (goal ≥ ${times(GOAL[r.client])}: ${verdict(r.client)})`.padEnd(34)}  CPU ${pct(r.cpuPercent)}  peak RSS ${int(r.rssPeakMb)} MiB  ${strip(checked(r))}`,
      ),
      ...contextRows.map(([label, value]) => `  ${strip(label)}: ${strip(value)}`),
      `  bench wall time ${((performance.now() - benchStarted) / 1000).toFixed(1)} s${WRITE ? '; BENCHMARKS.md updated' : ''}`,
      '',
    ].join('\n'),
  )
  for (const r of results) if (r.firstWrong) console.log(`${r.client}: first wrong log: ${r.firstWrong}`)
  if (WRITE) writeSection('peers', markdown)

  // The benchmark fails on wrong results only (lost, duplicated or corrupted logs); speed is reported, not asserted.
  for (const r of results) {
    expect(r.errors, r.client).toEqual([])
    expect(r.received, r.client).toBe(LOGS)
    expect(r.missing, r.client).toBe(0)
    expect(r.duplicates, r.client).toBe(0)
    expect(r.wrong, r.client).toBe(0)
  }
  expect(raw.stored).toBe(LOGS)
})

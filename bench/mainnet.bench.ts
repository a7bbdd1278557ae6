/**
 * Mainnet scale (issue #15): a local anvil shaped like mainnet, sped up: 1,000 logs per
 * block from 200 contracts, several blocks a second. Tidewatch runs against it through a
 * counting proxy with 0, 1 and 10 watches (app subscriptions on `logs`); the watched
 * contracts emit 1 % of the logs (1 watch: one contract with 10 logs a block; 10 watches:
 * ten contracts with one log a block each). For each: upstream requests and bytes per
 * block, rows and bytes added to the store per block, and per day at 12 s and 2 s blocks.
 *
 * Measured between two finality updates (the tracker asks 'finalized' every 32 blocks),
 * each after the tracker's pruning pass, so both ends hold the same non-final window.
 * anvil runs with `--slots-in-an-epoch 1`: its 'finalized' trails the head by two blocks.
 */
import Database from 'better-sqlite3'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { deployEmitters, emitCalldata } from '../test/helpers/log-emitter'
import { startAnvil, type AnvilProcess } from '../src/main/demo/anvil-process'
import { Engine, DATABASE_FILE } from '../src/main/engine/engine'
import { createKeyFileSecretBox } from '../src/main/store/secret-box'
import { subscriptionSpecSchema } from '../src/shared/subscription-params'
import { writeSection } from './benchmarks-md'
import { startCountingProxy, type UpstreamCounts } from './counting-proxy'
import { envInt, gitCommit, machine } from './run-context'

const CONTRACTS = 200
const LOGS_PER_BLOCK = 1_000
const BLOCK_MS = envInt('BENCH_BLOCK_MS', 250)
/** Finality updates between the two measurements (32 blocks each). */
const ROUNDS = envInt('BENCH_ROUNDS', 3)

/** Logs per block by contract: #0 ten (the one watch), #1..#10 one each (the ten watches), the rest share 980. */
function emissionPlan(): number[] {
  const plan = [10, ...Array.from({ length: 10 }, () => 1)]
  const rest = CONTRACTS - plan.length
  const remaining = LOGS_PER_BLOCK - 20
  for (let i = 0; i < rest; i++) plan.push(Math.floor(remaining / rest) + (i < remaining % rest ? 1 : 0))
  return plan
}

interface Snapshot {
  block: number
  upstream: UpstreamCounts
  liveBytes: number
  fileBytes: number
  rows: Record<string, number>
}

interface Result {
  watches: number
  blocks: number
  matchedLogsPerBlock: number
  requestsPerBlock: Record<string, number>
  bytesUpPerBlock: number
  bytesDownPerBlock: number
  rowsPerBlock: Record<string, number>
  diskPerBlock: number
}

const TABLES = ['heads', 'chain_blocks', 'chain_logs', 'events']

async function rpc<T>(anvil: AnvilProcess, body: unknown): Promise<T> {
  const response = await fetch(anvil.httpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return (await response.json()) as T
}

async function request<T>(anvil: AnvilProcess, method: string, params: unknown[]): Promise<T> {
  const answer = await rpc<{ result?: T; error?: unknown }>(anvil, { jsonrpc: '2.0', id: 1, method, params })
  if (answer.error) throw new Error(`${method}: ${JSON.stringify(answer.error)}`)
  return answer.result as T
}

/** Mines a block of `plan` logs every BLOCK_MS until stopped; one batched eth_sendTransaction per block. */
async function startMining(anvil: AnvilProcess, accounts: string[], contracts: string[], plan: number[]) {
  let stopped = false
  let mined = 0
  let failure: Error | null = null
  // anvil answers a batch concurrently: nonces are assigned here, not by the node.
  const nonces = await Promise.all(accounts.map((account) => request<string>(anvil, 'eth_getTransactionCount', [account, 'pending']).then(Number)))
  const done = (async () => {
    while (!stopped) {
      const started = Date.now()
      const batch = contracts.map((to, i) => {
        const sender = i % accounts.length
        const nonce = nonces[sender]!++
        return {
          jsonrpc: '2.0',
          id: i,
          method: 'eth_sendTransaction',
          params: [{ from: accounts[sender], to, nonce: `0x${nonce.toString(16)}`, data: emitCalldata(plan[i]!), gas: '0x40000' }],
        }
      })
      const answers = await rpc<{ error?: unknown }[]>(anvil, batch)
      const failed = answers.find((a) => a.error)
      if (failed) throw new Error(`eth_sendTransaction: ${JSON.stringify(failed.error)}`)
      await request(anvil, 'evm_mine', [])
      mined += 1
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, BLOCK_MS - (Date.now() - started))))
    }
  })().catch((error: unknown) => {
    failure = error instanceof Error ? error : new Error(String(error))
  })
  return {
    get mined() {
      return mined
    },
    get failure() {
      return failure
    },
    stop: async () => {
      stopped = true
      await done
    },
  }
}

async function measureRun(anvil: AnvilProcess, contracts: string[], watched: string[]): Promise<Result> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-mainnet-bench-'))
  const proxy = await startCountingProxy(anvil.port)
  const engine = new Engine({ dataDir, secrets: createKeyFileSecretBox(dataDir) })
  try {
    const connectionId = engine.connections.add({ url: `ws://127.0.0.1:${proxy.port}` }).id
    const live = await waitFor(
      () => (engine.connections.liveConnection(connectionId)?.tracker.cursor ? engine.connections.liveConnection(connectionId) : undefined),
      30_000,
    )
    for (const address of watched) engine.subscriptions.create({ connectionId, spec: subscriptionSpecSchema.parse({ type: 'logs', params: { address } }) })
    const tracker = live.tracker
    await waitFor(() => tracker.activeFilters().length === watched.length || undefined, 30_000)
    const finalizedEvents: number[] = []
    tracker.on('finalized', (n) => finalizedEvents.push(n))
    const snapshot = async (): Promise<Snapshot> => {
      await tracker.idle()
      await tracker.prune()
      await engine.connections.listHeads({ limit: 1 })
      await engine.events.list({ limit: 1 })
      // A reading connection of the bench's own: only the store holds the engine's handle.
      const db = new Database(path.join(dataDir, DATABASE_FILE))
      db.pragma('wal_checkpoint(TRUNCATE)')
      const pageSize = db.pragma('page_size', { simple: true }) as number
      const pages = db.pragma('page_count', { simple: true }) as number
      const free = db.pragma('freelist_count', { simple: true }) as number
      const rows: Record<string, number> = {}
      for (const table of TABLES) rows[table] = (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
      db.close()
      return {
        block: tracker.cursor!.number,
        upstream: proxy.snapshot(),
        liveBytes: (pages - free) * pageSize,
        fileBytes: fs.statSync(path.join(dataDir, DATABASE_FILE)).size,
        rows,
      }
    }
    // A finality update, then ROUNDS more: both ends just after the tracker asked 'finalized'.
    const nextFinality = async () => {
      const seen = finalizedEvents.length
      await waitFor(() => finalizedEvents.length > seen || undefined, 120_000)
    }
    await nextFinality()
    await nextFinality()
    const start = await snapshot()
    for (let i = 0; i < ROUNDS; i++) await nextFinality()
    const end = await snapshot()
    const blocks = end.block - start.block
    const requests = new Map<string, number>()
    for (const [method, count] of end.upstream.requests) {
      const delta = count - (start.upstream.requests.get(method) ?? 0)
      if (delta > 0) requests.set(method, delta)
    }
    const perBlock = (n: number) => n / blocks
    const eventsRows = end.rows.events! - start.rows.events!
    return {
      watches: watched.length,
      blocks,
      matchedLogsPerBlock: perBlock(eventsRows),
      requestsPerBlock: Object.fromEntries([...requests].map(([m, c]) => [m, perBlock(c)])),
      bytesUpPerBlock: perBlock(end.upstream.bytesUp - start.upstream.bytesUp),
      bytesDownPerBlock: perBlock(end.upstream.bytesDown - start.upstream.bytesDown),
      rowsPerBlock: Object.fromEntries(TABLES.map((t) => [t, perBlock(end.rows[t]! - start.rows[t]!)])),
      diskPerBlock: perBlock(end.liveBytes - start.liveBytes),
    }
  } finally {
    await engine.close()
    await proxy.close()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

let minerFailure = (): Error | null => null

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const failure = minerFailure()
    if (failure) throw failure
    const value = probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KB`
const mb = (bytes: number) => (bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`)
const BLOCKS_PER_DAY = { '12 s': 86_400 / 12, '2 s': 86_400 / 2 }

describe('mainnet scale', () => {
  it('costs upstream traffic and disk in proportion to what is watched', async () => {
    const anvil = await startAnvil({ extraArgs: ['--no-mining', '--slots-in-an-epoch', '1', '--gas-limit', '60000000'] })
    try {
      const accounts = await request<string[]>(anvil, 'eth_accounts', [])
      const contracts = await deployEmitters((method, params) => request(anvil, method, params), accounts[0]!, CONTRACTS)
      const plan = emissionPlan()
      expect(plan.reduce((a, b) => a + b, 0)).toBe(LOGS_PER_BLOCK)
      const miner = await startMining(anvil, accounts, contracts, plan)
      minerFailure = () => miner.failure
      const results: Result[] = []
      try {
        for (const watched of [[], [contracts[0]!], contracts.slice(1, 11)]) {
          const result = await measureRun(anvil, contracts, watched)
          console.log(JSON.stringify(result))
          results.push(result)
        }
      } finally {
        await miner.stop()
      }
      const last = await request<{ number: string }>(anvil, 'eth_getBlockByNumber', ['latest', false])
      const logsInLast = await request<unknown[]>(anvil, 'eth_getLogs', [{ fromBlock: last.number, toBlock: last.number }])
      expect(logsInLast).toHaveLength(LOGS_PER_BLOCK)

      const [none, one, ten] = results as [Result, Result, Result]
      const upstreamBytes = (r: Result) => r.bytesUpPerBlock + r.bytesDownPerBlock
      const goals = [
        { goal: 'no watch: at most 1.5 KB of disk per block', met: none.diskPerBlock <= 1_536, measured: kb(none.diskPerBlock) },
        {
          goal: 'no watch: no eth_getLogs per block',
          met: (none.requestsPerBlock.eth_getLogs ?? 0) === 0,
          measured: `${(none.requestsPerBlock.eth_getLogs ?? 0).toFixed(2)}`,
        },
        ...[one, ten].map((r) => ({
          goal: `${r.watches} watch${r.watches > 1 ? 'es' : ''}: disk per block at most 1.5 KB + 700 B per matched log (${r.matchedLogsPerBlock.toFixed(1)}: ${kb(1_536 + 700 * r.matchedLogsPerBlock)})`,
          met: r.diskPerBlock <= 1_536 + 700 * r.matchedLogsPerBlock,
          measured: kb(r.diskPerBlock),
        })),
        {
          goal: '10 watches: upstream bytes within 1.2x of 1 watch',
          met: upstreamBytes(ten) <= 1.2 * upstreamBytes(one),
          measured: `${(upstreamBytes(ten) / upstreamBytes(one)).toFixed(2)}x`,
        },
      ]
      const row = (r: Result) => {
        const requests = Object.entries(r.requestsPerBlock)
          .sort((a, b) => b[1] - a[1])
          .map(([m, c]) => `${m} ${c.toFixed(2)}`)
          .join(', ')
        const rows = Object.entries(r.rowsPerBlock)
          .filter(([, n]) => n !== 0)
          .map(([t, n]) => `${t} ${n.toFixed(2)}`)
          .join(', ')
        const perDay = (blocksPerDay: number) => `${mb(r.diskPerBlock * blocksPerDay)} disk, ${mb(upstreamBytes(r) * blocksPerDay)} upstream`
        return `| ${r.watches} | ${r.blocks} | ${r.matchedLogsPerBlock.toFixed(1)} | ${requests} | ${kb(r.bytesUpPerBlock)} up, ${kb(r.bytesDownPerBlock)} down | ${rows} | ${kb(r.diskPerBlock)} | ${perDay(BLOCKS_PER_DAY['12 s'])} | ${perDay(BLOCKS_PER_DAY['2 s'])} |`
      }
      const table = [
        '| watches | blocks measured | matched logs / block | upstream requests / block | upstream bytes / block | rows added / block | disk / block | per day at 12 s | per day at 2 s |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
        ...results.map(row),
      ].join('\n')
      const goalTable = [
        '| goal | measured | met |',
        '| --- | --- | --- |',
        ...goals.map((g) => `| ${g.goal} | ${g.measured} | ${g.met ? 'yes' : 'no'} |`),
      ].join('\n')
      console.log(`\n${table}\n\n${goalTable}\n`)
      writeSection(
        'mainnet',
        `## Mainnet scale: cost in proportion to what is watched

\`npm run bench:mainnet\` (bench/mainnet.bench.ts). A local anvil shaped like mainnet, sped up:
${LOGS_PER_BLOCK.toLocaleString('en-US')} logs per block from ${CONTRACTS} contracts, a block every ${BLOCK_MS} ms, \`--slots-in-an-epoch 1\`
(finality two blocks behind the head). Tidewatch (the engine, in process) reaches it through a counting
TCP proxy; the watches are app subscriptions on \`logs\` of one address each, and the watched
contracts emit 1 % of the logs. Measured between two of the tracker's finality updates, each
after its pruning pass; disk is the store's live pages (page count minus free pages, after a WAL
checkpoint), so pages freed by pruning and reused count as nothing. "Per day" multiplies the
per-block figures by 7,200 blocks (12 s) and 43,200 blocks (2 s). Upstream requests include the
head charts' \`eth_getBlockTransactionCountByHash\` and the every-32-blocks \`eth_getBlockByNumber('finalized')\`.
Most of the bytes down are anvil's \`newHeads\` notifications, which list the block's 200
transaction hashes (about 14 KB); geth and hosted providers send the header alone.

${table}

${goalTable}

Measured on ${machine()}, commit ${gitCommit()}, ${new Date().toISOString().slice(0, 10)}.`,
      )
    } finally {
      await anvil.stop()
    }
  })
})

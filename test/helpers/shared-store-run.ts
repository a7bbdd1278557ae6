/**
 * What a serve-level test of a shared PostgreSQL store runs: an anvil mining every second
 * with the demo traffic, a throwaway database, and `tidewatch serve` processes, each with
 * its own data directory and the one secret.key they must share. close() stops and removes
 * all of it (processes killed with SIGKILL: a test may have killed some already).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { startAnvil, type AnvilProcess } from '../../src/main/demo/anvil-process'
import { startTrafficGenerator, type TrafficGenerator } from '../../src/main/demo/traffic-generator'
import { createKeyFileSecretBox } from '../../src/main/store/secret-box'
import { startServe, type ServeProcess } from './headless-process'
import { httpRpc } from './node-rpc'
import { waitFor } from './scripted-server'
import { createTestDatabase, type TestDatabase } from './postgres-test-database'

export class SharedStoreRun {
  private readonly serves: ServeProcess[] = []
  private readonly dirs: string[] = []
  private readonly cleanups: (() => Promise<unknown> | unknown)[] = []

  private constructor(
    readonly anvil: AnvilProcess,
    readonly traffic: TrafficGenerator,
    readonly database: TestDatabase,
  ) {}

  static async start(): Promise<SharedStoreRun> {
    const anvil = await startAnvil({ blockTime: 1 })
    const traffic = await startTrafficGenerator({ httpUrl: anvil.httpUrl, onError: () => undefined })
    return new SharedStoreRun(anvil, traffic, await createTestDatabase())
  }

  /** The demo token, lowercase. */
  get token(): string {
    return this.traffic.tokenAddress.toLowerCase()
  }

  /** A data directory per name, all holding the first one's secret.key (instances sharing a store must). */
  dataDirs(names: string[]): string[] {
    const dirs = names.map((name) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tw-shared-${name}-`))
      this.dirs.push(dir)
      return dir
    })
    createKeyFileSecretBox(dirs[0]!)
    for (const dir of dirs.slice(1)) fs.copyFileSync(path.join(dirs[0]!, 'secret.key'), path.join(dir, 'secret.key'))
    return dirs
  }

  async serve(args: string[], dataDir: string): Promise<ServeProcess> {
    const serve = await startServe(args, dataDir)
    this.serves.push(serve)
    return serve
  }

  /** Run at close(), before the anvil and the database go. */
  onClose(cleanup: () => Promise<unknown> | unknown): void {
    this.cleanups.push(cleanup)
  }

  /** A call to the anvil itself: the reference answers. */
  rpc<T>(method: string, params: unknown[] = []): Promise<T> {
    return httpRpc<T>(this.anvil.httpUrl, method, params)
  }

  async head(): Promise<number> {
    return Number(await this.rpc<string>('eth_blockNumber'))
  }

  /**
   * Waits until a reorg of `depth` blocks stays within the blocks the capturer tracks: the
   * head at least `depth` blocks above the first tracked one (chain_cursor.first_block). A
   * deeper fork is older than anything stored: the tracker re-anchors, and what it delivered
   * below cannot be taken back, nor a cursor there resolved (chain-tracker.ts), which is not
   * what these tests are about. Anvil mines a block a second, slower or faster than the
   * instances start under load.
   */
  async untilReorgFits(depth: number, timeoutMs = 30_000): Promise<void> {
    const client = new pg.Client({ connectionString: this.database.url })
    await client.connect()
    try {
      const firstTracked = async (): Promise<number | undefined> => {
        const { rows } = await client.query<{ first_block: string | number }>('SELECT min(first_block) AS first_block FROM chain_cursor')
        return rows[0]?.first_block == null ? undefined : Number(rows[0].first_block)
      }
      await waitFor(
        `the head ${depth} blocks above the first tracked one`,
        async () => {
          const first = await firstTracked()
          return first !== undefined && (await this.head()) >= first + depth
        },
        timeoutMs,
      )
    } finally {
      await client.end()
    }
  }

  async close(): Promise<void> {
    for (const serve of this.serves) if (serve.alive()) await serve.kill('SIGKILL')
    for (const cleanup of this.cleanups.splice(0).reverse()) await cleanup()
    await this.traffic.stop()
    await this.anvil.stop()
    await this.database.drop()
    for (const dir of this.dirs) fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** eth_getLogs' logs as `blockHash:logIndex` keys, sorted. */
export const logKeys = (logs: { blockHash: string; logIndex: string }[]): string[] => logs.map((l) => `${l.blockHash}:${Number(l.logIndex)}`).sort()

// The embedded demo chain: a local anvil node plus a traffic generator that
// keeps it busy, so Tidewatch can be tried without any external RPC endpoint.

import type { Address } from 'viem'
import { startAnvil } from './anvil-process'
import { startTrafficGenerator, type TrafficGenerator } from './traffic-generator'

export interface DemoChainOptions {
  /** Seconds between blocks (default 2). Must be > 0: the traffic generator reacts to new blocks. */
  blockTime?: number | undefined
  /** TCP port for anvil; 0 or undefined picks a free one. */
  port?: number | undefined
  /** DemoToken artifact; defaults to build/contracts/DemoToken.json under process.cwd(). */
  artifactPath?: string | undefined
  /** Token transfers per block (default 2). */
  transfersPerBlock?: number | undefined
  /** Background traffic errors; defaults to console.warn. */
  onError?: ((e: Error) => void) | undefined
}

export interface DemoChain {
  wsUrl: string
  httpUrl: string
  tokenAddress: Address
  /** Dev accounts taking part in the traffic. */
  accounts: Address[]
  /** Block containing the DemoToken deployment. */
  deployBlockNumber: bigint
  /** Process id of the anvil child. */
  pid: number
  /** Stops the traffic generator, then anvil. Idempotent. */
  stop(): Promise<void>
}

export async function startDemoChain(options: DemoChainOptions = {}): Promise<DemoChain> {
  const blockTime = options.blockTime ?? 2
  if (!(blockTime > 0)) {
    // With automine every tx mines a block, and the generator sends txs on
    // every block: that would turn into a busy loop.
    throw new Error(`demo chain blockTime must be > 0 (got ${blockTime})`)
  }
  const anvil = await startAnvil({ port: options.port, blockTime, dieWithParent: true })
  let traffic: TrafficGenerator
  try {
    traffic = await startTrafficGenerator({
      httpUrl: anvil.httpUrl,
      artifactPath: options.artifactPath,
      transfersPerBlock: options.transfersPerBlock,
      onError: options.onError,
    })
  } catch (err) {
    // Don't leak the node if deployment/seeding failed.
    await anvil.stop()
    throw err
  }

  let stopping: Promise<void> | undefined
  return {
    wsUrl: anvil.wsUrl,
    httpUrl: anvil.httpUrl,
    tokenAddress: traffic.tokenAddress,
    accounts: traffic.accounts,
    deployBlockNumber: traffic.deployBlockNumber,
    pid: anvil.pid,
    stop: () => {
      // Generator first, so it does not report errors for a node that is going away.
      stopping ??= traffic.stop().finally(() => anvil.stop())
      return stopping
    },
  }
}

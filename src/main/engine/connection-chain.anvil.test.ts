/** A connection learns its chain from eth_chainId, keeps it and its own confirmation count across restarts, and reads token metadata through its socket. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPublicClient, createWalletClient, http } from 'viem'
import type { ConnectionStatus, TokenMetadata } from '../../shared/contract'
import { startAnvil, type AnvilProcess } from '../demo/anvil-process'
import { loadDemoTokenArtifact } from '../demo/traffic-generator'
import { createKeyFileSecretBox } from '../store/secret-box'
import { Engine } from './engine'

let anvil: AnvilProcess
let dataDir: string
const engines: Engine[] = []

function openEngine(confirmations?: number): Engine {
  const engine = new Engine({ dataDir, secrets: createKeyFileSecretBox(dataDir), ...(confirmations !== undefined ? { confirmations } : {}) })
  engines.push(engine)
  return engine
}

function nextStatus(engine: Engine, accept: (status: ConnectionStatus) => boolean): Promise<ConnectionStatus> {
  return new Promise((resolve) => {
    const listener = (status: ConnectionStatus): void => {
      if (!accept(status)) return
      engine.off('status', listener)
      resolve(status)
    }
    engine.on('status', listener)
  })
}

beforeAll(async () => {
  anvil = await startAnvil()
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-chain-'))
})

afterAll(async () => {
  for (const engine of engines) await engine.close()
  await anvil?.stop()
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
})

describe('a connection and its chain', () => {
  it('learns the chain id, takes its own confirmations, remembers both, and yields to serve --confirmations', async () => {
    const engine = openEngine()
    const known = nextStatus(engine, (status) => status.chain !== null)
    const added = engine.connections.add({ url: anvil.wsUrl })
    expect(added.confirmations).toBeNull()
    expect((await known).chain).toEqual({
      chainId: 31337,
      name: 'Anvil',
      nativeSymbol: 'ETH',
      explorerUrl: null,
      testnet: false,
      confirmations: 64,
      confirmationsSource: 'generic',
    })

    const updated = engine.connections.update(added.id, { confirmations: 12 })
    expect(updated.confirmations).toBe(12)
    expect(updated.status.chain).toMatchObject({ chainId: 31337, confirmations: 12, confirmationsSource: 'connection' })
    expect(() => engine.connections.update(999, { confirmations: 1 })).toThrow(/no connection 999/)
    await engine.close()

    // Not started: the chain and the setting come from the store.
    const reopened = openEngine()
    const [row] = reopened.connections.list()
    expect(row).toMatchObject({
      confirmations: 12,
      status: { state: 'stopped', chain: { chainId: 31337, name: 'Anvil', confirmations: 12, confirmationsSource: 'connection' } },
    })
    expect(reopened.connections.update(row!.id, { confirmations: null }).status.chain).toMatchObject({ confirmations: 64, confirmationsSource: 'generic' })
    await reopened.close()

    const overridden = openEngine(3)
    expect(overridden.connections.list()[0]!.status.chain).toMatchObject({ confirmations: 3, confirmationsSource: 'command-line' })
    await overridden.close()
  })

  it('reads a token’s symbol and decimals through the connection and announces them', async () => {
    const wallet = createWalletClient({ transport: http(anvil.httpUrl) })
    const [deployer] = await wallet.getAddresses()
    const artifact = await loadDemoTokenArtifact()
    const hash = await wallet.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, account: deployer!, chain: null })
    const client = createPublicClient({ transport: http(anvil.httpUrl) })
    const token = (await client.waitForTransactionReceipt({ hash, pollingInterval: 50 })).contractAddress!.toLowerCase()

    const engine = openEngine()
    engine.start()
    const [connection] = engine.connections.list()
    const resolved = new Promise<TokenMetadata[]>((resolve) => engine.once('tokensResolved', resolve))
    expect(engine.tokens.lookup(connection!.id, [token])).toEqual([])
    expect(await resolved).toEqual([{ connectionId: connection!.id, address: token, symbol: 'TWD', decimals: 18 }])
    expect(engine.tokens.lookup(connection!.id, [token])).toEqual([{ connectionId: connection!.id, address: token, symbol: 'TWD', decimals: 18 }])
  })
})

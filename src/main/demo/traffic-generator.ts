// Generates a steady stream of on-chain activity on the demo anvil node so the
// monitor has something to show: it deploys DemoToken, spreads tokens across
// anvil's default dev accounts and then, on every new block, sends a few random
// token transfers (Transfer logs), now and then an approval (Approval log) and
// a plain ETH transfer (so blocks are not only token txs).

import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  erc20Abi,
  http,
  isHex,
  parseEther,
  type Abi,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import { mnemonicToAccount, type LocalAccount } from 'viem/accounts'

export interface DemoTokenArtifact {
  abi: Abi
  bytecode: Hex
  sourceHash?: string
}

export interface TrafficGeneratorOptions {
  httpUrl: string
  /** Defaults to build/contracts/DemoToken.json under process.cwd(). */
  artifactPath?: string | undefined
  /** Token transfers sent per new block (default 2). */
  transfersPerBlock?: number | undefined
  /** How often to look for a new block, in ms (default 500). */
  pollIntervalMs?: number | undefined
  /** Receives every error of the background loop; defaults to console.warn. */
  onError?: ((e: Error) => void) | undefined
}

export interface TrafficGenerator {
  tokenAddress: Address
  /** The dev accounts that send and receive traffic (index 0 deployed the token). */
  accounts: Address[]
  /** Block that contains the token deployment (and its initial mint Transfer). */
  deployBlockNumber: bigint
  /** Stops the loop and waits for an in-flight round of transactions to finish. Idempotent. */
  stop(): Promise<void>
}

/** anvil's well-known dev mnemonic; every account starts with 10 000 ETH. */
export const ANVIL_DEV_MNEMONIC = 'test test test test test test test test test test test junk'
/** Accounts 0..5 take part in the traffic. */
const ACCOUNT_COUNT = 6
const DEFAULT_ARTIFACT = 'build/contracts/DemoToken.json'
const COMPILE_SCRIPT = 'scripts/compile-contracts.mjs'
const ONE_TOKEN = 10n ** 18n
const DISTRIBUTION_PER_ACCOUNT = 1_000_000n * ONE_TOKEN

export function defaultArtifactPath(): string {
  return resolve(process.cwd(), DEFAULT_ARTIFACT)
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e))
}

function parseArtifact(json: unknown, path: string): DemoTokenArtifact {
  if (typeof json !== 'object' || json === null) throw new Error(`${path}: not a JSON object`)
  const abi: unknown = Reflect.get(json, 'abi')
  const bytecode: unknown = Reflect.get(json, 'bytecode')
  const sourceHash: unknown = Reflect.get(json, 'sourceHash')
  if (!Array.isArray(abi)) throw new Error(`${path}: "abi" is not an array`)
  if (typeof bytecode !== 'string' || !isHex(bytecode) || bytecode.length <= 2) {
    throw new Error(`${path}: "bytecode" is not a 0x-prefixed hex string`)
  }
  // The ABI comes straight from solc; its element shape is trusted.
  const artifact: DemoTokenArtifact = { abi: abi as Abi, bytecode }
  if (typeof sourceHash === 'string') artifact.sourceHash = sourceHash
  return artifact
}

/**
 * Runs scripts/compile-contracts.mjs (the single implementation of the
 * compile step) in a child Node. ELECTRON_RUN_AS_NODE makes this work from
 * inside Electron too, where process.execPath is the Electron binary.
 */
function runCompileScript(outPath: string): Promise<void> {
  // The artifact normally lives at <root>/build/contracts/, so look next to
  // it first; that works even when the app was not started from the root.
  const candidates = [resolve(dirname(outPath), '..', '..', COMPILE_SCRIPT), resolve(process.cwd(), COMPILE_SCRIPT)]
  const script = candidates.find((c) => existsSync(c))
  if (!script) {
    return Promise.reject(new Error(`${outPath} is missing and ${COMPILE_SCRIPT} was not found (looked at ${candidates.join(', ')})`))
  }
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [script, '--out', outPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      windowsHide: true,
    })
    let output = ''
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8_000)
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    child.once('error', (err) => reject(new Error(`cannot run ${script}: ${err.message}`)))
    child.once('exit', (code, signal) => {
      if (code === 0) resolveRun()
      else reject(new Error(`${script} failed (code ${String(code)}, signal ${String(signal)}):\n${output.trim()}`))
    })
  })
}

/**
 * Reads the DemoToken artifact, compiling it first (via the compile script)
 * if the file does not exist yet.
 */
export async function loadDemoTokenArtifact(path: string = defaultArtifactPath()): Promise<DemoTokenArtifact> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'ENOENT')) throw err
    await runCompileScript(path)
    text = await readFile(path, 'utf8')
  }
  return parseArtifact(JSON.parse(text), path)
}

// ---------------------------------------------------------------------------

function randomInt(maxExclusive: number): number {
  return Math.floor(Math.random() * maxExclusive)
}

/** Two distinct random indices in [0, n). */
function randomPair(n: number): [number, number] {
  const from = randomInt(n)
  const to = (from + 1 + randomInt(n - 1)) % n
  return [from, to]
}

/** 1..1000 tokens with a random fractional part, so values look organic. */
function randomTokenAmount(): bigint {
  return BigInt(1 + randomInt(1000)) * ONE_TOKEN + BigInt(randomInt(1_000_000)) * 10n ** 12n
}

type Clients = {
  publicClient: PublicClient<Transport, Chain>
  walletClient: WalletClient<Transport, Chain>
}

async function createClients(httpUrl: string): Promise<Clients> {
  // Ask the node for its chain id instead of assuming 31337, so the generator
  // also works against an anvil started with --chain-id.
  const probe = createPublicClient({ transport: http(httpUrl) })
  const chainId = await probe.getChainId()
  const chain = defineChain({
    id: chainId,
    name: 'Tidewatch Demo (anvil)',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [httpUrl] } },
  })
  // A local chain answers in milliseconds: poll receipts fast.
  const publicClient = createPublicClient({ chain, transport: http(httpUrl), pollingInterval: 250 })
  const walletClient = createWalletClient({ chain, transport: http(httpUrl), pollingInterval: 250 })
  return { publicClient, walletClient }
}

export async function startTrafficGenerator(options: TrafficGeneratorOptions): Promise<TrafficGenerator> {
  const transfersPerBlock = options.transfersPerBlock ?? 2
  const pollIntervalMs = options.pollIntervalMs ?? 500
  const onError = options.onError ?? ((e: Error) => console.warn('[tidewatch demo traffic]', e.message))

  const artifact = await loadDemoTokenArtifact(options.artifactPath)
  const { publicClient, walletClient } = await createClients(options.httpUrl)
  const signers: LocalAccount[] = Array.from({ length: ACCOUNT_COUNT }, (_, addressIndex) => mnemonicToAccount(ANVIL_DEV_MNEMONIC, { addressIndex }))
  const [deployer, ...others] = signers
  if (!deployer) throw new Error('no deployer account')

  // Deploy. With interval mining the receipt arrives with the next block.
  const deployHash = await walletClient.deployContract({
    abi: artifact.abi,
    bytecode: artifact.bytecode,
    account: deployer,
  })
  const deployReceipt = await publicClient.waitForTransactionReceipt({ hash: deployHash })
  const tokenAddress = deployReceipt.contractAddress
  if (deployReceipt.status !== 'success' || !tokenAddress) {
    throw new Error(`DemoToken deployment failed (tx ${deployHash})`)
  }

  // Seed the other accounts. Sent back to back (nonces come from the pending
  // pool) so they typically land in a single block; then wait for all.
  const seedHashes: Hex[] = []
  for (const account of others) {
    seedHashes.push(
      await walletClient.writeContract({
        address: tokenAddress,
        abi: erc20Abi,
        functionName: 'transfer',
        args: [account.address, DISTRIBUTION_PER_ACCOUNT],
        account: deployer,
      }),
    )
  }
  let lastBlock = deployReceipt.blockNumber
  for (const hash of seedHashes) {
    const receipt = await publicClient.waitForTransactionReceipt({ hash })
    if (receipt.blockNumber > lastBlock) lastBlock = receipt.blockNumber
  }

  // --- the background loop -------------------------------------------------

  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let inFlight: Promise<void> = Promise.resolve()

  // Errors are reported unless we are shutting down, where failures (node
  // already gone, aborted requests) are expected noise.
  const report = (e: unknown): void => {
    if (stopped) return
    try {
      onError(toError(e))
    } catch {
      // A throwing onError must not turn into an unhandled rejection.
    }
  }

  const sendTokenTransfer = async (): Promise<void> => {
    const [fromIndex, toIndex] = randomPair(signers.length)
    const from = signers[fromIndex]
    const to = signers[toIndex]
    if (!from || !to) return
    // Cap the amount by the sender's balance so estimateGas never reverts.
    const balance = await publicClient.readContract({
      address: tokenAddress,
      abi: erc20Abi,
      functionName: 'balanceOf',
      args: [from.address],
    })
    const cap = balance / 10n
    if (cap === 0n) return
    const wanted = randomTokenAmount()
    const amount = wanted < cap ? wanted : cap
    await walletClient.writeContract({
      address: tokenAddress,
      abi: erc20Abi,
      functionName: 'transfer',
      args: [to.address, amount],
      account: from,
    })
  }

  const sendApproval = async (): Promise<void> => {
    const [ownerIndex, spenderIndex] = randomPair(signers.length)
    const owner = signers[ownerIndex]
    const spender = signers[spenderIndex]
    if (!owner || !spender) return
    await walletClient.writeContract({
      address: tokenAddress,
      abi: erc20Abi,
      functionName: 'approve',
      args: [spender.address, randomTokenAmount()],
      account: owner,
    })
  }

  const sendEthTransfer = async (): Promise<void> => {
    const [fromIndex, toIndex] = randomPair(signers.length)
    const from = signers[fromIndex]
    const to = signers[toIndex]
    if (!from || !to) return
    // 0.001 .. 0.1 ETH: the dev accounts hold 10 000 ETH each, so this never runs dry.
    const value = parseEther(((1 + randomInt(100)) / 1000).toString())
    await walletClient.sendTransaction({ account: from, to: to.address, value })
  }

  const onNewBlock = async (): Promise<void> => {
    // Sequential on purpose: each send reads its nonce from the pending pool,
    // which is only correct once the previous tx has been accepted.
    const jobs: Array<() => Promise<void>> = []
    for (let i = 0; i < transfersPerBlock; i++) jobs.push(sendTokenTransfer)
    if (Math.random() < 0.5) jobs.push(sendEthTransfer)
    if (Math.random() < 0.2) jobs.push(sendApproval)
    for (const job of jobs) {
      if (stopped) return
      // One failed tx must not cancel the rest of the round.
      await job().catch(report)
    }
  }

  const tick = async (): Promise<void> => {
    const blockNumber = await publicClient.getBlockNumber({ cacheTime: 0 })
    // One round per observed new block; if several blocks passed since the
    // last poll we still send one round rather than catching up.
    if (blockNumber <= lastBlock) return
    lastBlock = blockNumber
    await onNewBlock()
  }

  // setTimeout chain rather than setInterval so rounds never overlap.
  const schedule = (): void => {
    if (stopped) return
    timer = setTimeout(() => {
      inFlight = tick().catch(report).finally(schedule)
    }, pollIntervalMs)
  }
  schedule()

  let stopping: Promise<void> | undefined
  return {
    tokenAddress,
    accounts: signers.map((s) => s.address),
    deployBlockNumber: deployReceipt.blockNumber,
    stop: () => {
      stopping ??= (async () => {
        stopped = true
        if (timer) clearTimeout(timer)
        await inFlight
      })()
      return stopping
    },
  }
}

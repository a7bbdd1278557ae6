/**
 * A contract of raw bytecode that emits `Tick(uint256 indexed i)` n times per call, n being
 * the first calldata word: enough to shape a chain's logs (how many, from how many
 * contracts) without a compiler.
 *
 *   00 PUSH1 0 CALLDATALOAD          n
 *   03 JUMPDEST DUP1 ISZERO PUSH1 37 JUMPI
 *   09 DUP1 PUSH32 TICK PUSH1 0 PUSH1 0 LOG2     Tick(i = n)
 *   48 PUSH1 1 SWAP1 SUB PUSH1 03 JUMP           n - 1
 *   55 JUMPDEST STOP
 */
import { keccak256, toHex, type Hex } from 'viem'

export const TICK_TOPIC = keccak256(toHex('Tick(uint256)'))

const RUNTIME = `600035` + `5b801560375780` + `7f${TICK_TOPIC.slice(2)}` + `60006000a2` + `600190036003565b00`
/** CODECOPY the runtime (after these 12 bytes) and RETURN it. */
export const EMITTER_INIT_CODE: Hex = `0x60${(RUNTIME.length / 2).toString(16)}600c60003960${(RUNTIME.length / 2).toString(16)}6000f3${RUNTIME}`

/** Calldata for `count` logs. */
export const emitCalldata = (count: number): Hex => `0x${count.toString(16).padStart(64, '0')}`

type Request = <T>(method: string, params: unknown[]) => Promise<T>

/** Deploys `count` emitters from the given (unlocked) account; mines them in one block. */
export async function deployEmitters(request: Request, from: string, count: number): Promise<string[]> {
  const hashes: string[] = []
  for (let i = 0; i < count; i++) hashes.push(await request<string>('eth_sendTransaction', [{ from, data: EMITTER_INIT_CODE, gas: '0x30000' }]))
  await request('evm_mine', [])
  const addresses: string[] = []
  for (const hash of hashes) {
    const receipt = await request<{ contractAddress: string | null; status: string }>('eth_getTransactionReceipt', [hash])
    if (!receipt.contractAddress || receipt.status !== '0x1') throw new Error(`emitter deployment ${hash} failed`)
    addresses.push(receipt.contractAddress.toLowerCase())
  }
  return addresses
}

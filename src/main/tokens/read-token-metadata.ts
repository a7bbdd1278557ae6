/**
 * Reads an ERC-20's symbol() and decimals() with eth_call. Tokens disagree on shapes:
 * most answer symbol() with an ABI string, some early ones (MKR, SAI) with a bytes32, and
 * contracts that are no token revert or, with no code at all, answer "0x". A revert or an
 * unreadable answer is a fact about the contract and is kept; a timeout or a dropped
 * socket is not, and is thrown so the caller can ask again later.
 */
import { decodeAbiParameters, hexToString, type Hex } from 'viem'
import type { TokenMetadata } from '../../shared/contract'
import { JsonRpcError } from '../rpc/json-rpc-client'

export type RpcRequest = <T>(method: string, params: readonly unknown[]) => Promise<T>

const SYMBOL_SELECTOR = '0x95d89b41'
const DECIMALS_SELECTOR = '0x313ce567'
/** Longer symbols are cut: a symbol is a label in a row, not a document. */
const MAX_SYMBOL_LENGTH = 24

/** A call that the contract answered with a revert (geth and anvil: code 3 or "execution reverted"). */
export function isExecutionFailure(error: unknown): boolean {
  if (!(error instanceof JsonRpcError)) return false
  return error.code === 3 || /revert|invalid opcode|out of gas|stack underflow|invalid jump/i.test(error.upstreamMessage ?? error.message)
}

/** The call's answer, or null when the contract reverted; other failures are thrown. */
async function call(request: RpcRequest, address: string, data: string): Promise<Hex | null> {
  try {
    const result = await request<unknown>('eth_call', [{ to: address, data }, 'latest'])
    if (typeof result !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(result))
      throw new Error(`eth_call to ${address} answered ${JSON.stringify(result)?.slice(0, 80)}, not hex data`)
    return result as Hex
  } catch (error) {
    if (isExecutionFailure(error)) return null
    throw error
  }
}

/** An ABI string, else a bytes32 with the text left-aligned and zero-padded; null when neither reads as text. */
export function decodeSymbol(data: Hex | null): string | null {
  if (!data || data === '0x') return null
  let text: string | null = null
  if (data.length > 66) {
    try {
      ;[text] = decodeAbiParameters([{ type: 'string' }], data)
    } catch {
      text = null
    }
  }
  if (text === null && data.length === 66) {
    try {
      text = hexToString(data, { size: 32 }).replace(/\0+$/, '')
    } catch {
      text = null
    }
  }
  return text === null ? null : cleanSymbol(text)
}

/** Printable, single-line, trimmed, bounded; empty becomes null. Control and bidi/zero-width characters go, so a symbol cannot reorder the row around it. */
function cleanSymbol(text: string): string | null {
  const printable = text.replace(/[\p{Cc}\p{Cf}\ufffd]/gu, '').trim()
  if (printable === '') return null
  return [...printable].slice(0, MAX_SYMBOL_LENGTH).join('')
}

/** decimals() as a uint8 (some tokens declare uint256: any 32-byte answer up to 255 is accepted). */
export function decodeDecimals(data: Hex | null): number | null {
  if (!data || data.length !== 66) return null
  const value = BigInt(data)
  return value <= 255n ? Number(value) : null
}

export async function readTokenMetadata(request: RpcRequest, connectionId: number, address: string): Promise<TokenMetadata> {
  const [symbol, decimals] = await Promise.all([call(request, address, SYMBOL_SELECTOR), call(request, address, DECIMALS_SELECTOR)])
  return { connectionId, address: address.toLowerCase(), symbol: decodeSymbol(symbol), decimals: decodeDecimals(decimals) }
}

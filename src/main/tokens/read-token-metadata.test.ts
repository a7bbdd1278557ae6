import { describe, expect, it } from 'vitest'
import { encodeAbiParameters, padHex, stringToHex, toHex } from 'viem'
import { JsonRpcError, RequestTimeoutError } from '../rpc/json-rpc-client'
import { decodeDecimals, decodeSymbol, isExecutionFailure } from './read-token-metadata'

describe('symbol() answers', () => {
  it('reads an ABI string and a bytes32', () => {
    expect(decodeSymbol(encodeAbiParameters([{ type: 'string' }], ['USDC']))).toBe('USDC')
    expect(decodeSymbol(padHex(stringToHex('MKR'), { dir: 'right', size: 32 }))).toBe('MKR')
  })

  it('drops control and direction-changing characters and bounds the length', () => {
    expect(decodeSymbol(encodeAbiParameters([{ type: 'string' }], ['\u202eDSU\n']))).toBe('DSU')
    expect(decodeSymbol(encodeAbiParameters([{ type: 'string' }], ['X'.repeat(100)]))).toBe('X'.repeat(24))
  })

  it('has no symbol for nothing, empty text or a bytes32 of zeros', () => {
    expect(decodeSymbol(null)).toBeNull()
    expect(decodeSymbol('0x')).toBeNull()
    expect(decodeSymbol(encodeAbiParameters([{ type: 'string' }], ['']))).toBeNull()
    expect(decodeSymbol(padHex('0x', { size: 32 }))).toBeNull()
  })
})

describe('decimals() answers', () => {
  it('takes a uint8 in a 32-byte word and nothing else', () => {
    expect(decodeDecimals(toHex(6, { size: 32 }))).toBe(6)
    expect(decodeDecimals(toHex(256, { size: 32 }))).toBeNull()
    expect(decodeDecimals('0x')).toBeNull()
    expect(decodeDecimals(null)).toBeNull()
  })
})

describe('which failures are the contract’s answer', () => {
  it('counts reverts, not timeouts or rate limits', () => {
    expect(isExecutionFailure(new JsonRpcError(3, 'eth_call: execution reverted', '0x', 'execution reverted'))).toBe(true)
    expect(isExecutionFailure(new JsonRpcError(-32000, 'eth_call: execution reverted', undefined, 'execution reverted'))).toBe(true)
    expect(isExecutionFailure(new JsonRpcError(-32005, 'eth_call: rate limited', undefined, 'rate limited'))).toBe(false)
    expect(isExecutionFailure(new RequestTimeoutError('eth_call', 10_000))).toBe(false)
  })
})

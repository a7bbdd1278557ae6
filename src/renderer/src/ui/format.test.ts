import { describe, expect, it } from 'vitest'
import type { ChainInfo } from '@shared/contract'
import { explorerUrl } from './explorer'
import { chainName, finalityText, formatGwei, formatNativeAmount, formatTokenAmount, readableUnits } from './format'

const ethereum: ChainInfo = {
  chainId: 1,
  name: 'Ethereum',
  nativeSymbol: 'ETH',
  explorerUrl: 'https://etherscan.io',
  testnet: false,
  confirmations: 65,
  confirmationsSource: 'chain',
}

describe('amounts', () => {
  it('shows an ERC-20 amount with its symbol and decimals', () => {
    expect(formatTokenAmount('349094202000000000000', { symbol: 'TWD', decimals: 18 })).toBe('349.09 TWD')
    expect(formatTokenAmount('1234567890', { symbol: 'USDC', decimals: 6 })).toBe('1,234.57 USDC')
    expect(formatTokenAmount('5', { symbol: 'USDC', decimals: 6 })).toBe('0.000005 USDC')
    expect(formatTokenAmount('1', { symbol: 'TWD', decimals: 18 })).toBe('<0.000001 TWD')
    expect(formatTokenAmount('0', { symbol: 'TWD', decimals: 18 })).toBe('0 TWD')
    expect(formatTokenAmount('42', { symbol: 'NODEC', decimals: 0 })).toBe('42 NODEC')
  })

  it('shows the number alone without a symbol, and nothing without decimals (the raw value stands)', () => {
    expect(formatTokenAmount('2500000000000000000', { symbol: null, decimals: 18 })).toBe('2.5')
    expect(formatTokenAmount('2500000000000000000', { symbol: 'X', decimals: null })).toBeNull()
    expect(formatTokenAmount('2500000000000000000', undefined)).toBeNull()
    expect(formatTokenAmount('not a number', { symbol: 'X', decimals: 18 })).toBeNull()
  })

  it('rounds half up on the exact value, beyond what a float holds', () => {
    expect(readableUnits(1_995n, 3)).toBe('2')
    expect(readableUnits(1_994n, 3)).toBe('1.99')
    expect(readableUnits(123456789012345678901234567890n, 18)).toBe('123,456,789,012.35')
    expect(readableUnits(-1_500_000_000_000_000_000n, 18)).toBe('-1.5')
  })

  it('shows wei in the native currency and gas prices in gwei', () => {
    expect(formatNativeAmount('0xde0b6b3a7640000')).toBe('1 ETH')
    expect(formatNativeAmount('1500000000000000000', 'POL')).toBe('1.5 POL')
    expect(formatNativeAmount('1')).toBe('<0.000001 ETH')
    expect(formatNativeAmount(undefined)).toBeNull()
    expect(formatGwei('12345678901')).toBe('12.35')
    expect(formatGwei('500000000')).toBe('0.50')
    expect(formatGwei('7')).toBe('<0.01')
    expect(formatGwei('0')).toBe('0.00')
  })
})

describe('chains', () => {
  it('names a chain, and an unknown one by its id', () => {
    expect(chainName(ethereum)).toBe('Ethereum')
    expect(chainName({ chainId: 12345, name: null })).toBe('Chain 12345 (unknown)')
    expect(chainName(null)).toBeNull()
  })

  it('says which confirmation count applies and where it comes from', () => {
    expect(finalityText(ethereum)).toBe('Ethereum: 65 confirmations, chain default')
    expect(finalityText({ ...ethereum, chainId: 12345, name: null, confirmations: 64, confirmationsSource: 'generic' })).toBe(
      'Chain 12345 (unknown): 64 confirmations, generic default',
    )
    expect(finalityText({ ...ethereum, confirmations: 1, confirmationsSource: 'connection' })).toBe('Ethereum: 1 confirmation, set for this connection')
    expect(finalityText({ ...ethereum, confirmations: 3, confirmationsSource: 'command-line' })).toBe('Ethereum: 3 confirmations, set by --confirmations')
  })

  it('links blocks, transactions and addresses into the chain’s explorer only when it has one', () => {
    const hash = `0x${'ab'.repeat(32)}`
    const address = `0x${'11'.repeat(20)}`
    expect(explorerUrl(ethereum, 'block', 19_000_000)).toBe('https://etherscan.io/block/19000000')
    expect(explorerUrl(ethereum, 'tx', hash)).toBe(`https://etherscan.io/tx/${hash}`)
    expect(explorerUrl(ethereum, 'address', address)).toBe(`https://etherscan.io/address/${address}`)
    expect(explorerUrl({ explorerUrl: null }, 'tx', hash)).toBeNull()
    expect(explorerUrl(null, 'tx', hash)).toBeNull()
    expect(explorerUrl(ethereum, 'tx', 'javascript:alert(1)')).toBeNull()
    expect(explorerUrl({ explorerUrl: 'http://etherscan.io' }, 'tx', hash)).toBeNull()
  })
})

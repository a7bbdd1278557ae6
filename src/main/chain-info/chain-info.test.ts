import { describe, expect, it, vi } from 'vitest'
import { explorerLinkHandler } from '../electron/external-links'
import { CONFIRMATIONS_BEFORE_CHAIN_ID, GENERIC_CONFIRMATIONS, confirmationsFor, describeChain } from './finality'
import { isKnownExplorerUrl, knownChain } from './known-chains'

describe('chain table (viem/chains)', () => {
  it('names chains and gives their https explorer', () => {
    expect(knownChain(1)).toMatchObject({ name: 'Ethereum', nativeSymbol: 'ETH', explorerUrl: 'https://etherscan.io', testnet: false })
    expect(knownChain(137)).toMatchObject({ name: 'Polygon', nativeSymbol: 'POL', explorerUrl: 'https://polygonscan.com' })
    expect(knownChain(11155111)).toMatchObject({ name: 'Sepolia', testnet: true })
  })

  it('picks one name where viem exports an id several times, and has no explorer for a dev chain', () => {
    expect(knownChain(31337)).toMatchObject({ name: 'Anvil', explorerUrl: null })
  })

  it('knows nothing of a chain viem does not list', () => {
    expect(knownChain(12345)).toBeNull()
  })
})

describe('finality defaults', () => {
  it('uses the per-chain counts (ponder): Ethereum 65, Polygon 200, Arbitrum and OP Mainnet 240', () => {
    expect(describeChain(1)).toMatchObject({ chainId: 1, name: 'Ethereum', confirmations: 65, confirmationsSource: 'chain' })
    expect(describeChain(137)).toMatchObject({ confirmations: 200, confirmationsSource: 'chain' })
    expect(describeChain(42161)).toMatchObject({ name: 'Arbitrum One', confirmations: 240, confirmationsSource: 'chain' })
    expect(describeChain(10)).toMatchObject({ name: 'OP Mainnet', confirmations: 240, confirmationsSource: 'chain' })
  })

  it('gives an unknown chain the generic default and says it is unknown', () => {
    expect(describeChain(12345)).toEqual({
      chainId: 12345,
      name: null,
      nativeSymbol: 'ETH',
      explorerUrl: null,
      testnet: false,
      confirmations: GENERIC_CONFIRMATIONS,
      confirmationsSource: 'generic',
    })
    expect(GENERIC_CONFIRMATIONS).toBe(64)
  })

  it('gives a known chain without a count of its own the generic default', () => {
    expect(describeChain(8453)).toMatchObject({ name: 'Base', confirmations: 64, confirmationsSource: 'generic' })
  })

  it('lets the connection override the chain, and the command line override both', () => {
    expect(describeChain(1, { connection: 12 })).toMatchObject({ confirmations: 12, confirmationsSource: 'connection' })
    expect(describeChain(1, { connection: 0 })).toMatchObject({ confirmations: 0, confirmationsSource: 'connection' })
    expect(describeChain(1, { connection: null })).toMatchObject({ confirmations: 65, confirmationsSource: 'chain' })
    expect(describeChain(1, { connection: 12, commandLine: 3 })).toMatchObject({ confirmations: 3, confirmationsSource: 'command-line' })
  })

  it('before the chain id is known, never calls a block final too early', () => {
    expect(confirmationsFor(null)).toBe(CONFIRMATIONS_BEFORE_CHAIN_ID)
    expect(CONFIRMATIONS_BEFORE_CHAIN_ID).toBe(240)
    expect(confirmationsFor(null, { connection: 7 })).toBe(7)
    expect(confirmationsFor(null, { connection: 7, commandLine: 2 })).toBe(2)
    expect(confirmationsFor(137)).toBe(200)
  })
})

describe('explorer links', () => {
  it('accepts https pages of a known explorer only', () => {
    expect(isKnownExplorerUrl('https://etherscan.io/tx/0x' + 'ab'.repeat(32))).toBe(true)
    expect(isKnownExplorerUrl('https://polygonscan.com/address/0x' + '11'.repeat(20))).toBe(true)
    expect(isKnownExplorerUrl('http://etherscan.io/tx/0x00')).toBe(false)
    expect(isKnownExplorerUrl('https://etherscan.io.example.com/tx/0x00')).toBe(false)
    expect(isKnownExplorerUrl('https://user:pw@etherscan.io/tx/0x00')).toBe(false)
    expect(isKnownExplorerUrl('https://example.com/tx/0x00')).toBe(false)
    expect(isKnownExplorerUrl('javascript:alert(1)')).toBe(false)
    expect(isKnownExplorerUrl('not a url')).toBe(false)
  })

  it('opens explorer pages in the system browser and never a window of the app', () => {
    const openExternal = vi.fn(async () => undefined)
    const log = vi.fn()
    const handler = explorerLinkHandler({ openExternal }, log)
    expect(handler({ url: 'https://etherscan.io/block/1' })).toEqual({ action: 'deny' })
    expect(openExternal).toHaveBeenCalledWith('https://etherscan.io/block/1')
    expect(handler({ url: 'https://example.com/' })).toEqual({ action: 'deny' })
    expect(openExternal).toHaveBeenCalledTimes(1)
    expect(log).toHaveBeenCalledWith(expect.stringContaining('refused to open https://example.com/'))
  })
})

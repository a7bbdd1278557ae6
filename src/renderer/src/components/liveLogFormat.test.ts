import { describe, expect, it } from 'vitest'
import { fakeEvent } from './liveLogTestStore'
import { decodedArgs, eventLabel, formatClock, formatEther, signatureTypes, summarizeDecoded, summarizeOther } from './liveLogFormat'

const ALICE = '0x00000000000000000000000000000000000a11ce'
const BOB = '0x0000000000000000000000000000000000000b0b'

describe('liveLogFormat', () => {
  it('formats the time as HH:MM:SS', () => {
    expect(formatClock(new Date(2024, 0, 2, 3, 4, 5).getTime())).toBe('03:04:05')
  })

  it('reads the argument types of a signature, tuples whole', () => {
    expect(signatureTypes('Transfer(address,address,uint256)')).toEqual(['address', 'address', 'uint256'])
    expect(signatureTypes('Swap((uint256,address),bool[])')).toEqual(['(uint256,address)', 'bool[]'])
    expect(signatureTypes('Ping()')).toEqual([])
  })

  it('pairs decoded arguments with their types', () => {
    const decoded = { event: 'Transfer', signature: 'Transfer(address,address,uint256)', source: 'ERC-20', args: { from: ALICE, to: BOB, value: '1000' } }
    expect(decodedArgs(decoded)).toEqual([
      { name: 'from', type: 'address', value: ALICE },
      { name: 'to', type: 'address', value: BOB },
      { name: 'value', type: 'uint256', value: '1000' },
    ])
  })

  it('summarises a transfer as from → to value, big numbers as given', () => {
    const parts = summarizeDecoded({
      event: 'Transfer',
      signature: 'Transfer(address,address,uint256)',
      source: 'ERC-20',
      args: { from: ALICE, to: BOB, value: '123456789012345678901234567890' },
    })
    expect(parts).toEqual([
      { kind: 'label', text: 'from' },
      { kind: 'address', address: ALICE },
      { kind: 'label', text: '→' },
      { kind: 'address', address: BOB },
      { kind: 'text', text: '123456789012345678901234567…', title: 'value: 123456789012345678901234567890' },
    ])
  })

  it('summarises other events as name value pairs', () => {
    const parts = summarizeDecoded({ event: 'Deposit', signature: 'Deposit(address,uint256)', source: 'WETH', args: { dst: ALICE, wad: '5' } })
    expect(parts).toEqual([
      { kind: 'label', text: 'dst' },
      { kind: 'address', address: ALICE },
      { kind: 'label', text: 'wad' },
      { kind: 'text', text: '5', title: 'wad: 5' },
    ])
  })

  it('shows ether amounts of transactions', () => {
    expect(formatEther('0xde0b6b3a7640000')).toBe('1 ETH')
    expect(formatEther('1500000000000000000')).toBe('1.5 ETH')
    expect(formatEther('1')).toBe('<0.000001 ETH')
    expect(summarizeOther(fakeEvent(1, { kind: 'pending_transaction', address: null, payload: { from: ALICE, value: '0x0' } }))).toBe(
      'value 0 ETH',
    )
  })

  it('names a log by its decoded event, else by topic0', () => {
    const topic0 = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
    expect(eventLabel(fakeEvent(1, { topics: [topic0] })).text).toBe('0xddf2…b3ef')
    expect(eventLabel(fakeEvent(1, { topics: [topic0], decoded: { event: 'Transfer', signature: 'Transfer(address,address,uint256)', source: 'x', args: {} } })).text).toBe('Transfer')
  })
})

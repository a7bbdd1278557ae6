import { describe, expect, it } from 'vitest'
import { fakeEvent } from './test/liveLogTestStore'
import { amountRows, decodedArgs, eventLabel, formatClock, signatureTypes, summarizeDecoded, summarizeOther, tokenAmountArg } from './liveLogFormat'

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

  it('shows ether amounts of transactions, in the chain’s own currency', () => {
    expect(summarizeOther(fakeEvent(1, { kind: 'pending_transaction', address: null, payload: { from: ALICE, value: '0x0' } }))).toBe('value 0 ETH')
    expect(
      summarizeOther(fakeEvent(1, { kind: 'mined_transaction', address: null, payload: { transaction: { from: ALICE, value: '0x14d1120d7b160000' } } }), 'POL'),
    ).toBe('value 1.5 POL')
  })

  it('lists a transaction’s value in ether and its gas prices in gwei, each with the raw value', () => {
    const event = fakeEvent(1, {
      kind: 'pending_transaction',
      address: null,
      payload: { from: ALICE, value: '0xde0b6b3a7640000', maxFeePerGas: '0x2cb417800', maxPriorityFeePerGas: '0x3b9aca00', gasPrice: '0x2cb417800' },
    })
    expect(amountRows(event)).toEqual([
      { label: 'Value', text: '1 ETH', raw: '0xde0b6b3a7640000' },
      { label: 'Gas price', text: '12.00 gwei', raw: '0x2cb417800' },
      { label: 'Max fee', text: '12.00 gwei', raw: '0x2cb417800' },
      { label: 'Priority fee', text: '1.00 gwei', raw: '0x3b9aca00' },
    ])
    expect(amountRows(fakeEvent(2, { kind: 'head', payload: { baseFeePerGas: '0x7' } }))).toEqual([{ label: 'Base fee', text: '<0.01 gwei', raw: '0x7' }])
  })

  it('finds the ERC-20 amount of Transfer, Approval and WETH deposits, not of an ERC-721 Transfer', () => {
    const token = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
    const transfer = {
      event: 'Transfer',
      signature: 'Transfer(address,address,uint256)',
      source: 'ERC-20 Transfer',
      args: { from: ALICE, to: BOB, value: '349094202000000000000' },
    }
    const erc20 = fakeEvent(1, { address: token, topics: ['0xddf2', '0x1', '0x2'], decoded: transfer })
    expect(tokenAmountArg(erc20)).toEqual({ name: 'value', connectionId: erc20.connectionId, token: token.toLowerCase() })
    const erc721 = fakeEvent(2, {
      address: token,
      topics: ['0xddf2', '0x1', '0x2', '0x3'],
      decoded: { ...transfer, source: 'ERC-721 Transfer', args: { from: ALICE, to: BOB, tokenId: '7' } },
    })
    expect(tokenAmountArg(erc721)).toBeNull()
    const deposit = fakeEvent(3, {
      address: token,
      topics: ['0xe1ff', '0x1'],
      decoded: { event: 'Deposit', signature: 'Deposit(address,uint256)', source: 'WETH Deposit', args: { dst: ALICE, wad: '5' } },
    })
    expect(tokenAmountArg(deposit)?.name).toBe('wad')

    const amount = tokenAmountArg(erc20)
    expect(summarizeDecoded(transfer, amount).at(-1)).toEqual({
      kind: 'amount',
      raw: '349094202000000000000',
      connectionId: erc20.connectionId,
      token: token.toLowerCase(),
    })
  })

  it('names a log by its decoded event, else by topic0', () => {
    const topic0 = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
    expect(eventLabel(fakeEvent(1, { topics: [topic0] })).text).toBe('0xddf2…b3ef')
    expect(
      eventLabel(fakeEvent(1, { topics: [topic0], decoded: { event: 'Transfer', signature: 'Transfer(address,address,uint256)', source: 'x', args: {} } }))
        .text,
    ).toBe('Transfer')
  })
})

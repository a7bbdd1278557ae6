import { describe, expect, it } from 'vitest'
import { EMPTY_FILTERS, filtersKey, isDraftEmpty, parseFilters } from './liveLogFilters'

describe('parseFilters', () => {
  it('applies nothing for an empty bar', () => {
    expect(parseFilters(EMPTY_FILTERS)).toEqual({ filters: {}, issues: {}, active: 0 })
    expect(isDraftEmpty(EMPTY_FILTERS)).toBe(true)
  })

  it('turns every field into its events.list filter', () => {
    const parsed = parseFilters({
      subscriptionId: '7',
      kind: 'log',
      address: ' 0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48 ',
      eventName: ' Transfer ',
      fromBlock: '18,000,000',
      toBlock: '18000100',
      text: ' 0xdead ',
    })
    expect(parsed.filters).toEqual({
      subscriptionId: 7,
      kind: 'log',
      address: '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48',
      eventName: 'Transfer',
      fromBlock: 18_000_000,
      toBlock: 18_000_100,
      text: '0xdead',
    })
    expect(parsed.active).toBe(7)
    expect(parsed.issues).toEqual({})
  })

  it('explains a bad address or block and leaves it out until fixed', () => {
    const parsed = parseFilters({ ...EMPTY_FILTERS, address: '0x1234', fromBlock: '-5', toBlock: 'abc', kind: 'bogus' })
    expect(parsed.filters).toEqual({})
    expect(parsed.issues.address).toMatch(/0x followed by 40 hex digits/)
    expect(parsed.issues.fromBlock).toMatch(/whole number/)
    expect(parsed.issues.toBlock).toMatch(/whole number/)
  })

  it('rejects a range that ends before it starts', () => {
    const parsed = parseFilters({ ...EMPTY_FILTERS, fromBlock: '200', toBlock: '100' })
    expect(parsed.filters).toEqual({})
    expect(parsed.issues.toBlock).toMatch(/200 or more/)
  })

  it('keys the same filters the same way whatever their order', () => {
    expect(filtersKey(1, { kind: 'log', text: 'a' })).toBe(filtersKey(1, { text: 'a', kind: 'log' }))
    expect(filtersKey(1, { kind: 'log' })).not.toBe(filtersKey(null, { kind: 'log' }))
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { CapturedEvent } from '../../shared/contract'
import { csvRow } from './event-formats'

/** csvRow before it was written out by hand: every cell through one generic function. */
function referenceCsvRow(e: CapturedEvent): string {
  const cell = (value: unknown): string => {
    if (value === null || value === undefined) return ''
    const text = typeof value === 'string' ? value : JSON.stringify(value)
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
  }
  const cells: unknown[] = [
    e.id,
    new Date(e.receivedAt).toISOString(),
    e.connectionId,
    e.subscriptionIds.join(' '),
    e.kind,
    e.blockNumber,
    e.blockHash,
    e.transactionHash,
    e.logIndex,
    e.address,
    e.topics[0],
    e.topics[1],
    e.topics[2],
    e.topics[3],
    e.data,
    e.removed,
    e.irreversible,
    e.decoded?.event,
    e.decoded ? e.decoded.args : null,
    e.payload,
  ]
  return `${cells.map(cell).join(',')}\n`
}

const text = fc.oneof(fc.string(), fc.constantFrom('a,b', 'say "hi"', 'line\nbreak', 'cr\r', '0xabc'))
const event: fc.Arbitrary<CapturedEvent> = fc.record({
  id: fc.integer({ min: 1 }),
  receivedAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  connectionId: fc.integer({ min: 1, max: 100 }),
  subscriptionIds: fc.array(fc.integer({ min: 1, max: 1000 }), { maxLength: 3 }),
  kind: fc.constantFrom('log', 'new_head', 'pending_tx', 'other') as fc.Arbitrary<CapturedEvent['kind']>,
  blockNumber: fc.option(fc.integer({ min: 0 })),
  blockHash: fc.option(text),
  transactionHash: fc.option(text),
  logIndex: fc.option(fc.integer({ min: 0, max: 5000 })),
  address: fc.option(text),
  topics: fc.array(text, { maxLength: 4 }),
  data: fc.option(text),
  removed: fc.boolean(),
  irreversible: fc.boolean(),
  decoded: fc.option(fc.record({ event: text, signature: text, source: text, args: fc.dictionary(fc.string(), fc.oneof(text, fc.integer(), fc.boolean())) })),
  payload: fc.oneof(fc.constant(null), fc.jsonValue(), fc.double()),
})

describe('event formats', () => {
  it('writes every CSV row as the generic cell function did', () => {
    fc.assert(
      fc.property(event, (e) => {
        expect(csvRow(e)).toBe(referenceCsvRow(e))
      }),
      { numRuns: 3000 },
    )
  })
})

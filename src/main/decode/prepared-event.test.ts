import fc from 'fast-check'
import { checksumAddress, decodeEventLog, encodeAbiParameters, encodeEventTopics, parseAbiItem, toEventSelector, type AbiEvent, type Hex } from 'viem'
import { describe, expect, it } from 'vitest'
import { BUILT_IN_EVENTS } from '../../shared/event-catalog'
import { eventSignature } from './abi-input'
import { checksumAddressAt, fastKeccakReady } from './address-checksum'
import { EventDecoder, viemArgs } from './event-decoder'
import { FALLBACK, NO_MATCH, prepareEvent } from './prepared-event'

const USER_EVENTS = [
  'event Mixed(bytes32 indexed id, int8 small, bytes4 tag, bool flag, uint48 when, int256 delta, address indexed who)',
  'event Note(address indexed who, string text, bytes blob, uint256[] ids)',
  'event Tagged(string indexed tag, uint256 value)',
  'event Unnamed(address indexed, uint256)',
  'event Empty()',
].map((signature) => parseAbiItem(signature) as AbiEvent)
const EVENTS = [...BUILT_IN_EVENTS.map((e) => parseAbiItem(e.signature) as AbiEvent), ...USER_EVENTS]

/** The decoder before prepared events: viem for every candidate, in the same order. */
function referenceDecoder(userEvents: AbiEvent[]) {
  const bySelector = new Map<string, { event: AbiEvent; source: string }[]>()
  const indexing = (event: AbiEvent) => event.inputs.map((i) => (i.indexed ? '1' : '0')).join('')
  const add = (event: AbiEvent, source: string) => {
    const selector = toEventSelector(event).toLowerCase()
    const list = bySelector.get(selector) ?? []
    if (!list.some((c) => eventSignature(c.event) === eventSignature(event) && indexing(c.event) === indexing(event))) list.push({ event, source })
    bySelector.set(selector, list)
  }
  for (const event of userEvents) add(event, 'Mine')
  for (const builtIn of BUILT_IN_EVENTS) add(parseAbiItem(builtIn.signature) as AbiEvent, builtIn.label)
  const plain = (value: unknown): unknown =>
    typeof value === 'bigint'
      ? value.toString()
      : Array.isArray(value)
        ? value.map(plain)
        : value && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
          : value
  return (topics: string[], data: string | null) => {
    for (const c of bySelector.get(topics[0] ?? '') ?? []) {
      try {
        const decoded = decodeEventLog({ abi: [c.event], topics: topics as [Hex, ...Hex[]], data: (data ?? '0x') as Hex, strict: true })
        return { event: c.event.name, signature: eventSignature(c.event), source: c.source, args: plain(decoded.args) }
      } catch {
        // next candidate
      }
    }
    return null
  }
}

const hexDigits = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length })
/** 32-byte words as logs carry them: small numbers, addresses, negative numbers, 0/1/2, anything. */
const word = fc.oneof(
  hexDigits(64),
  hexDigits(40).map((a) => a.padStart(64, '0')),
  fc.bigInt({ min: 0n, max: 2n ** 64n }).map((n) => n.toString(16).padStart(64, '0')),
  fc.bigInt({ min: 1n, max: 2n ** 60n }).map((n) => ((1n << 256n) - n).toString(16)),
  fc.constantFrom(0, 1, 2).map((n) => n.toString(16).padStart(64, '0')),
)
/** A log for one of EVENTS: well encoded most of the time, else with a topic too many or too few, short data, odd case, a bad digit. */
const log = fc
  .record({
    event: fc.constantFrom(...EVENTS),
    words: fc.array(word, { minLength: 0, maxLength: 10 }),
    topicDelta: fc.constantFrom(0, 0, 0, 0, -1, 1),
    dataDelta: fc.constantFrom(0, 0, 0, 0, -1, 1),
    upper: fc.constantFrom(false, false, false, true),
    corrupt: fc.constantFrom(false, false, false, false, false, true),
    noData: fc.constantFrom(false, false, false, false, true),
  })
  .map(({ event, words, topicDelta, dataDelta, upper, corrupt, noData }) => {
    const indexed = event.inputs.filter((i) => i.indexed).length
    const topicCount = Math.max(0, indexed + topicDelta)
    const wordsOf = (n: number, from: number) => Array.from({ length: n }, (_, i) => words[(from + i) % Math.max(1, words.length)] ?? '0'.repeat(64))
    const topics = [toEventSelector(event), ...wordsOf(topicCount, 0).map((w) => `0x${w}`)]
    const dataWords = Math.max(0, event.inputs.length - indexed + dataDelta)
    let data = noData ? '0x' : `0x${wordsOf(dataWords, 3).join('')}`
    if (upper) data = `0x${data.slice(2).toUpperCase()}`
    if (corrupt && data.length > 10) data = `${data.slice(0, 9)}g${data.slice(10)}`
    return { event, topics, data }
  })

const A = '0x1111111111111111111111111111111111111111'

describe('prepared events', () => {
  it('checksums addresses as viem does, in either case, and refuses a non-hex digit', async () => {
    // The WebAssembly keccak the export path uses, once loaded.
    await fastKeccakReady
    fc.assert(
      fc.property(hexDigits(40), fc.boolean(), (digits, upper) => {
        const address = `0x${upper ? digits.toUpperCase() : digits}`
        const expected = checksumAddress(address as Hex)
        expect(checksumAddressAt(`0x${'0'.repeat(24)}${address.slice(2)}`, 26)).toBe(expected)
        // Again from the cache, then in the other case, and an address in the same cache slot.
        expect(checksumAddressAt(`,${address}`, 3)).toBe(expected)
        expect(checksumAddressAt(upper ? digits : digits.toUpperCase(), 0)).toBe(expected)
        const neighbour = `${digits.slice(20)}${digits.slice(0, 16)}${digits.slice(36)}`
        expect(checksumAddressAt(neighbour, 0)).toBe(checksumAddress(`0x${neighbour}`))
        expect(checksumAddressAt(address, 2)).toBe(expected)
      }),
      { numRuns: 2000 },
    )
    expect(checksumAddressAt(`0x${'1'.repeat(39)}z`, 2)).toBeNull()
  })

  it('prepares only events of named static words', () => {
    const prepared = (signature: string) => prepareEvent(parseAbiItem(signature) as AbiEvent) !== null
    expect(prepared('event Transfer(address indexed from, address indexed to, uint256 value)')).toBe(true)
    expect(
      prepared(
        'event Swap(address indexed sender, address indexed recipient, int256 amount0, int256 amount1, uint160 sqrtPriceX96, uint128 liquidity, int24 tick)',
      ),
    ).toBe(true)
    expect(prepared('event Note(address indexed who, string text)')).toBe(false)
    expect(prepared('event Batch(uint256[] ids)')).toBe(false)
    expect(prepared('event Unnamed(address indexed, uint256)')).toBe(false)
    expect(prepared('event Empty()')).toBe(false)
  })

  it('decodes each event exactly as viem does, or leaves the log to viem', () => {
    const answered = { args: 0, noMatch: 0 }
    fc.assert(
      fc.property(log, ({ event: encoded, topics, data }) => {
        // Every event with the log's selector (ERC-20 and ERC-721 Transfer share one), as the decoder tries them.
        for (const event of EVENTS.filter((e) => toEventSelector(e) === toEventSelector(encoded))) {
          const prepared = prepareEvent(event)
          if (!prepared) continue
          const fast = prepared.decode(topics, data)
          if (fast === FALLBACK) continue
          const slow = viemArgs(event, topics, data)
          answered[fast === NO_MATCH ? 'noMatch' : 'args']++
          if (fast === NO_MATCH) expect(slow).toBe(NO_MATCH)
          else {
            expect(JSON.stringify(fast)).toBe(JSON.stringify(slow))
            expect(fast).toStrictEqual(slow)
          }
        }
      }),
      { numRuns: 5000 },
    )
    // The fast path answered most logs itself (the rest went to viem).
    expect(answered.args).toBeGreaterThan(500)
    expect(answered.noMatch).toBeGreaterThan(200)
  })

  it('EventDecoder gives what it gave with viem alone, for every log', () => {
    const decoder = new EventDecoder([{ name: 'Mine', events: USER_EVENTS }])
    const reference = referenceDecoder(USER_EVENTS)
    let fast = 0
    fc.assert(
      fc.property(log, ({ topics, data }) => {
        const got = decoder.decode(topics, data)
        const want = reference(topics, data)
        expect(JSON.stringify(got)).toBe(JSON.stringify(want))
        expect(got).toStrictEqual(want)
        if (got) fast++
      }),
      { numRuns: 5000 },
    )
    expect(fast).toBeGreaterThan(1000)
  })

  it('writes the JSON of what it decodes, quotes as asked, for every log', () => {
    const decoder = new EventDecoder([{ name: 'Mine', events: [...USER_EVENTS, parseAbiItem('event Ordered(uint8 indexed b, uint8 a)')] }])
    let fast = 0
    fc.assert(
      fc.property(log, fc.constantFrom('"', '""'), ({ topics, data }, q) => {
        const decoded = decoder.decode(topics, data)
        const json = decoder.decodeJson(topics, data, q)
        if (!decoded) {
          expect(json).toBeNull()
          return
        }
        fast++
        const { args, ...rest } = decoded
        const argsJson = JSON.stringify(args) as string | undefined
        expect(json).toEqual({ event: decoded.event, head: JSON.stringify(rest).slice(0, -1), args: argsJson?.replace(/"/g, q) })
        if (q === '"') expect(`${json!.head}${json!.args === undefined ? '' : `,"args":${json!.args}`}}`).toBe(JSON.stringify(decoded))
      }),
      { numRuns: 5000 },
    )
    expect(fast).toBeGreaterThan(1000)
    // An argument named like an array index goes first in an object: such events are left to viem.
    expect(
      prepareEvent({
        type: 'event',
        name: 'E',
        inputs: [
          { name: 'x', type: 'uint8' },
          { name: '1', type: 'uint8' },
        ],
      }),
    ).toBeNull()
    const e = decoder.decodeJson([toEventSelector('event Ordered(uint8 indexed b, uint8 a)'), `0x${'0'.repeat(63)}1`], `0x${'0'.repeat(63)}2`)
    expect(e?.args).toBe('{"b":1,"a":2}')
  })

  it('decodes well-encoded Transfer, Approval, Swap and dynamic logs like viem', () => {
    const decoder = new EventDecoder([{ name: 'Mine', events: USER_EVENTS }])
    const reference = referenceDecoder(USER_EVENTS)
    const address = hexDigits(40).map((d) => `0x${d}`)
    const uint = fc.bigInt({ min: 0n, max: 2n ** 256n - 1n })
    const cases = fc.oneof(
      fc.tuple(fc.constantFrom('Transfer', 'Approval'), address, address, uint).map(([name, a, b, value]) => {
        const event = parseAbiItem(`event ${name}(address indexed a, address indexed b, uint256 value)`) as AbiEvent
        return { topics: encodeEventTopics({ abi: [event], args: [a, b] }) as string[], data: encodeAbiParameters([{ type: 'uint256' }], [value]) }
      }),
      fc
        .tuple(
          address,
          address,
          fc.bigInt({ min: 1n - 2n ** 255n, max: 2n ** 255n - 1n }),
          fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }),
          fc.integer({ min: -8388608, max: 8388607 }),
        )
        .map(([a, b, amount, liquidity, tick]) => {
          const event = parseAbiItem(BUILT_IN_EVENTS.find((e) => e.label === 'Uniswap V3 Swap')!.signature) as AbiEvent
          return {
            topics: encodeEventTopics({ abi: [event], args: [a, b] }) as string[],
            data: encodeAbiParameters(
              [{ type: 'int256' }, { type: 'int256' }, { type: 'uint160' }, { type: 'uint128' }, { type: 'int24' }],
              [amount, -amount, liquidity, liquidity, tick],
            ),
          }
        }),
      fc.tuple(address, fc.string(), fc.array(uint, { maxLength: 3 })).map(([who, text, ids]) => ({
        topics: encodeEventTopics({ abi: [USER_EVENTS[1]!], args: [who] }) as string[],
        data: encodeAbiParameters([{ type: 'string' }, { type: 'bytes' }, { type: 'uint256[]' }], [text, '0x1234', ids]),
      })),
    )
    fc.assert(
      fc.property(cases, ({ topics, data }) => {
        const got = decoder.decode(topics, data)
        expect(got).not.toBeNull()
        expect(JSON.stringify(got)).toBe(JSON.stringify(reference(topics, data)))
      }),
      { numRuns: 2000 },
    )
    expect(decoder.decode([toEventSelector(USER_EVENTS[0]!), `0x${'0'.repeat(64)}`, `0x${'0'.repeat(24)}${A.slice(2)}`], `0x${'0'.repeat(320)}`)).toMatchObject(
      {
        event: 'Mixed',
        args: { id: `0x${'0'.repeat(64)}`, who: A, small: 0, tag: '0x00000000', flag: false, when: 0, delta: '0' },
      },
    )
  })
})

import { describe, expect, it } from 'vitest'
import { encodeEventTopics, keccak256, pad, parseAbiItem, toEventSelector, toHex, type AbiEvent } from 'viem'
import { BUILT_IN_EVENTS } from '@shared/event-catalog'
import {
  builtInEvent,
  computeEventTopics,
  eventKey,
  findAbiEvent,
  formatEvent,
  indexedArgs,
  parseAbiEvents,
  parseArgValue,
  parseEventSignature,
} from './eventTopics'
import { initialDraft, validateDraft, type SubscriptionDraft } from './subscriptionDraft'

const A = '0x1111111111111111111111111111111111111111'
const B = '0x00000000000000000000000000000000DeaDBeef'
const C = '0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045'

const ERC20_TRANSFER = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)')
const ERC721_TRANSFER = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 indexed tokenId)')
const TRANSFER_SELECTOR = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'

/** viem's own encoding, with the trailing "any" positions (null) a filter leaves out. */
const viemTopics = (event: AbiEvent, args: unknown[]): unknown[] => {
  const topics = encodeEventTopics({ abi: [event], args } as unknown as Parameters<typeof encodeEventTopics>[0]) as unknown[]
  while (topics.length > 0 && topics[topics.length - 1] === null) topics.pop()
  return topics
}

describe('parseEventSignature', () => {
  it('reads the compact form without names or the event keyword', () => {
    const parsed = parseEventSignature('Transfer(address indexed,address indexed,uint256)')
    expect('event' in parsed).toBe(true)
    if (!('event' in parsed)) return
    expect(toEventSelector(parsed.event)).toBe(TRANSFER_SELECTOR)
    expect(indexedArgs(parsed.event).map((arg) => [arg.key, arg.type, arg.position])).toEqual([
      ['arg0', 'address', 1],
      ['arg1', 'address', 2],
    ])
  })

  it('reads the full form with names and a trailing semicolon', () => {
    const parsed = parseEventSignature('  event Transfer(address indexed from, address indexed to, uint256 value);')
    expect('event' in parsed && indexedArgs(parsed.event).map((arg) => arg.key)).toEqual(['from', 'to'])
  })

  it('explains what is wrong', () => {
    const typo = parseEventSignature('Transfer(adress indexed from)')
    expect('error' in typo && typo.error).toContain('adress')
    const broken = parseEventSignature('Transfer(address indexed from')
    expect('error' in broken && broken.error).toMatch(/signature/i)
    expect('error' in parseEventSignature('')).toBe(true)
    expect('error' in parseEventSignature('function transfer(address to, uint256 amount)')).toBe(true)
  })

  it('parses every built-in event', () => {
    BUILT_IN_EVENTS.forEach((_, index) => expect(builtInEvent(index)).not.toBeNull())
    expect(eventKey(builtInEvent(0)!)).toBe('Transfer(address,address,uint256)')
    expect(formatEvent(builtInEvent(0)!)).toBe(BUILT_IN_EVENTS[0]!.signature)
  })
})

describe('parseAbiEvents', () => {
  const jsonAbi = JSON.stringify([
    { type: 'function', name: 'transfer', inputs: [], outputs: [], stateMutability: 'nonpayable' },
    {
      type: 'event',
      name: 'Transfer',
      anonymous: false,
      inputs: [
        { indexed: true, name: 'from', type: 'address' },
        { indexed: true, name: 'to', type: 'address' },
        { indexed: false, name: 'value', type: 'uint256' },
      ],
    },
    {
      type: 'event',
      name: 'Approval',
      inputs: [
        { indexed: true, name: 'owner', type: 'address' },
        { indexed: true, name: 'spender', type: 'address' },
        { indexed: false, name: 'value', type: 'uint256' },
      ],
    },
  ])

  it('lists the events of a JSON ABI and of an artifact', () => {
    for (const text of [jsonAbi, `{"contractName":"T","abi":${jsonAbi}}`]) {
      const parsed = parseAbiEvents(text)
      expect('events' in parsed && parsed.events.map((event) => event.name)).toEqual(['Transfer', 'Approval'])
      if (!('events' in parsed)) return
      expect(findAbiEvent(parsed.events, 'Approval')?.name).toBe('Approval')
      expect(findAbiEvent(parsed.events, 'Transfer(address,address,uint256)')?.name).toBe('Transfer')
    }
  })

  it('accepts human-readable lines', () => {
    const parsed = parseAbiEvents(
      'event Transfer(address indexed from, address indexed to, uint256 value)\nApproval(address indexed owner, address indexed spender, uint256 value)',
    )
    expect('events' in parsed && parsed.events.length).toBe(2)
  })

  it('explains invalid input', () => {
    expect('error' in parseAbiEvents('[{"type":')).toBe(true)
    const noEvents = parseAbiEvents('[{"type":"function","name":"f","inputs":[],"outputs":[]}]')
    expect('error' in noEvents && noEvents.error).toContain('no events')
    expect('error' in parseAbiEvents('{"a":1}')).toBe(true)
  })
})

describe('computeEventTopics', () => {
  it('ERC-20 Transfer from A, to any: [selector, pad(A)] as viem encodes it', () => {
    const result = computeEventTopics(ERC20_TRANSFER, { from: { mode: 'one', text: A }, to: { mode: 'any', text: '' } })
    expect(result.issues).toEqual([])
    expect(result.topics).toEqual([TRANSFER_SELECTOR, pad(A)])
    expect(result.topics).toEqual(viemTopics(ERC20_TRANSFER, [A]))
  })

  it('several senders become one OR position', () => {
    const result = computeEventTopics(ERC20_TRANSFER, { from: { mode: 'several', text: `${A},\n${B}` } })
    expect(result.issues).toEqual([])
    expect(result.topics).toEqual([TRANSFER_SELECTOR, [pad(A), pad(B.toLowerCase() as `0x${string}`)]])
    expect(result.topics).toEqual(viemTopics(ERC20_TRANSFER, [[A, B]]))
  })

  it('an "any" in the middle stays as null; trailing ones are dropped', () => {
    const middle = computeEventTopics(ERC721_TRANSFER, {
      from: { mode: 'any', text: '' },
      to: { mode: 'any', text: '' },
      tokenId: { mode: 'one', text: '42' },
    })
    expect(middle.topics).toEqual([TRANSFER_SELECTOR, null, null, pad(toHex(42n))])
    expect(middle.topics).toEqual(viemTopics(ERC721_TRANSFER, [null, null, 42n]))

    const trailing = computeEventTopics(ERC721_TRANSFER, { to: { mode: 'one', text: C } })
    expect(trailing.topics).toEqual([TRANSFER_SELECTOR, null, pad(C.toLowerCase() as `0x${string}`)])
    expect(computeEventTopics(ERC721_TRANSFER, {}).topics).toEqual([TRANSFER_SELECTOR])
  })

  it('uint256 indexed tokenId accepts decimal and hex', () => {
    const decimal = computeEventTopics(ERC721_TRANSFER, { tokenId: { mode: 'several', text: '1, 0xff\n1000000000000000000000' } })
    expect(decimal.issues).toEqual([])
    expect(decimal.topics[3]).toEqual(viemTopics(ERC721_TRANSFER, [null, null, [1n, 255n, 10n ** 21n]])[3])
  })

  it('hashes indexed strings and bytes, encodes bool, int and bytes32', () => {
    const event = parseAbiItem('event Misc(string indexed name, bytes indexed blob, bool indexed flag)')
    const strings = computeEventTopics(event, {
      name: { mode: 'one', text: 'hello, world' },
      blob: { mode: 'one', text: '0xdeadbeef' },
      flag: { mode: 'one', text: 'true' },
    })
    expect(strings.issues).toEqual([])
    expect(strings.topics[1]).toBe(keccak256(toHex('hello, world')))
    expect(strings.topics[2]).toBe(keccak256('0xdeadbeef'))
    expect(strings.topics).toEqual(viemTopics(event, ['hello, world', '0xdeadbeef', true]))

    const signed = parseAbiItem('event Tick(int24 indexed tick, bytes32 indexed id)')
    const negative = computeEventTopics(signed, {
      tick: { mode: 'one', text: '-5' },
      id: { mode: 'one', text: `0x${'ab'.repeat(32)}` },
    })
    expect(negative.issues).toEqual([])
    expect(negative.topics).toEqual(viemTopics(signed, [-5, `0x${'ab'.repeat(32)}`]))
  })

  it('reports invalid values per argument and leaves them out', () => {
    const result = computeEventTopics(ERC721_TRANSFER, {
      from: { mode: 'one', text: '0x1234' },
      to: { mode: 'several', text: '' },
      tokenId: { mode: 'one', text: '-1' },
    })
    expect(result.issues.map((issue) => issue.key)).toEqual(['from', 'to', 'tokenId'])
    expect(result.issues[0]!.message).toContain('40 hex digits')
    expect(result.issues[2]!.message).toContain('out of range')
    expect(result.topics).toEqual([TRANSFER_SELECTOR])
  })

  it('anonymous events have no selector topic', () => {
    const parsed = parseAbiEvents(JSON.stringify([{ type: 'event', name: 'Anon', anonymous: true, inputs: [{ indexed: true, name: 'who', type: 'address' }] }]))
    if (!('events' in parsed)) throw new Error(parsed.error)
    const event = parsed.events[0]!
    expect(indexedArgs(event)[0]!.position).toBe(0)
    expect(computeEventTopics(event, { who: { mode: 'one', text: A } }).topics).toEqual([pad(A)])
  })
})

describe('parseArgValue', () => {
  it('checks addresses and their checksum', () => {
    expect(parseArgValue('address', C.toLowerCase())).toEqual({ value: C })
    expect('error' in parseArgValue('address', C.replace('d8dA', 'D8dA'))).toBe(true)
  })

  it('checks integer ranges by width', () => {
    expect(parseArgValue('uint8', '255')).toEqual({ value: 255n })
    expect('error' in parseArgValue('uint8', '256')).toBe(true)
    expect(parseArgValue('int8', '-128')).toEqual({ value: -128n })
    expect('error' in parseArgValue('int8', '-129')).toBe(true)
    expect('error' in parseArgValue('uint256', '1.5')).toBe(true)
  })

  it('checks bool and fixed bytes', () => {
    expect(parseArgValue('bool', 'FALSE')).toEqual({ value: false })
    expect('error' in parseArgValue('bool', 'yes')).toBe(true)
    expect('error' in parseArgValue('bytes32', '0x12')).toBe(true)
  })
})

describe('the subscription draft with an event picked', () => {
  const logsDraft = (): SubscriptionDraft => initialDraft('logs')

  it('feeds the computed topics into the spec and the preview', () => {
    const draft = logsDraft()
    draft.eventPicker = { ...draft.eventPicker, source: 'builtin', builtin: 0, args: { from: { mode: 'one', text: A } } }
    const validation = validateDraft(draft)
    expect(validation.issues).toEqual([])
    expect(validation.spec?.params).toEqual({ topics: [TRANSFER_SELECTOR, pad(A)] })
    expect(JSON.parse(validation.preview).params).toEqual(['logs', { topics: [TRANSFER_SELECTOR, pad(A)] }])
  })

  it('keeps the raw rows for when the event is dropped', () => {
    const draft = logsDraft()
    draft.topics = [{ mode: 'one', text: TRANSFER_SELECTOR }]
    draft.eventPicker = { ...draft.eventPicker, source: 'builtin', builtin: 2, args: { tokenId: { mode: 'one', text: '7' } } }
    expect(validateDraft(draft).spec?.params).toEqual({ topics: [TRANSFER_SELECTOR, null, null, pad(toHex(7n))] })
    draft.eventPicker = { ...draft.eventPicker, source: 'none' }
    expect(validateDraft(draft).spec?.params).toEqual({ topics: [TRANSFER_SELECTOR] })
  })

  it('reports argument and signature problems on their fields', () => {
    const draft = logsDraft()
    draft.eventPicker = { ...draft.eventPicker, source: 'builtin', builtin: 0, args: { to: { mode: 'one', text: '0x12' } } }
    expect(validateDraft(draft).issues.map((issue) => issue.field)).toEqual(['event-arg-to'])
    draft.eventPicker = { ...draft.eventPicker, source: 'signature', signature: 'Transfer(adress)' }
    expect(validateDraft(draft).issues.map((issue) => issue.field)).toEqual(['event'])
  })

  it('catches a mistyped checksum in the addresses', () => {
    const draft = logsDraft()
    draft.addresses = `${C}\n${C.replace('d8dA', 'D8dA')}`
    const issues = validateDraft(draft).issues
    expect(issues.map((issue) => issue.field)).toEqual(['addresses'])
    expect(issues[0]!.message).toContain('checksum')
    draft.addresses = `${C}, ${C.toLowerCase()}`
    expect(validateDraft(draft).issues).toEqual([])
  })
})

describe('describeParseError', () => {
  it('keeps what to fix and drops the library version line', () => {
    const typo = parseEventSignature('Transfer(adress indexed from)')
    expect('error' in typo && typo.error).toBe('Unknown type: Type "adress" is not a valid ABI type.')
  })
})

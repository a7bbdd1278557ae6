import { encodeAbiParameters, encodeEventTopics, pad, parseAbiItem } from 'viem'
import { describe, expect, it } from 'vitest'
import { parseAbiInput, AbiInputError } from './abi-input'
import { EventDecoder } from './event-decoder'

const A = '0x1111111111111111111111111111111111111111'
const B = '0x2222222222222222222222222222222222222222'

describe('EventDecoder', () => {
  it('tells ERC-20 from ERC-721 Transfer by what is indexed', () => {
    const decoder = new EventDecoder()
    const erc20 = encodeEventTopics({
      abi: [parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)')],
      eventName: 'Transfer',
      args: { from: A, to: B },
    })
    expect(decoder.decode(erc20 as string[], encodeAbiParameters([{ type: 'uint256' }], [10n ** 18n]))).toEqual({
      event: 'Transfer',
      signature: 'Transfer(address,address,uint256)',
      source: 'ERC-20 Transfer',
      args: { from: A, to: B, value: '1000000000000000000' },
    })
    const erc721 = [...(erc20 as string[]), pad('0x07')]
    expect(decoder.decode(erc721, '0x')).toMatchObject({ source: 'ERC-721 Transfer', args: { tokenId: '7' } })
    expect(decoder.decode([pad('0xdead')], '0x')).toBeNull()
  })

  it('decodes with a pasted ABI or signature and finds selectors by name', () => {
    const events = parseAbiInput('Ping(address indexed,uint256)')
    const decoder = new EventDecoder([{ name: 'Mine', events }])
    const topics = encodeEventTopics({ abi: events, eventName: 'Ping', args: [A] })
    expect(decoder.decode(topics as string[], encodeAbiParameters([{ type: 'uint256' }], [5n]))).toMatchObject({ event: 'Ping', source: 'Mine' })
    expect(decoder.selectorsNamed('ping')).toEqual([topics[0]])
    expect(decoder.selectorsNamed('Transfer')).toHaveLength(1)
    expect(parseAbiInput(JSON.stringify({ abi: [{ type: 'event', name: 'X', inputs: [], anonymous: false }] })).map((e) => e.name)).toEqual(['X'])
    expect(() => parseAbiInput('not a signature(')).toThrow(AbiInputError)
    expect(() => parseAbiInput('[{"type":"function","name":"f","inputs":[],"outputs":[]}]')).toThrow(/no events/)
  })
})

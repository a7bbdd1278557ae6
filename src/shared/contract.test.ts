import { describe, expect, it } from 'vitest'
import { commands, describeZodError } from './contract'

const create = commands['subscriptions.create'].request

function errorFor(spec: unknown) {
  const parsed = create.safeParse({ connectionId: 1, spec })
  if (parsed.success) throw new Error('expected a validation error')
  return describeZodError(parsed.error)
}

describe('subscription parameter validation', () => {
  it('names the field and says what a bad address or topic should look like', () => {
    expect(errorFor({ type: 'logs', params: { address: '0x123' } })).toEqual({
      code: 'invalid_request',
      field: 'spec.params.address',
      message: 'Not an address: expected 0x followed by 40 hex digits',
    })
    expect(errorFor({ type: 'logs', params: { address: ['0x' + 'a'.repeat(40), 'nope'] } })).toMatchObject({
      field: 'spec.params.address.1',
      message: expect.stringMatching(/Not an address/),
    })
    expect(errorFor({ type: 'logs', params: { topics: [null, '0xdead'] } })).toMatchObject({
      field: 'spec.params.topics.1',
      message: expect.stringMatching(/64 hex digits/),
    })
    expect(errorFor({ type: 'logs', params: { topics: [null, null, null, null, null] } })).toMatchObject({ message: 'A log has at most 4 topics' })
    expect(errorFor({ type: 'logs', params: { topics: [[]] } })).toMatchObject({ message: expect.stringMatching(/OR position needs at least one topic/) })
    expect(errorFor({ type: 'alchemy_pendingTransactions', params: { fromAddress: 'x' } })).toMatchObject({
      field: 'spec.params.fromAddress',
      message: expect.stringMatching(/Not an address/),
    })
    expect(errorFor({ type: 'bogus', params: {} })).toMatchObject({ field: 'spec.type' })
  })

  it('accepts the seed examples and lowercases addresses and topics', () => {
    const parsed = create.parse({
      connectionId: 1,
      spec: {
        type: 'logs',
        params: {
          address: '0x8320fe7702b96808f7bbc0d4a888ed1468216cfd',
          topics: ['0xD78A0CB8BB633D06981248B816E7BD33C2A35A6089241D099FA519E361CAB902', null, ['0x' + 'a'.repeat(64), '0x' + 'b'.repeat(64)]],
        },
      },
    })
    expect(parsed.spec.params).toEqual({
      address: '0x8320fe7702b96808f7bbc0d4a888ed1468216cfd',
      topics: ['0xd78a0cb8bb633d06981248b816e7bd33c2a35a6089241d099fa519e361cab902', null, ['0x' + 'a'.repeat(64), '0x' + 'b'.repeat(64)]],
    })
    expect(
      create.parse({
        connectionId: 1,
        spec: { type: 'alchemy_filteredNewFullPendingTransactions', params: { address: '0x6B3595068778DD592e39A122f4f5a5cF09C90fE2' } },
      }).spec.params,
    ).toEqual({
      address: '0x6b3595068778dd592e39a122f4f5a5cf09c90fe2',
    })
  })
})

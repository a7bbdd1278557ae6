/** Results from the upstream become rows only when every quantity fits a JavaScript number exactly. */
import { describe, expect, it } from 'vitest'
import { normalize } from './normalize'

const HASH = `0x${'ab'.repeat(32)}`
const LOG = {
  address: '0x8320fe7702b96808f7bbc0d4a888ed1468216cfd',
  topics: [`0x${'dd'.repeat(32)}`],
  data: '0x01',
  blockNumber: '0x29e87',
  blockHash: HASH,
  transactionHash: HASH,
  transactionIndex: '0x0',
  logIndex: '0x3',
}
const TX = {
  hash: HASH,
  from: '0xa36452fc31f6f482ad823cd1cf5515177d57667f',
  to: '0x6b3595068778dd592e39a122f4f5a5cf09c90fe2',
  blockNumber: '0x10',
  transactionIndex: '0x1',
}
const MAX = '0x1fffffffffffff' // 2^53 - 1
const ABOVE = '0x20000000000000' // 2^53
const U64 = '0xffffffffffffffff'

describe('normalize', () => {
  it('keeps quantities up to 2^53 - 1 exactly', () => {
    expect(normalize('logs', { ...LOG, blockNumber: MAX })).toMatchObject({ ok: true, event: { blockNumber: Number.MAX_SAFE_INTEGER, logIndex: 3 } })
    expect(normalize('alchemy_minedTransactions', { removed: false, transaction: { ...TX, blockNumber: MAX } })).toMatchObject({
      ok: true,
      event: { blockNumber: Number.MAX_SAFE_INTEGER },
    })
  })

  it.each([
    ['logs', { ...LOG, blockNumber: ABOVE }, /^log blockNumber is out of range \(above 9007199254740991/],
    ['logs', { ...LOG, logIndex: U64 }, /^log logIndex is out of range/],
    ['logs', { ...LOG, transactionIndex: 12 }, /^log transactionIndex is not a hex quantity/],
    ['logs', { ...LOG, blockNumber: `0x${'f'.repeat(65)}` }, /^log blockNumber is not a hex quantity/],
    ['logs', { ...LOG, address: '0x1234' }, /^log address is not 20 bytes of hex/],
    ['logs', { ...LOG, topics: ['0x01'] }, /^log topics are not all 32 bytes of hex/],
    ['logs', { ...LOG, blockHash: 7 }, /^log blockHash is not 32 bytes of hex/],
    ['newHeads', { hash: HASH, number: U64 }, /^newHeads result number is out of range/],
    ['newPendingTransactions', { ...TX, blockNumber: U64 }, /^transaction blockNumber is out of range/],
    ['alchemy_pendingTransactions', { ...TX, hash: 'not a hash' }, /^transaction hash is not 32 bytes of hex/],
    ['alchemy_minedTransactions', { removed: false, transaction: { ...TX, transactionIndex: ABOVE } }, /^transaction transactionIndex is out of range/],
    ['alchemy_minedTransactions', { removed: false, transaction: { ...TX, to: { nested: true } } }, /^transaction to is not 20 bytes of hex/],
    ['syncing', { syncing: true, status: { startingBlock: 1, currentBlock: 2 ** 64, highestBlock: 3 } }, /^syncing result currentBlock is not a block number/],
    ['syncing', { startingBlock: '0x0', currentBlock: '0x1', highestBlock: U64 }, /^syncing result highestBlock is not a block number/],
    ['syncing', { syncing: 'yes' }, /^syncing result syncing is not a boolean/],
    ['syncing', 42, /^syncing result is neither a boolean nor an object/],
  ] as const)('rejects %s with the field at fault: %j', (type, raw, message) => {
    const result = normalize(type, raw)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.message).toMatch(message)
  })

  it('accepts the seed syncing payload, an eth_syncing answer and false', () => {
    expect(normalize('syncing', { syncing: true, status: { startingBlock: 674427, currentBlock: 67400, highestBlock: 674432, pulledStates: 0 } }).ok).toBe(true)
    expect(normalize('syncing', { startingBlock: '0x0', currentBlock: '0x1', highestBlock: '0x2' }).ok).toBe(true)
    expect(normalize('syncing', false).ok).toBe(true)
  })
})

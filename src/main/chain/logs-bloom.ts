/**
 * The 2048-bit logs bloom of a block header (Ethereum yellow paper, section 4.3.1): each
 * log adds its address and each topic; a value sets three bits, taken from the first three
 * byte pairs of its keccak256, 11 bits each. viem has no helper for it.
 */
import { keccak256 } from 'viem'
import type { LogFilter } from './watch-types'

/** False only when no log of the block can match: the bloom lacks a value the filter requires. */
export function bloomMayMatch(bloom: string, filter: LogFilter): boolean {
  const bits = Buffer.from(bloom.slice(2), 'hex')
  if (bits.length !== 256) return true
  const has = (value: string): boolean => bloomContains(bits, value)
  if (filter.address && filter.address.length > 0 && !filter.address.some(has)) return false
  for (const position of filter.topics ?? []) {
    if (position === null || position.length === 0) continue
    if (!position.some(has)) return false
  }
  return true
}

/** Whether the bloom has the three bits of this address or topic (hex bytes). */
export function bloomContains(bits: Buffer, value: string): boolean {
  const hash = Buffer.from(keccak256(value as `0x${string}`).slice(2), 'hex')
  for (let pair = 0; pair < 6; pair += 2) {
    const bit = ((hash[pair]! << 8) | hash[pair + 1]!) & 0x7ff
    // Bit 0 is the lowest-order bit of the last byte (big-endian 2048-bit number).
    if ((bits[255 - (bit >> 3)]! & (1 << (bit & 7))) === 0) return false
  }
  return true
}

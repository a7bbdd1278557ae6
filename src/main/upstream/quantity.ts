/**
 * Hex quantities from the upstream, checked before they become JavaScript numbers. Block
 * numbers, timestamps and indexes are stored and compared as numbers, which hold integers
 * exactly only up to 2^53 - 1; a peer may send anything up to 2^256 - 1 (or garbage), and
 * viem's hexToNumber throws on such values where a plain Number() silently rounds.
 */

export type QuantityResult = { ok: true; value: number } | { ok: false; problem: string }

/** 0x and at most 64 hex digits: a 256-bit value, the widest an Ethereum quantity can be. */
const HEX_QUANTITY = /^0x[0-9a-fA-F]{1,64}$/

/** A quantity that must fit a JavaScript number exactly (block numbers, timestamps, indexes). */
export function toSafeNumber(value: unknown): QuantityResult {
  if (typeof value !== 'string' || !HEX_QUANTITY.test(value)) return { ok: false, problem: 'not a hex quantity' }
  const big = BigInt(value)
  if (big > BigInt(Number.MAX_SAFE_INTEGER))
    return { ok: false, problem: `out of range (above ${Number.MAX_SAFE_INTEGER}, the largest number Tidewatch stores exactly)` }
  return { ok: true, value: Number(big) }
}

/** A field that may be absent or null (a pending transaction has no block number). */
export function optionalSafeNumber(record: Record<string, unknown>, field: string): { ok: true; value: number | null } | { ok: false; problem: string } {
  const value = record[field]
  if (value === undefined || value === null) return { ok: true, value: null }
  const parsed = toSafeNumber(value)
  return parsed.ok ? parsed : { ok: false, problem: `${field} is ${parsed.problem}` }
}

/** True for a hex quantity of at most 256 bits (gas, fees, values: kept as decimal strings). */
export function isHexQuantity(value: unknown): value is string {
  return typeof value === 'string' && HEX_QUANTITY.test(value)
}

/** Parses a `newHeads` payload; anything malformed is rejected with the field at fault. */
import { z } from 'zod'
import { isHexQuantity, toSafeNumber } from '../upstream/quantity'

const quantity = z.string().refine(isHexQuantity, 'expected a hex quantity of at most 256 bits')
/** Block numbers and timestamps become JavaScript numbers: above 2^53 - 1 they would be rounded (or throw). */
const safeQuantity = quantity.refine((v) => toSafeNumber(v).ok, `out of range (above ${Number.MAX_SAFE_INTEGER}, the largest number Tidewatch stores exactly)`)
const hash32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte hash')

const rawHeaderSchema = z.looseObject({
  number: safeQuantity,
  hash: hash32,
  parentHash: hash32,
  timestamp: safeQuantity,
  gasUsed: quantity,
  gasLimit: quantity,
  baseFeePerGas: quantity.nullish(),
})

export interface ParsedHead {
  number: number
  hash: string
  parentHash: string
  timestamp: number
  gasUsed: string
  gasLimit: string
  baseFeePerGas: string | null
}

export type ParseResult = { ok: true; head: ParsedHead } | { ok: false; message: string }

export function parseHeader(raw: unknown): ParseResult {
  const parsed = rawHeaderSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    return { ok: false, message: `newHeads payload rejected: ${issue?.path.join('.') || 'header'}: ${issue?.message ?? 'invalid'}` }
  }
  const h = parsed.data
  return {
    ok: true,
    head: {
      number: Number(h.number),
      hash: h.hash.toLowerCase(),
      parentHash: h.parentHash.toLowerCase(),
      timestamp: Number(h.timestamp),
      gasUsed: BigInt(h.gasUsed).toString(),
      gasLimit: BigInt(h.gasLimit).toString(),
      baseFeePerGas: h.baseFeePerGas ? BigInt(h.baseFeePerGas).toString() : null,
    },
  }
}

/** Parses a `newHeads` payload; anything malformed is rejected with the field at fault. */
import { z } from 'zod'
import { hexToBigInt, hexToNumber, isHex } from 'viem'

const quantity = z.string().refine((v) => isHex(v, { strict: true }) && v.length > 2, 'expected a hex quantity')
const hash32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte hash')

const rawHeaderSchema = z.looseObject({
  number: quantity,
  hash: hash32,
  parentHash: hash32,
  timestamp: quantity,
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
      number: hexToNumber(h.number as `0x${string}`),
      hash: h.hash.toLowerCase(),
      parentHash: h.parentHash.toLowerCase(),
      timestamp: hexToNumber(h.timestamp as `0x${string}`),
      gasUsed: hexToBigInt(h.gasUsed as `0x${string}`).toString(),
      gasLimit: hexToBigInt(h.gasLimit as `0x${string}`).toString(),
      baseFeePerGas: h.baseFeePerGas ? hexToBigInt(h.baseFeePerGas as `0x${string}`).toString() : null,
    },
  }
}

/**
 * EIP-55 address checksums for the export path: keccak-256 of the 40 lowercase hex digits
 * read straight from a word of log data or a topic, with a bounded cache because exports
 * repeat the same tokens, routers and holders.
 *
 * The hash is hash-wasm's WebAssembly keccak (about 1 µs an address on the bench machine,
 * against 12.6 µs for noble's JavaScript keccak, the one viem uses), loaded once when this
 * module is first imported; until it is ready (a few milliseconds) or if WebAssembly is
 * unavailable, noble's keccak answers. Both are checked against viem's getAddress.
 */
import { keccak_256 } from '@noble/hashes/sha3'
import { createKeccak, type IHasher } from 'hash-wasm'

let wasm: IHasher | null = null
/** Resolves when the WebAssembly keccak is loaded (or could not be: noble's stays in use). */
export const fastKeccakReady: Promise<void> = createKeccak(256).then(
  (hasher) => {
    wasm = hasher
  },
  () => undefined,
)

const input = new Uint8Array(40)
const output = Buffer.alloc(42, '0x', 'latin1')
const HEX40 = /^[0-9a-f]{40}$/
/**
 * Checksummed addresses by their lowercase digits. Cleared when full: a map kept at its limit
 * by deleting its oldest entry slows down as deleted slots pile up in front.
 */
const cache = new Map<string, string>()
const CACHE_LIMIT = 50_000

function keccak(bytes: Uint8Array): Uint8Array {
  return wasm ? wasm.init().update(bytes).digest('binary') : keccak_256(bytes)
}

/** The checksummed address whose 40 hex digits start at `start` in `hex`; null if they are not hex. */
export function checksumAddressAt(hex: string, start: number): string | null {
  const lower = hex.slice(start, start + 40).toLowerCase()
  const cached = cache.get(lower)
  if (cached !== undefined) return cached
  if (!HEX40.test(lower)) return null
  for (let i = 0; i < 40; i++) input[i] = lower.charCodeAt(i)
  const hash = keccak(input)
  for (let i = 0; i < 40; i++) {
    const digit = input[i]!
    const nibble = (hash[i >> 1]! >> (i & 1 ? 0 : 4)) & 0x0f
    // a-f become A-F where the hash's nibble is 8 or more.
    output[i + 2] = nibble >= 8 && digit >= 97 ? digit - 32 : digit
  }
  const out = output.toString('latin1')
  if (cache.size >= CACHE_LIMIT) cache.clear()
  cache.set(lower, out)
  return out
}
